"""The one reader of ``--since`` / ``--older-than`` values: a span before now or a date.

``30s``, ``30m``, ``12h``, ``7d`` and ``2w`` mean that long before now; anything else
must be an ISO date or date-time (``2026-11-01``, ``2026-11-01T08:00+02:00``; no zone
means UTC). A value that cannot be a stored timestamp (a span reaching before the year
1, a date that is before it in UTC) is refused like a malformed one: a usage error
(exit 2), never an overflow.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta

from memory.records import format_ts
from tui.cli.output import UsageError
from tui.safe_text import safe_line

__all__ = ["FORMS", "moment", "moment_arg", "moment_option"]

#: What a value may look like, for messages and help.
FORMS = "a span like 7d, 12h, 30m or 2w, or a date like 2026-11-01"

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_SPAN = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")


def moment(text: str, now: datetime | None = None) -> str:
    """The stored timestamp ``text`` names (see the module docstring).

    Raises:
        ValueError: neither form, or out of the range of a timestamp; the message says
            which and quotes ``text`` made safe to show.
    """
    shown = safe_line(text, 40)
    match = _SPAN.match(text)
    try:
        if match:
            amount, unit = int(match.group(1)), _UNITS[match.group(2)]
            start = now or datetime.now(UTC)
            return format_ts(start - timedelta(**{unit: amount}))
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return format_ts(value)
    except (OverflowError, ValueError) as exc:
        if match or isinstance(exc, OverflowError):
            raise ValueError(f"{shown!r} reaches outside the dates turnkeep can store") from None
        raise ValueError(f"expected {FORMS}; got {shown!r}") from None


def moment_arg(text: str) -> str:
    """:func:`moment` as an argparse ``type=`` (a bad value is argparse's usage error)."""
    try:
        return moment(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def moment_option(text: str, what: str) -> str:
    """:func:`moment` for option ``what`` read by a command.

    Raises:
        UsageError: a bad value, naming ``what`` (exit 2).
    """
    try:
        return moment(text)
    except ValueError as exc:
        message = str(exc)
        if message.startswith("expected "):
            message = f"{what} expects {message.removeprefix('expected ')}"
        else:
            message = f"{what}: {message}"
        raise UsageError(message) from None
