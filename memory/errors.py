"""The memory layer's error tree, and the one place driver errors are translated.

::

    TitledError                       title + message + hint (also the runtime's base)
    └── MemoryLayerError              base of everything the memory layer raises
    ├── StoreConfigError              the target itself is invalid (bad URL, token over plain text)
    ├── StoreConnectionError          cannot open / reach / initialise the database
    │   ├── ConnectionLostError       an open connection broke during a call (retried)
    │   ├── StoreAuthError            the server refused the credentials
    │   ├── NotADatabaseError         the file exists but is not a SQLite database (or is corrupt)
    │   └── StoreTimeoutError         a call got no answer within the configured timeout
    ├── MigrationError                a schema migration failed (names the migration)
    ├── QueryError                    a statement failed after the store was opened
    │   ├── StoreBusyError            contention did not clear within the retry budget
    │   ├── ReadOnlyError             the database or the token does not allow writes
    │   └── ImportConflictError       an imported session id exists with different content
    ├── SerializationError            a payload cannot be stored or read back as JSON
    │   └── BundleFormatError         an export file is malformed (names the line/field)
    ├── NotFoundError                 the session does not exist
    └── ForkPointError                a fork point outside the session's events

Every error carries a short ``title`` and a ``hint`` saying what a person can do about
it; ``str(error)`` is the message. Driver exceptions (``LibsqlError``,
``aiohttp.ClientError``, ``sqlite3.Error``, ``TimeoutError``) are translated into this
tree only by :func:`translate`, always with ``raise ... from``.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from dataclasses import dataclass
from typing import ClassVar

from memory.busy import is_busy_code

__all__ = [
    "BundleFormatError",
    "ConnectionLostError",
    "Explained",
    "ForkPointError",
    "ImportConflictError",
    "MemoryLayerError",
    "MigrationError",
    "NotADatabaseError",
    "NotFoundError",
    "QueryError",
    "ReadOnlyError",
    "SerializationError",
    "StoreAuthError",
    "StoreBusyError",
    "StoreConfigError",
    "StoreConnectionError",
    "StoreTimeoutError",
    "TitledError",
    "explain",
    "translate",
]


class TitledError(Exception):
    """An error a person reads: a short ``title``, the ``message`` and a ``hint``.

    The one implementation of that shape: :class:`MemoryLayerError` and the runtime's
    ``RuntimeLayerError`` both derive from it, and :func:`explain` reads any exception
    into those three parts for every front end.
    """

    title: ClassVar[str] = "turnkeep error"
    default_hint: ClassVar[str] = "Run with --debug for details."

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint


@dataclass(frozen=True, slots=True)
class Explained:
    """What to tell a person about an error (each part on one line)."""

    title: str
    message: str
    hint: str | None

    def line(self) -> str:
        """``title: message`` on one line."""
        return f"{self.title}: {self.message}"


def explain(error: BaseException) -> Explained:
    """The title, message and hint of any error; typed errors carry all three.

    Unexpected errors get a generic title and their type name, never a traceback.
    """
    if isinstance(error, TitledError):
        return Explained(error.title, " ".join(error.message.split()), error.hint)
    text = " ".join(str(error).split()) or type(error).__name__
    return Explained(
        "Unexpected error", f"{type(error).__name__}: {text}", "Run with --debug for details."
    )


class MemoryLayerError(TitledError):
    """Base class of every error the memory layer raises."""

    title: ClassVar[str] = "Memory error"
    default_hint: ClassVar[str] = "Run `turnkeep db status` for details."


class StoreConfigError(MemoryLayerError):
    """The database target is invalid before any connection is attempted."""

    title = "Invalid database configuration"
    default_hint = "Fix TURNKEEP_DB__URL / TURNKEEP_DB__PATH or the config file."


class StoreConnectionError(MemoryLayerError):
    """The database cannot be opened, reached or initialised."""

    title = "Cannot open the database"
    default_hint = "Check the database location and that the server is running."


class ConnectionLostError(StoreConnectionError):
    """A connection that was working broke during a call (dropped, closed, expired)."""

    title = "Lost the database connection"
    default_hint = (
        "turnkeep reconnects and retries; unsaved turns stay queued. Check the server if "
        "this goes on."
    )


class StoreAuthError(StoreConnectionError):
    """The server refused the credentials (missing, invalid, expired or read-only token)."""

    title = "Authentication failed"
    default_hint = "Check TURNKEEP_DB__AUTH_TOKEN (or TURSO_AUTH_TOKEN)."


class NotADatabaseError(StoreConnectionError):
    """The file exists but is not a SQLite database, or is corrupt."""

    title = "Not a turnkeep database"
    default_hint = (
        "Point TURNKEEP_DB__PATH at another file; turnkeep never overwrites a file it cannot read."
    )


class StoreTimeoutError(StoreConnectionError):
    """A call got no answer within the configured timeout."""

    title = "The database did not answer"
    default_hint = "Check the server; raise TURNKEEP_DB__TIMEOUT if it is just slow."


class MigrationError(MemoryLayerError):
    """A schema migration failed; the database was left as it was before it."""

    title = "Migration failed"
    default_hint = (
        "The database was left unchanged. Fix the migration and run `turnkeep db migrate`."
    )

    def __init__(self, message: str, *, migration: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.migration = migration


class QueryError(MemoryLayerError):
    """A statement failed on an open store."""

    title = "Database query failed"


class StoreBusyError(QueryError):
    """Write contention did not clear within the retry budget."""

    title = "Database busy"
    default_hint = "Another process holds the write lock; try again in a moment."


class ReadOnlyError(QueryError):
    """The database file, directory or token does not allow writes."""

    title = "Database is read-only"
    default_hint = "Check file permissions, or use a read-write auth token."


class SerializationError(MemoryLayerError):
    """A payload cannot be encoded to JSON/UTF-8 or decoded back."""

    title = "Cannot serialise event"
    default_hint = "Payloads must be JSON objects of valid Unicode text (no lone surrogates)."


class ImportConflictError(QueryError):
    """Sessions being imported already exist with different content; nothing was written."""

    title = "Import conflict"
    default_hint = (
        "Nothing was imported. Use `turnkeep sessions import --as-new FILE` to import them "
        "under fresh ids."
    )

    def __init__(self, session_ids: tuple[str, ...], *, message: str | None = None) -> None:
        shown = ", ".join(repr(i) for i in session_ids[:5])
        more = f" and {len(session_ids) - 5} more" if len(session_ids) > 5 else ""
        one = len(session_ids) == 1
        noun, verb = ("session", "exists") if one else ("sessions", "exist")
        super().__init__(message or f"{noun} {shown}{more} already {verb} with different content")
        self.session_ids = session_ids


class BundleFormatError(SerializationError):
    """An export file is malformed, truncated or of an unknown version; nothing was written."""

    title = "Invalid export file"
    default_hint = "Nothing was imported. Use a file written by `turnkeep sessions export`."

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message)
        #: The line/column or field path that is wrong (e.g. ``sessions[2].events[5].seq``).
        self.where = where


class NotFoundError(MemoryLayerError):
    """The requested session does not exist."""

    title = "Session not found"
    default_hint = "List sessions with `turnkeep sessions list`."

    def __init__(self, session_id: str) -> None:
        super().__init__(f"no session with id {session_id!r}")
        self.session_id = session_id


class ForkPointError(MemoryLayerError):
    """A fork point outside the session's events (``--at`` zero, negative or past the end)."""

    title = "Invalid fork point"


