"""SQLite's failures as turnkeep errors: the rules both drivers share, and the file's own.

SQLite names every failure with an extended result code (``SQLITE_BUSY``,
``SQLITE_IOERR_SHMSIZE``…): Python's ``sqlite3`` carries it as ``sqlite_errorname``, and
sqld passes the same names through Hrana. :func:`from_sqlite_code` maps those names;
:func:`sqlite_error` is the local file driver's whole translation. Nothing here invents
a code: the names are SQLite's.
"""

from __future__ import annotations

import asyncio
from typing import Final

from memory.busy import is_busy_code
from memory.errors import (
    ConnectionLostError,
    MemoryLayerError,
    NotADatabaseError,
    QueryError,
    ReadOnlyError,
    SerializationError,
    StoreBusyError,
    StoreConnectionError,
    StoreTimeoutError,
)

__all__ = ["from_sqlite_code", "hint_for", "short", "sqlite_error", "value_or_timeout_error"]

_READONLY_CODES: Final = frozenset(
    {
        "SQLITE_READONLY",
        "SQLITE_READONLY_DBMOVED",
        "SQLITE_READONLY_DIRECTORY",
        "SQLITE_READONLY_CANTINIT",
        "SQLITE_READONLY_RECOVERY",
        "SQLITE_PERM",
        "SQLITE_AUTH",
    }
)
_CORRUPT_CODES: Final = frozenset({"SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_CORRUPT_VTAB"})
_CANTOPEN_CODES: Final = frozenset({"SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL"})


def short(text: str, limit: int = 300) -> str:
    """One line, bounded, for messages that end up in a status bar."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def hint_for(where: str) -> str:
    """What to check when a database cannot be opened: a file's disk, or a server."""
    if "://" in where:
        return StoreConnectionError.default_hint
    return "Check the database path, its permissions and that its disk has free space."


def from_sqlite_code(code: str, text: str, where: str, action: str) -> MemoryLayerError | None:
    """The error for a SQLite result code (or its message), or ``None`` if it names none."""
    if is_busy_code(code) or "database is locked" in text:
        return StoreBusyError(f"{where} stayed busy: {short(text)}")
    if code in _READONLY_CODES or "readonly" in text.replace("-", "").lower():
        return ReadOnlyError(f"{where} does not allow writes: {short(text)}")
    if code in _CORRUPT_CODES or "not a database" in text or "malformed" in text:
        return NotADatabaseError(f"{where} is not a readable SQLite database: {short(text)}")
    if code.startswith("SQLITE_FULL") or "disk is full" in text:
        return QueryError(
            f"{where}: the disk is full", hint="Free disk space; queued turns are kept and retried."
        )
    if code.startswith("SQLITE_IOERR") and action == "open":
        return StoreConnectionError(
            f"cannot open {where}: the disk refused a read or write ({short(text)}); "
            "the disk may be full",
            hint="Free disk space (or raise the quota or file-size limit), then start "
            "turnkeep again; nothing was changed.",
        )
    if code.startswith("SQLITE_IOERR"):
        # What a write past a file-size limit (EFBIG) or onto a failing disk gives.
        return QueryError(
            f"{where}: the disk refused a read or write ({short(text)})",
            hint="Check free space, quotas and file-size limits, and the disk; "
            "unsaved turns are kept and retried.",
        )
    if code in _CANTOPEN_CODES:
        return StoreConnectionError(f"cannot open {where}: {short(text)}", hint=hint_for(where))
    return None


def value_or_timeout_error(exc: BaseException, where: str) -> MemoryLayerError | None:
    """What both drivers say about a value that cannot be sent, or a call that timed out."""
    if isinstance(exc, UnicodeEncodeError):  # a lone surrogate cannot be encoded
        return SerializationError(
            f"text that is not valid Unicode (a lone surrogate) cannot be stored in or "
            f"looked up in {where}"
        )
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return StoreTimeoutError(f"{where} did not answer in time")
    return None


def sqlite_error(exc: BaseException, *, where: str, action: str = "query") -> MemoryLayerError:
    """Translate what the local file driver caught into the most specific turnkeep error.

    Args:
        exc: raised by ``sqlite3``, the operating system, or a bound value.
        where: the database file, named in the message.
        action: ``"open"`` while opening (a failure is then "cannot open"), else a query.
    """
    if isinstance(exc, MemoryLayerError):
        return exc
    text = str(exc)
    common = value_or_timeout_error(exc, where)
    if common is not None:
        return common
    if isinstance(exc, OSError):
        reason = short(text) or type(exc).__name__
        if action == "open":
            return StoreConnectionError(f"cannot open {where}: {reason}", hint=hint_for(where))
        return ConnectionLostError(f"cannot use {where}: {reason}")
    code = getattr(exc, "sqlite_errorname", None) or ""
    known = from_sqlite_code(str(code), text, where, action)
    if known is not None:
        return known
    if action == "open":
        return StoreConnectionError(f"cannot open {where}: {short(text)}", hint=hint_for(where))
    return QueryError(f"{where}: {short(text)}")
