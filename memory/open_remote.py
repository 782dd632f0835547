"""Remote libSQL (sqld / Turso): URL policy, bounded calls, and opening.

* **Policy before any connection.** :func:`~memory.drivers.remote_url.parse_remote_url`
  (re-exported here) refuses unencrypted schemes to non-loopback hosts, a missing
  token for them, and credentials in the URL, before a socket is opened.
* **Bounded calls.** libsql-client's ws/http clients are lazy and have no client-side
  timeouts: a server that accepts and never answers hangs a call forever.
  :class:`BoundedClient` bounds every call and drops a client whose call timed out, so
  the next call starts on a fresh connection (the old one is closed in the
  background). libsql-client reconnects lazily after the server comes back.
* **One round trip per save point.** The backend only uses ``execute`` and ``batch``
  (one transaction, one request); interactive transactions are refused, so no write
  lock is held across user think time (sqld aborts a write transaction after 5 s when
  another writer waits).
* **Migrations over WebSocket.** HTTP has no interactive transactions, so
  :mod:`memory.schema.yoyo_libsql` migrates over ``ws(s)://`` even when the app uses
  ``http(s)://``. Opening checks what is pending first: a migrated database is opened
  without a single write (a read-only token can open it).
* **No fallback.** Every failure is a typed error naming the host; nothing is ever
  written anywhere else.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import libsql_client
from libsql_client import InArgs, InStatement, LibsqlError, ResultSet

from memory.busy import busy_pauses, is_busy_code
from memory.drivers.diagnose import auth_refusal, is_reset
from memory.drivers.hrana import check_encodable, check_request_size, create_client
from memory.drivers.remote_url import (
    RemoteTarget,
    is_loopback,
    parse_remote_url,
    redact_url,
    token_access,
)
from memory.errors import WRITE_REFUSED, MemoryLayerError, MigrationError, translate
from memory.protocol import HealthReport
from memory.records import EventDraft
from memory.schema.migrate import (
    APPLIED_SQL,
    SCHEMA_NAMES_SQL,
    MigrationOutcome,
    SchemaState,
    load_migrations,
)
from memory.sql.store import Clock, LibsqlMemory, utc_now

__all__ = [
    "BoundedClient",
    "RemoteMemory",
    "RemoteTarget",
    "auth_refusal",
    "is_loopback",
    "is_reset",
    "open_remote",
    "parse_remote_url",
    "redact_url",
    "token_access",
]

T = TypeVar("T")

_WRITE_VERBS = {"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "WITH"}


def _is_write(stmt: InStatement) -> bool:
    sql = stmt[0] if isinstance(stmt, tuple) else getattr(stmt, "sql", stmt)
    words = str(sql).split(None, 1)
    return bool(words) and words[0].upper() in _WRITE_VERBS


def _discard_outcome(task: asyncio.Future[Any]) -> None:
    """Retrieve an abandoned call's outcome, so nothing is logged about it."""
    if not task.cancelled():
        task.exception()