_AUTH_CODES = {"AUTH_HEADER_NOT_FOUND", "AUTH_JWT_INVALID", "AUTH_JWT_EXPIRED", "AUTH_FAILED"}
_READONLY_CODES = {
    "SQLITE_READONLY",
    "SQLITE_READONLY_DBMOVED",
    "SQLITE_READONLY_DIRECTORY",
    "SQLITE_READONLY_CANTINIT",
    "SQLITE_READONLY_RECOVERY",
    "SQLITE_PERM",
    "SQLITE_AUTH",
}
_CORRUPT_CODES = {"SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_CORRUPT_VTAB"}
_CANTOPEN_CODES = {"SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL"}


def _sqlite_code(exc: BaseException) -> str | None:
    """Return the SQLite error name carried by a driver exception, if any."""
    code = getattr(exc, "sqlite_errorname", None)
    if isinstance(code, str):
        return code
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) else None


def translate(exc: BaseException, *, where: str, action: str = "query") -> MemoryLayerError:
    """Translate a driver exception into the most specific error of this tree.

    Args:
        exc: the exception raised by sqlite3, libsql-client, aiohttp or asyncio.
        where: a redacted description of the database (a path or a host), named in the
            message so a person knows which database failed.
        action: what was being done ("open", "query", "write"); chooses between a
            connection error and a query error for ambiguous driver failures.

    Returns:
        The translated error; the caller raises it ``from exc``.
    """
    if isinstance(exc, MemoryLayerError):
        return exc
    # Deferred imports keep aiohttp off the import path of the embedded mode.
    import aiohttp

    text = str(exc)
    code = _sqlite_code(exc) or ""
    if isinstance(exc, UnicodeEncodeError):  # sqlite3 cannot bind text with a lone surrogate
        return SerializationError(
            f"text that is not valid Unicode (a lone surrogate) cannot be stored in or "
            f"looked up in {where}"
        )
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return StoreTimeoutError(f"{where} did not answer in time")
    if isinstance(exc, aiohttp.WSServerHandshakeError) and exc.status in (401, 403):
        return StoreAuthError(f"the server refused the auth token for {where}")
    if isinstance(exc, aiohttp.ClientResponseError):
        if exc.status == 401:
            return StoreAuthError(
                f"the server refused the auth token for {where}; check TURNKEEP_DB__AUTH_TOKEN"
            )
        if exc.status == 403:
            return ReadOnlyError(f"the server at {where} does not allow this with the token given")
        return StoreConnectionError(f"{where} answered HTTP {exc.status}")
    if isinstance(exc, (aiohttp.ClientError, ConnectionError, OSError)) and not isinstance(
        exc, sqlite3.Error
    ):
        reason = _short(text) or type(exc).__name__
        if action == "open":
            return StoreConnectionError(f"cannot reach {where}: {reason}")
        return ConnectionLostError(f"cannot reach {where}: {reason}")
    remote = _translate_remote(code, text, where)
    if remote is not None:
        return remote
    if code in _AUTH_CODES or "AUTH_" in code:
        return StoreAuthError(
            f"the server refused the auth token for {where}; check TURNKEEP_DB__AUTH_TOKEN"
        )
    if is_busy_code(code) or "database is locked" in text:
        return StoreBusyError(f"{where} stayed busy: {_short(text)}")
    if code in _READONLY_CODES or "readonly" in text.replace("-", "").lower():
        return ReadOnlyError(f"{where} does not allow writes: {_short(text)}")
    if code == "FOREIGN_DATABASE":
        return NotADatabaseError(f"{where}: {getattr(exc, 'explanation', text)}")
    if code in _CORRUPT_CODES or "not a database" in text or "malformed" in text:
        return NotADatabaseError(f"{where} is not a readable SQLite database: {_short(text)}")
    if code.startswith("SQLITE_FULL") or "disk is full" in text:
        return QueryError(
            f"{where}: the disk is full", hint="Free disk space; queued turns are kept and retried."
        )
    if code.startswith(("SQLITE_IOERR", "SQLITE_FULL")) and action == "open":
        return StoreConnectionError(
            f"cannot open {where}: the disk refused a read or write ({_short(text)}); "
            "the disk may be full",
            hint="Free disk space (or raise the quota or file-size limit), then start "
            "turnkeep again; nothing was changed.",
        )
    if code.startswith("SQLITE_IOERR") and action != "open":
        # What a write past a file-size limit (EFBIG) or onto a failing disk gives.
        return QueryError(
            f"{where}: the disk refused a read or write ({_short(text)})",
            hint="Check free space, quotas and file-size limits, and the disk; "
            "unsaved turns are kept and retried.",
        )
    if code in _CANTOPEN_CODES or (action == "open" and isinstance(exc, sqlite3.Error)):
        return StoreConnectionError(f"cannot open {where}: {_short(text)}", hint=_hint_for(where))
    if code == "CLIENT_CLOSED":
        if action == "open":
            return StoreConnectionError(f"the connection to {where} closed while opening it")
        return ConnectionLostError(
            f"the connection to {where} was closed while a call waited on it (an earlier "
            "call got no answer, so the connection was replaced)"
        )
    if code in {"STREAM_EXPIRED", "WEBSOCKET_CLOSED", "HRANA_WEBSOCKET_ERROR"}:
        if action == "open":
            return StoreConnectionError(f"lost the connection to {where}: {_short(text)}")
        return ConnectionLostError(f"lost the connection to {where}: {_short(text)}")
    if action == "open":
        return StoreConnectionError(f"cannot open {where}: {_short(text)}", hint=_hint_for(where))
    return QueryError(f"{where}: {_short(text)}")


