"""Remote libSQL (sqld / Turso): URL policy, bounded calls, and opening.

libsql-client's ws/http clients are lazy and have no client-side timeouts: a server
that accepts and never answers hangs a call forever. :class:`BoundedClient` bounds
every call and replaces a client whose call timed out, so the next call starts on a
fresh connection (the old one is closed in the background).
"""

from __future__ import annotations

import asyncio
import ipaddress
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import libsql_client
from libsql_client import InArgs, InStatement, LibsqlError, ResultSet

from memory.errors import StoreConfigError, translate
from memory.libsql import Clock, LibsqlMemory, utc_now
from memory.migrate import MigrationOutcome

__all__ = ["BoundedClient", "RemoteTarget", "open_remote", "parse_remote_url", "redact_url"]

T = TypeVar("T")

_SECURE = {"libsql", "wss", "https"}
_PLAIN = {"ws", "http"}


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def redact_url(url: str) -> str:
    """Return ``url`` without user info, password or ``authToken`` query parameter."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host + (f":{port}" if port else "")
    query = urllib.parse.urlencode(
        [
            (k, "***" if k.lower() in {"authtoken", "token", "auth_token"} else v)
            for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        ]
    )
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))


@dataclass(frozen=True, slots=True)
class RemoteTarget:
    """A validated remote database target.

    Attributes:
        url: the URL handed to libsql-client (no credentials in it).
        ws_url: the WebSocket URL used for migrations (HTTP has no interactive
            transactions).
        host: host name, for messages.
        display: the URL with credentials redacted.
        loopback: whether the host is on this machine.
    """

    url: str
    ws_url: str
    host: str
    display: str
    loopback: bool


def parse_remote_url(url: str, *, has_token: bool) -> RemoteTarget:
    """Validate a remote URL against turnkeep's policy.

    ``libsql://``, ``wss://`` and ``https://`` are accepted for any host; ``ws://`` and
    ``http://`` only for loopback hosts. A token is required for non-loopback hosts.

    Raises:
        StoreConfigError: the URL is malformed, uses an unsupported or unencrypted scheme
            for a non-loopback host, embeds credentials, or a token is missing.
    """
    display = redact_url(url)
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise StoreConfigError(f"invalid database URL {display}: {exc}") from exc
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if not host:
        raise StoreConfigError(f"the database URL {display} has no host")
    if parts.username or parts.password or "authToken" in parts.query:
        raise StoreConfigError(
            f"the database URL {display} carries credentials",
            hint="Put the token in TURNKEEP_DB__AUTH_TOKEN (or TURSO_AUTH_TOKEN), not the URL.",
        )
    if parts.query or parts.fragment:
        raise StoreConfigError(f"the database URL {display} has unsupported parameters")
    loopback = _is_loopback(host)
    if scheme not in _SECURE | _PLAIN:
        raise StoreConfigError(
            f"unsupported database URL scheme {scheme!r} in {display}",
            hint="Use libsql://, wss:// or https:// (ws:// and http:// only on localhost).",
        )
    if scheme in _PLAIN and not loopback:
        raise StoreConfigError(
            f"refusing to use unencrypted {scheme}:// with {host}: the auth token would be "
            "sent in clear text",
            hint=f"Use {'wss' if scheme == 'ws' else 'https'}:// (or libsql://).",
        )
    if not has_token and not loopback:
        raise StoreConfigError(
            f"an auth token is required for {host}",
            hint="Set TURNKEEP_DB__AUTH_TOKEN (or TURSO_AUTH_TOKEN).",
        )
    netloc = parts.netloc
    path = parts.path
    if scheme == "libsql":
        client_url = urllib.parse.urlunsplit(("wss", netloc, path, "", ""))
    else:
        client_url = urllib.parse.urlunsplit((scheme, netloc, path, "", ""))
    ws_scheme = {"libsql": "wss", "wss": "wss", "https": "wss", "ws": "ws", "http": "ws"}[scheme]
    ws_url = urllib.parse.urlunsplit((ws_scheme, netloc, path, "", ""))
    del port
    return RemoteTarget(client_url, ws_url, host, redact_url(client_url), loopback)


class BoundedClient(libsql_client.Client):  # type: ignore[misc]
    """A libsql-client ``Client`` whose every call is bounded by a timeout.

    Args:
        factory: makes a fresh underlying client (called again after a timeout).
        timeout: seconds one call may take.
    """

    def __init__(self, factory: Callable[[], libsql_client.Client], timeout: float) -> None:
        self._factory = factory
        self._timeout = timeout
        self._inner = factory()
        self._closed = False
        self._retired: set[asyncio.Task[None]] = set()
        self.round_trips = 0

    async def _bounded(self, call: Callable[[libsql_client.Client], Awaitable[T]]) -> T:
        if self._closed:
            raise LibsqlError("The client is closed", "CLIENT_CLOSED")
        inner = self._inner
        self.round_trips += 1
        try:
            return await asyncio.wait_for(call(inner), self._timeout)
        except TimeoutError:
            self._retire(inner)
            raise

    def _retire(self, inner: libsql_client.Client) -> None:
        """Swap in a fresh client; close the hung one in the background, bounded."""
        if inner is not self._inner:
            return
        self._inner = self._factory()

        async def close_old() -> None:
            try:
                await asyncio.wait_for(inner.close(), self._timeout)
            except Exception:  # the old connection is already broken; nothing to report
                pass

        task = asyncio.get_running_loop().create_task(close_old())
        self._retired.add(task)
        task.add_done_callback(self._retired.discard)

    async def execute(self, stmt: InStatement, args: InArgs = None) -> ResultSet:
        """Execute one statement within the timeout."""
        return await self._bounded(lambda c: c.execute(stmt, args))

    async def batch(self, stmts: list[InStatement]) -> list[ResultSet]:
        """Execute a batch (one transaction, one round trip) within the timeout."""
        return await self._bounded(lambda c: c.batch(stmts))

    def transaction(self) -> libsql_client.Transaction:
        """Interactive transactions are not offered: they would hold sqld's write lock."""
        raise LibsqlError("interactive transactions are not supported; use batch()", "NOT_SUPPORTED")

    async def close(self) -> None:
        """Close the client (bounded). Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.wait_for(self._inner.close(), self._timeout)
        except Exception:
            pass
        if self._retired:
            await asyncio.wait(list(self._retired), timeout=self._timeout)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed


async def open_remote(
    url: str,
    *,
    auth_token: str | None,
    timeout: float = 10.0,
    migrate: bool = True,
    verify: bool = True,
    clock: Clock = utc_now,
) -> LibsqlMemory:
    """Open a remote database: validate, connect, migrate over WebSocket, verify.

    Args:
        url: ``libsql://``, ``wss://``, ``https://`` (``ws://``/``http://`` on loopback).
        auth_token: the JWT, or ``None`` for an unauthenticated loopback server.
        timeout: seconds any single call may take.
        migrate: apply pending migrations.
        verify: without ``migrate``, still require a complete schema.
        clock: timestamps source.

    Raises:
        StoreConfigError: the URL or token policy is violated (before connecting).
        StoreAuthError: the server refused the token.
        StoreConnectionError / StoreTimeoutError: the server is unreachable or silent.
        MigrationError: a migration failed (the database is as it was).
    """
    target = parse_remote_url(url, has_token=bool(auth_token))
    client = BoundedClient(
        lambda: libsql_client.create_client(target.url, auth_token=auth_token), timeout
    )
    try:
        try:
            await client.execute("SELECT 1")
        except Exception as exc:
            raise translate(exc, where=target.display, action="open") from exc
        from memory import yoyo_libsql  # deferred: pulls in yoyo and dbapi2

        migration_ids: list[str]
        outcome: MigrationOutcome | None = None
        if migrate:
            migration_ids, outcome = await asyncio.to_thread(
                yoyo_libsql.migrate_remote, target.ws_url, auth_token, timeout, target.display
            )
        else:
            migration_ids = await asyncio.to_thread(
                yoyo_libsql.verify_remote,
                target.ws_url,
                auth_token,
                timeout,
                target.display,
                verify,
            )
    except BaseException:
        await client.close()
        raise
    return LibsqlMemory(
        client,
        mode="remote",
        where=target.display,
        clock=clock,
        migration_ids=migration_ids,
        migration_outcome=outcome,
    )
