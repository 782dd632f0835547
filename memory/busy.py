"""Write contention: which errors mean "busy, try again" and how long to keep trying.

One rule for both modes. SQLite answers a writer that cannot take the lock in time with
``SQLITE_BUSY`` (or one of its extended codes); sqld passes the same codes on. Such a
batch committed nothing, so it is sent again after a short, doubling pause, for at most
:data:`BUSY_RETRY_BUDGET` seconds in all; then the caller gets the busy error (which the
persistence worker keeps retrying with its own, slower backoff).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Final

__all__ = ["BUSY_CODES", "BUSY_RETRY_BUDGET", "busy_pauses", "is_busy_code"]

#: SQLite's error names for a lock that could not be taken (extended codes included).
BUSY_CODES: Final = frozenset(
    {"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_BUSY_SNAPSHOT", "SQLITE_BUSY_RECOVERY"}
)
#: Seconds a busy batch is retried in all, in either mode.
BUSY_RETRY_BUDGET: Final = 20.0
_FIRST_PAUSE: Final = 0.005
_LONGEST_PAUSE: Final = 0.25


def is_busy_code(code: str | None) -> bool:
    """Whether a SQLite error name means the lock was busy."""
    return code in BUSY_CODES


def busy_pauses(budget: float = BUSY_RETRY_BUDGET) -> Iterator[float]:
    """The pauses before each retry of a busy batch, until ``budget`` seconds are spent.

    Doubles from 5 ms up to 250 ms; the last pause is cut so the budget is never
    exceeded. Works for a thread (``time.sleep``) and a loop (``asyncio.sleep``).
    """
    deadline = time.monotonic() + budget
    pause = _FIRST_PAUSE
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        yield min(pause, left)
        pause = min(pause * 2, _LONGEST_PAUSE)
