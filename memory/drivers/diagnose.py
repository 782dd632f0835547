"""Diagnosing a remote failure: was a dropped connection really a refused token?

sqld refuses a token over WebSocket by closing the socket, which looks like a lost
server. Both the app's bounded client (:mod:`memory.open_remote`) and the yoyo backend
(:mod:`memory.schema.yoyo_libsql`) ask the server over HTTP, where a refusal is always a 401.
Kept apart from both so neither imports the other.
"""

from __future__ import annotations

import asyncio

import libsql_client
from libsql_client import LibsqlError

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


async def auth_refusal(
    http_url: str,
    auth_token: str | None,
    timeout: float,  # noqa: ASYNC109 - bounds the request; not a deadline for the caller
) -> LibsqlError | None:
    """Ask the server over HTTP (where a refused token is always a 401) if it refuses us.

    Returns:
        A ``LibsqlError`` with an ``AUTH_*`` code when the server refuses the token,
        else ``None`` (it accepted it, or could not be asked).
    """
    client = libsql_client.create_client(http_url, auth_token=auth_token)
    try:
        await asyncio.wait_for(client.execute("SELECT 1"), timeout)
    except LibsqlError as exc:
        if exc.code == "SERVER_ERROR" and "HTTP status 401" in str(exc):
            if not auth_token:
                return LibsqlError("the server requires an auth token", "AUTH_HEADER_NOT_FOUND")
            return LibsqlError("the server refused the auth token", "AUTH_FAILED")
    except Exception:  # unreachable now: the original error stands
        pass
    finally:
        try:
            await asyncio.wait_for(client.close(), timeout)
        except Exception:
            pass
    return None