def _hint_for(where: str) -> str:
    """What to check when a database cannot be opened: a file's disk, or a server."""
    if "://" in where:
        return StoreConnectionError.default_hint
    return "Check the database path, its permissions and that its disk has free space."


#: The code :class:`memory.open_remote.BoundedClient` gives a write that sqld answered by
#: closing the WebSocket while the token says it is read-only.
WRITE_REFUSED = "WRITE_REFUSED"
_TOKEN_HINT = "Set TURNKEEP_DB__AUTH_TOKEN (or TURSO_AUTH_TOKEN) to a valid token."
_READ_WRITE_HINT = "Use a read-write token in TURNKEEP_DB__AUTH_TOKEN (or TURSO_AUTH_TOKEN)."


def _translate_remote(code: str, text: str, where: str) -> MemoryLayerError | None:
    """The shapes sqld 0.24 gives over libsql-client, verified against a real server.

    Over ws a missing token is ``AUTH_HEADER_NOT_FOUND`` and a bad one
    ``AUTH_JWT_INVALID``; over http both are HTTP 401 (``SERVER_ERROR``). A write with a
    read-only token is HTTP 403 over http; over ws sqld closes the socket, which
    :class:`memory.open_remote.BoundedClient` reports as :data:`WRITE_REFUSED`.
    """
    if code == "TIMEOUT":
        return StoreTimeoutError(f"{where} did not answer in time")
    if code == "ARGS_INVALID" and "too big" in text:
        return SerializationError(
            f"{where} refused a value as too large: {_short(text)}",
            hint="Nothing was stored. The server accepts at most 5 MB per value.",
        )
    if code == "AUTH_HEADER_NOT_FOUND":
        return StoreAuthError(
            f"the server at {where} requires an auth token and none was sent", hint=_TOKEN_HINT
        )
    if code == WRITE_REFUSED:
        return ReadOnlyError(
            f"the server at {where} refused to write: the auth token is read-only",
            hint=_READ_WRITE_HINT,
        )
    if code == "SERVER_ERROR":
        match = re.search(r"HTTP status (\d{3})", text)
        status = int(match.group(1)) if match else None
        if status == 401:
            return StoreAuthError(
                f"the server refused the auth token for {where}; check TURNKEEP_DB__AUTH_TOKEN",
                hint=_TOKEN_HINT,
            )
        if status == 403:
            return ReadOnlyError(
                f"the server at {where} refused the request with this auth token (HTTP 403): "
                "it does not allow writes",
                hint=_READ_WRITE_HINT,
            )
        return StoreConnectionError(f"{where} answered HTTP {status or '?'}: {_short(text)}")
    return None


def _short(text: str, limit: int = 300) -> str:
    """One line, bounded, for messages that end up in a status bar."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