class BoundedClient(libsql_client.Client):  # type: ignore[misc]
    """A libsql-client ``Client`` whose every call is bounded by a timeout.

    Args:
        factory: makes a fresh underlying client (again after a timeout).
        timeout: seconds one call may take.
        read_only_token: the token says it is read-only (see :func:`token_access`): a
            write the server answers by closing the WebSocket is then reported as
            refused (code :data:`WRITE_REFUSED`) rather than as a lost connection.
        diagnose: after a call fails with a dropped connection (:func:`is_reset`),
            returns the auth error it really was, if any (see :func:`auth_refusal`).

    Attributes:
        round_trips: calls sent to the server (one per ``execute`` or ``batch``).
    """

    def __init__(
        self,
        factory: Callable[[], libsql_client.Client],
        timeout: float,
        *,
        read_only_token: bool = False,
        diagnose: Callable[[], Awaitable[BaseException | None]] | None = None,
    ) -> None:
        self._factory = factory
        self._timeout = timeout
        self._read_only_token = read_only_token
        self._diagnose = diagnose
        self._inner: libsql_client.Client | None = None
        self._closed = False
        self._retired: set[asyncio.Task[None]] = set()
        self.round_trips = 0

    @property
    def timeout(self) -> float:
        """Seconds one call may take."""
        return self._timeout

    async def _bounded(self, call: Callable[[libsql_client.Client], Awaitable[T]]) -> T:
        if self._closed:
            raise LibsqlError("The client is closed", "CLIENT_CLOSED")
        if self._inner is None:
            self._inner = self._factory()
        inner = self._inner
        self.round_trips += 1
        # The call is shielded, never cancelled: libsql-client completes a cancelled
        # call's response future later anyway, and the event loop then prints an
        # InvalidStateError traceback to the user's terminal. An abandoned call ends when
        # its client is closed; its late outcome is discarded.
        task = asyncio.ensure_future(call(inner))
        try:
            return await asyncio.wait_for(asyncio.shield(task), self._timeout)
        except TimeoutError:
            task.add_done_callback(_discard_outcome)
            self._retire(inner)
            raise
        except asyncio.CancelledError:
            task.add_done_callback(_discard_outcome)
            raise
        except Exception as exc:
            if self._diagnose is not None and is_reset(exc):
                refusal = await self._diagnose()
                if refusal is not None:
                    raise refusal from exc
            raise

    def _retire(self, inner: libsql_client.Client) -> None:
        """Drop a hung client (the next call makes a fresh one); close it in the background."""
        if self._inner is not inner:
            return
        self._inner = None
        hung: Any = inner

        async def close_old() -> None:
            try:
                await asyncio.wait_for(hung.close(), self._timeout)
            except Exception:  # the old connection is already broken; nothing to report
                pass

        task = asyncio.get_running_loop().create_task(close_old())
        self._retired.add(task)
        task.add_done_callback(self._retired.discard)

    async def execute(self, stmt: InStatement, args: InArgs = None) -> ResultSet:
        """Execute one statement within the timeout."""
        check_encodable([(stmt, args)])
        return await self._bounded(lambda c: c.execute(stmt, args))

    async def batch(self, stmts: list[InStatement]) -> list[ResultSet]:
        """Execute a batch (one transaction, one round trip) within the timeout.

        A batch the server refused with "database is locked" (another writer held the
        lock) committed nothing: it is sent again, with bounded backoff, for up to
        :data:`memory.busy.BUSY_RETRY_BUDGET` seconds, as the embedded file's busy handler does.
        """
        check_encodable(stmts)
        pauses = busy_pauses()
        while True:
            try:
                return await self._batch_once(stmts)
            except LibsqlError as exc:
                if not is_busy_code(exc.code) or (pause := next(pauses, None)) is None:
                    raise
            await asyncio.sleep(pause)

    async def _batch_once(self, stmts: list[InStatement]) -> list[ResultSet]:
        try:
            return await self._bounded(lambda c: c.batch(stmts))
        except LibsqlError as exc:
            # sqld answers a write with a read-only token over ws by closing the socket.
            if (
                self._read_only_token
                and exc.code == "HRANA_WEBSOCKET_ERROR"
                and any(_is_write(stmt) for stmt in stmts)
            ):
                raise LibsqlError(
                    "the server closed the connection when asked to write, and the auth "
                    "token is read-only",
                    WRITE_REFUSED,
                ) from exc
            raise

    def transaction(self) -> libsql_client.Transaction:
        """Interactive transactions are not offered: they would hold sqld's write lock."""
        raise LibsqlError(
            "interactive transactions are not supported; use batch()", "NOT_SUPPORTED"
        )

    async def close(self) -> None:
        """Close the client (bounded). Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._inner is not None:
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


async def fetch_server_version(
    http_url: str,
    auth_token: str | None,
    timeout: float,  # noqa: ASYNC109 - bounds the request; not a deadline for the caller
) -> str | None:
    """The server's own version string (sqld answers ``GET /version``), or ``None``.

    Best effort: a server without that endpoint, or any failure, gives ``None``.
    """
    import aiohttp  # deferred: only the remote mode needs it

    headers = {"Authorization": f"Bearer {auth_token}"} if auth_token else {}
    url = http_url.rstrip("/") + "/version"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.get(url, headers=headers) as response,
        ):
            if response.status != 200:
                return None
            text = (await response.text()).strip()
    except (aiohttp.ClientError, TimeoutError, UnicodeDecodeError):
        return None
    line = " ".join(text.split())
    return line if 0 < len(line) <= 120 else None


class RemoteMemory(LibsqlMemory):
    """:class:`~memory.sql.store.LibsqlMemory` on a server; its health report names the server.

    Args:
        client: the bounded client.
        server_version: returns the server's version string (or ``None``).
        kwargs: as for :class:`~memory.sql.store.LibsqlMemory`.
    """

    def __init__(
        self,
        client: BoundedClient,
        *,
        server_version: Callable[[], Awaitable[str | None]],
        **kwargs: Any,
    ) -> None:
        super().__init__(client, mode="remote", **kwargs)
        self._bounded_client = client
        self._server_version = server_version

    @property
    def round_trips(self) -> int:
        """Requests sent to the server so far."""
        return self._bounded_client.round_trips

    def _store_statements(
        self,
        session_id: str,
        events: Sequence[EventDraft],
        key: str | None,
        **options: Any,
    ) -> list[tuple[str, list[Any]]]:
        """The save point's batch, refused up front if the server could never take it."""
        stmts = super()._store_statements(session_id, events, key, **options)
        check_request_size(stmts, self.where)
        return stmts

    async def health(self) -> HealthReport:
        """See :meth:`memory.protocol.HealthProbe.health`; adds the server's version."""
        report = await super().health()
        if not report.reachable:
            return report
        version = await self._server_version()
        return dataclasses.replace(report, server_version=version) if version else report


