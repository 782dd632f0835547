"""Diagnosing a remote failure: was a dropped connection really a refused token?

sqld refuses a token over WebSocket by closing the socket, which looks like a lost
server. Both the server driver (:mod:`memory.drivers.hrana`) and the yoyo backend
(:mod:`memory.schema.yoyo_libsql`) ask the server over HTTP, where a refusal is always a 401.
Kept apart from both so neither imports the other.
"""

from __future__ import annotations

import asyncio

import libsql_client
from libsql_client import LibsqlError

from memory.errors import StoreAuthError

__all__ = ["auth_refusal", "is_reset"]


def is_reset(exc: BaseException) -> bool:
    """Whether a call failed because the server dropped an established connection.

    sqld refuses a token over ws by answering the hello with an error and closing the
    socket; depending on timing the client sees the auth error or just the reset
    (``Cannot write to closing transport``). An expired token can look the same.
    """
    import aiohttp  # deferred: only the remote mode needs it

    if isinstance(exc, (ConnectionResetError, aiohttp.ServerDisconnectedError)):
        return True
    return isinstance(exc, LibsqlError) and exc.code == "HRANA_WEBSOCKET_ERROR"


_TOKEN_HINT = "Set TURNKEEP_DB__AUTH_TOKEN (or TURSO_AUTH_TOKEN) to a valid token."


async def auth_refusal(
    http_url: str,
    auth_token: str | None,
    timeout: float,  # noqa: ASYNC109 - bounds the request; not a deadline for the caller
    *,
    where: str,
) -> StoreAuthError | None:
    """Ask the server over HTTP (where a refused token is always a 401) if it refuses us.

    Args:
        where: the server as messages name it (no credentials).

    Returns:
        The :class:`~memory.errors.StoreAuthError` when the server refuses the token,
        else ``None`` (it accepted it, or could not be asked).
    """
    client = libsql_client.create_client(http_url, auth_token=auth_token)
    try:
        await asyncio.wait_for(client.execute("SELECT 1"), timeout)
    except LibsqlError as exc:
        if exc.code == "SERVER_ERROR" and "HTTP status 401" in str(exc):
            if not auth_token:
                return StoreAuthError(
                    f"the server at {where} requires an auth token and none was sent",
                    hint=_TOKEN_HINT,
                )
            return StoreAuthError(
                f"the server refused the auth token for {where}; check TURNKEEP_DB__AUTH_TOKEN",
                hint=_TOKEN_HINT,
            )
    except Exception:  # unreachable now: the original error stands
        pass
    finally:
        try:
            await asyncio.wait_for(client.close(), timeout)
        except Exception:
            pass
    return None
