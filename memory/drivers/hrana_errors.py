"""A libSQL server's failures (through libsql-client and aiohttp) as turnkeep errors.

The shapes were verified against sqld 0.24 over libsql-client 0.3.1: over ``ws`` a
missing token is ``AUTH_HEADER_NOT_FOUND`` and a bad one ``AUTH_JWT_INVALID``; over
``http`` both are HTTP 401 (``SERVER_ERROR``); a write with a read-only token is HTTP
403 over http, while over ws sqld closes the socket (the driver says so itself, see
:class:`memory.drivers.hrana.HranaDriver`). The codes read here are libsql-client's and
sqld's own; SQLite's result codes go through :func:`~memory.drivers.sqlite_errors.from_sqlite_code`.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Final

from memory.drivers.sqlite_errors import (
    from_sqlite_code,
    hint_for,
    short,
    value_or_timeout_error,
)
from memory.errors import (
    ConnectionLostError,
    MemoryLayerError,
    QueryError,
    ReadOnlyError,
    SerializationError,
    StoreAuthError,
    StoreConnectionError,
    StoreTimeoutError,
)

__all__ = ["READ_WRITE_HINT", "AuthRefused", "ServerTimeout", "hrana_error"]

_AUTH_CODES: Final = frozenset(
    {"AUTH_HEADER_NOT_FOUND", "AUTH_JWT_INVALID", "AUTH_JWT_EXPIRED", "AUTH_FAILED"}
)
_LOST_CODES: Final = frozenset({"STREAM_EXPIRED", "WEBSOCKET_CLOSED", "HRANA_WEBSOCKET_ERROR"})
_TOKEN_HINT: Final = "Set TURNKEEP_DB__AUTH_TOKEN (or TURSO_AUTH_TOKEN) to a valid token."
#: What to do when the server refuses a write because the token is read-only.
READ_WRITE_HINT: Final = "Use a read-write token in TURNKEEP_DB__AUTH_TOKEN (or TURSO_AUTH_TOKEN)."


class ServerTimeout(sqlite3.OperationalError):
    """A request the server did not answer in time, as a DB-API error (for yoyo's loop)."""


class AuthRefused(sqlite3.OperationalError):
    """The server refused the token, as a DB-API error yoyo understands.

    Attributes:
        error: the turnkeep error to report.
    """

    def __init__(self, error: StoreAuthError) -> None:
        super().__init__(str(error))
        self.error = error


def _code(exc: BaseException) -> str:
    code = getattr(exc, "sqlite_errorname", None) or getattr(exc, "code", None)
    return code if isinstance(code, str) else ""


def hrana_error(exc: BaseException, *, where: str, action: str = "query") -> MemoryLayerError:
    """Translate what the server driver caught into the most specific turnkeep error.

    Args:
        exc: raised by libsql-client, aiohttp, asyncio or the DB-API layer yoyo uses.
        where: the server, without credentials, named in the message.
        action: ``"open"`` while opening (a failure is then "cannot open"), else a query.
    """
    if isinstance(exc, MemoryLayerError):
        return exc
    if isinstance(exc, AuthRefused):
        return exc.error
    import aiohttp  # deferred like every aiohttp use: the embedded mode never loads it

    text = str(exc)
    code = _code(exc)
    common = value_or_timeout_error(exc, where)
    if common is not None:
        return common
    if isinstance(exc, ServerTimeout):
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
        reason = short(text) or type(exc).__name__
        if action == "open":
            return StoreConnectionError(f"cannot reach {where}: {reason}")
        return ConnectionLostError(f"cannot reach {where}: {reason}")
    known = _server_code(code, text, where)
    if known is not None:
        return known
    if code == "CLIENT_CLOSED":  # libsql-client's own: a call on a closed client
        if action == "open":
            return StoreConnectionError(f"the connection to {where} closed while opening it")
        return ConnectionLostError(
            f"the connection to {where} was closed while a call waited on it (an earlier "
            "call got no answer, so the connection was replaced)"
        )
    if code in _LOST_CODES:
        if action == "open":
            return StoreConnectionError(f"lost the connection to {where}: {short(text)}")
        return ConnectionLostError(f"lost the connection to {where}: {short(text)}")
    known = from_sqlite_code(code, text, where, action)
    if known is not None:
        return known
    if action == "open":
        return StoreConnectionError(f"cannot open {where}: {short(text)}", hint=hint_for(where))
    return QueryError(f"{where}: {short(text)}")


def _server_code(code: str, text: str, where: str) -> MemoryLayerError | None:
    """Errors only a server gives: oversized values, auth, HTTP statuses."""
    if code == "ARGS_INVALID" and "too big" in text:
        return SerializationError(
            f"{where} refused a value as too large: {short(text)}",
            hint="Nothing was stored. The server accepts at most 5 MB per value.",
        )
    if code == "AUTH_HEADER_NOT_FOUND":
        return StoreAuthError(
            f"the server at {where} requires an auth token and none was sent", hint=_TOKEN_HINT
        )
    if code in _AUTH_CODES or "AUTH_" in code:
        return StoreAuthError(
            f"the server refused the auth token for {where}; check TURNKEEP_DB__AUTH_TOKEN",
            hint=_TOKEN_HINT,
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
                hint=READ_WRITE_HINT,
            )
        return StoreConnectionError(f"{where} answered HTTP {status or '?'}: {short(text)}")
    return None