async def _schema_state(client: BoundedClient) -> SchemaState:
    """The schema's migration state, read without a write (see :class:`SchemaState`)."""
    result = await client.execute(SCHEMA_NAMES_SQL)
    state = SchemaState(frozenset(str(row[0]) for row in result.rows))
    if not state.has_bookkeeping:
        return state
    applied = await client.execute(APPLIED_SQL)
    return SchemaState(state.names, frozenset(str(row[0]) for row in applied.rows))


async def open_remote(
    url: str,
    *,
    auth_token: str | None,
    timeout: float = 10.0,  # noqa: ASYNC109 - a per-call bound, passed down to every call
    migrate: bool = True,
    verify: bool = True,
    migrations_dir: Path | None = None,
    clock: Clock = utc_now,
) -> RemoteMemory:
    """Open a remote database: validate, connect, migrate over WebSocket, verify.

    Args:
        url: ``libsql://``, ``wss://``, ``https://`` (``ws://``/``http://`` on loopback).
        auth_token: the JWT, or ``None`` for an unauthenticated loopback server.
        timeout: seconds any single call may take.
        migrate: apply pending migrations (a migrated database gets no write).
        verify: without ``migrate``, still require a complete schema.
        migrations_dir: migrations to use instead of the project's (tests).
        clock: timestamps source.

    Raises:
        StoreConfigError: the URL or token policy is violated (before connecting).
        StoreAuthError: the server refused the token.
        StoreConnectionError / StoreTimeoutError: the server is unreachable or silent.
        MigrationError: a migration failed (the database is as it was), or migrations
            are pending and the token is read-only, or the schema is incomplete.
    """
    target = parse_remote_url(url, has_token=bool(auth_token))
    read_only = token_access(auth_token) == "ro"
    websocket = target.url.startswith(("ws:", "wss:"))
    client = BoundedClient(
        lambda: create_client(target.url, auth_token=auth_token),
        timeout,
        read_only_token=read_only,
        diagnose=(lambda: auth_refusal(target.http_url, auth_token, timeout))
        if websocket
        else None,
    )
    outcome: MigrationOutcome | None = None
    try:
        try:
            await client.execute("SELECT 1")
            migrations = await asyncio.to_thread(load_migrations, migrations_dir)
            state = await _schema_state(client)
            pending = state.pending(migrations)
        except MemoryLayerError:
            raise
        except Exception as exc:
            raise translate(exc, where=target.display, action="open") from exc
        if migrate:
            outcome = MigrationOutcome(applied=())
            if pending:
                outcome = await _migrate(
                    target, auth_token, timeout, migrations_dir, pending, read_only
                )
                try:
                    state = await _schema_state(client)
                except Exception as exc:
                    raise translate(exc, where=target.display, action="open") from exc
        if (migrate or verify) and state.missing:
            raise MigrationError(
                f"{target.display} is not migrated (missing {', '.join(state.missing)})",
                hint="Run `turnkeep db migrate`.",
            )
    except BaseException as exc:
        await client.close()
        clearer = target.explain(exc)  # a TLS handshake with a local sqld: say what works
        if clearer is not None:
            raise clearer from exc
        raise
    return RemoteMemory(
        client,
        server_version=lambda: fetch_server_version(target.http_url, auth_token, timeout),
        where=target.display,
        clock=clock,
        migration_ids=[m.id for m in migrations],
        migration_outcome=outcome,
    )


async def _migrate(
    target: RemoteTarget,
    auth_token: str | None,
    timeout: float,  # noqa: ASYNC109 - a per-request bound for the migration thread
    migrations_dir: Path | None,
    pending: Sequence[str],
    read_only: bool,
) -> MigrationOutcome:
    if read_only:
        raise MigrationError(
            f"{len(pending)} migration(s) are pending on {target.display} "
            f"({', '.join(pending)}) but the auth token is read-only",
            hint="Run `turnkeep db migrate` once with a read-write token.",
        )
    from memory.schema import yoyo_libsql  # deferred: pulls in yoyo and dbapi2

    return await asyncio.to_thread(
        yoyo_libsql.migrate_remote,
        target.ws_url,
        auth_token=auth_token,
        timeout=timeout,
        display=target.display,
        migrations_dir=migrations_dir,
    )
