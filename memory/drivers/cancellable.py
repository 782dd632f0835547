"""A read that stops when its caller stops waiting (search as you type).

Cancelling the task that awaits a call on the database thread does not stop the call
(:class:`~memory.drivers.db_thread.DatabaseThread`): a search for a prefix the person
has already typed past would run to its end, and the search for the newer text would
queue behind it. :func:`cancellable_rows` gives the embedded driver's read a SQLite
progress handler that aborts the statement once the caller has given up: a read still
queued stops at its first steps, one running within about a thousand VM steps. The
handler is set for that read only (calls on the thread run one at a time), so no other
statement can be interrupted. Other drivers run the read as usual (a remote server
finishes it; its answer is dropped).

On the embedded driver the caller first blocks for the rows up to :data:`WAIT_BUDGET`
(:meth:`~memory.drivers.db_thread.DatabaseThread.call_waiting`): a rare word's rows come
back within it without the event loop being woken for them; a cancellation can only
arrive once that wait is over, and then stops the read as above.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar, cast, runtime_checkable

from memory.drivers.base import Driver

__all__ = ["PROGRESS_STEPS", "WAIT_BUDGET", "RunsOnConnection", "cancellable_rows"]

T = TypeVar("T")


@runtime_checkable
class RunsOnConnection(Protocol):
    """A driver that runs a function on its own ``sqlite3`` connection (the embedded
    :class:`~memory.drivers.sqlite_file.SqliteFileDriver`; the SQL layer may not
    import it by name)."""

    def run(self, func: Callable[[sqlite3.Connection], T], *, wait: float = 0.0) -> Awaitable[T]:
        """``func(connection)`` on the database thread; its errors translated. The caller
        blocks up to ``wait`` seconds for the result before it awaits it."""
        ...


#: SQLite VM steps between checks of whether the caller still waits (a few µs).
PROGRESS_STEPS = 1000
#: Seconds the event loop's thread blocks for a read's rows before it awaits them
#: (:meth:`~memory.drivers.db_thread.DatabaseThread.call_waiting`): a rare word's search
#: (~0.2 ms at a million events) comes back within it without waking the event loop;
#: a longer one holds the loop this long at most, then is awaited as before.
WAIT_BUDGET = 0.0005


#: Whether a driver class runs functions on its connection (a protocol ``isinstance``
#: costs ~5 us, paid by every keystroke's search otherwise).
_RUNS_ON_CONNECTION: dict[type, bool] = {}


def _connection_runner(driver: Driver) -> RunsOnConnection | None:
    """``driver`` when it runs functions on its connection, else ``None``."""
    kind = type(driver)
    known = _RUNS_ON_CONNECTION.get(kind)
    if known is None:
        known = _RUNS_ON_CONNECTION[kind] = isinstance(driver, RunsOnConnection)
    return cast(RunsOnConnection, driver) if known else None


async def cancellable_rows(
    driver: Driver, sql: str, args: Sequence[Any] = ()
) -> list[tuple[Any, ...]]:
    """``driver.rows(sql, args)``, stopped early on the embedded driver if cancelled.

    Raises:
        asyncio.CancelledError: the caller was cancelled (the read is abandoned).
        memory.errors.MemoryLayerError: the read failed.
    """
    runner = _connection_runner(driver)
    if runner is None:
        return await driver.rows(sql, args)
    # Not empty once the caller gave up (a list's truth is read and changed atomically
    # under the GIL; a threading.Event costs more to make than the rest of this path).
    gave_up: list[bool] = []

    def read(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
        if gave_up:  # cancelled while queued: not started at all
            return []
        conn.set_progress_handler(lambda: 1 if gave_up else 0, PROGRESS_STEPS)
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.set_progress_handler(None, 0)

    try:
        return await runner.run(read, wait=WAIT_BUDGET)
    except asyncio.CancelledError:
        gave_up.append(True)
        raise
