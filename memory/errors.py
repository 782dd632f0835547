"""The memory layer's error tree; each driver translates its own failures into it.

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
it; ``str(error)`` is the message. Each driver translates its own exceptions into this
tree before they leave it (:func:`memory.drivers.sqlite_errors.sqlite_error`,
:func:`memory.drivers.hrana_errors.hrana_error`), always with ``raise ... from``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

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
