"""Opening a remote libSQL database (sqld / Turso): URL policy, migrations, verification.

* **Policy before any connection.** :func:`~memory.drivers.remote_url.parse_remote_url`
  (re-exported here) refuses unencrypted schemes to non-loopback hosts, a missing
  token for them, and credentials in the URL, before a socket is opened.
* **Bounded calls.** Every call goes through :class:`~memory.drivers.hrana.HranaDriver`,
  which bounds it by the timeout and replaces a connection that stopped answering.
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
from typing import Any

from memory.drivers.diagnose import auth_refusal, is_reset
from memory.drivers.hrana import HranaDriver, create_client, fetch_server_version
from memory.drivers.remote_url import (
    RemoteTarget,
    is_loopback,
    parse_remote_url,
    redact_url,
    token_access,
)
from memory.drivers.wire_limits import check_request_size
from memory.errors import MigrationError
from memory.protocol import HealthReport
from memory.records import EventDraft
from memory.schema.migrate import (
    APPLIED_SQL,
    SCHEMA_NAMES_SQL,
    MigrationOutcome,
    SchemaState,
)
from memory.schema.on_open import settle_schema
from memory.sql.store import Clock, LibsqlMemory, utc_now

__all__ = [
    "HranaDriver",
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


class RemoteMemory(LibsqlMemory):
    """:class:`~memory.sql.store.LibsqlMemory` on a server; its health report names the server.

    Args:
        driver: the server driver.
        server_version: returns the server's version string (or ``None``).
        kwargs: as for :class:`~memory.sql.store.LibsqlMemory`.
    """

    def __init__(
        self,
        driver: HranaDriver,
        *,
        server_version: Callable[[], Awaitable[str | None]],
        **kwargs: Any,
    ) -> None:
        super().__init__(driver, mode="remote", **kwargs)
        self._hrana = driver
        self._server_version = server_version

    @property
    def round_trips(self) -> int:
        """Requests sent to the server so far."""
        return self._hrana.round_trips

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


async def _schema_state(driver: HranaDriver) -> SchemaState:
    """The schema's migration state, read without a write (see :class:`SchemaState`)."""
    names = await driver.rows(SCHEMA_NAMES_SQL)
    state = SchemaState(frozenset(str(row[0]) for row in names))
    if not state.has_bookkeeping:
        return state
    applied = await driver.rows(APPLIED_SQL)
    return SchemaState(state.names, frozenset(str(row[0]) for row in applied))


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
    driver = HranaDriver(
        lambda: create_client(target.url, auth_token=auth_token),
        timeout,
        where=target.display,
        read_only_token=read_only,
        diagnose=(lambda: auth_refusal(target.http_url, auth_token, timeout, where=target.display))
        if websocket
        else None,
    )
    try:
        # The schema read is the first request (it proves the connection and the token):
        # two round trips after connecting, one when yoyo's table does not exist yet.
        settled = await settle_schema(
            where=target.display,
            read_state=lambda: _schema_state(driver),
            pending_of=lambda state, migrations: state.pending(migrations),
            apply=lambda pending: _migrate(
                target, auth_token, timeout, migrations_dir, pending, read_only
            ),
            migrate=migrate,
            verify=verify,
            migrations_dir=migrations_dir,
        )
        driver.opened()
    except BaseException as exc:
        await driver.close()
        clearer = target.explain(exc)  # a TLS handshake with a local sqld: say what works
        if clearer is not None:
            raise clearer from exc
        raise
    return RemoteMemory(
        driver,
        server_version=lambda: fetch_server_version(target.http_url, auth_token, timeout),
        where=target.display,
        clock=clock,
        migration_ids=settled.migration_ids,
        migration_outcome=settled.outcome,
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
