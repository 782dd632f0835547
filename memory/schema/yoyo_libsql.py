"""A yoyo backend for libSQL servers (sqld, Turso), over Hrana WebSockets.

yoyo has no libSQL backend. This one is registered under yoyo's ``yoyo.backends``
entry-point group as the scheme ``libsql``, so turnkeep and the plain ``yoyo`` command
share it::

    LIBSQL_AUTH_TOKEN=... yoyo apply --batch --database libsql://db.example.com migrations/
    yoyo apply --batch --database 'libsql://127.0.0.1:8080?tls=0' migrations/  # local sqld

The database URL is ``libsql://HOST[:PORT][/PATH][?tls=0][&timeout=SECONDS]``:

* **Transport.** TLS (``wss://``) by default, as libsql-client does for ``libsql://``;
  ``tls=0`` selects plain ``ws://`` and is only accepted for a loopback host, so a
  token is never sent in clear text over a network. Migrations always use a WebSocket
  even when the app talks HTTP: Hrana over HTTP has no interactive transactions.
* **Token.** Taken from the first of: the URL's password (what ``yoyo apply -p``
  prompts for), ``LIBSQL_AUTH_TOKEN``, ``TURSO_AUTH_TOKEN``,
  ``TURNKEEP_DB__AUTH_TOKEN``. A token in the query (``?authToken=``) is refused: yoyo
  echoes the URL in its prompts and the shell keeps it in history. A non-loopback host
  without a token is refused before connecting.
* **Timeout.** ``timeout`` is the seconds one request may take (default 30).

What this backend adds (verified against sqld):

* the connection of :mod:`memory.schema.hrana_dbapi`: explicit ``COMMIT``/``ROLLBACK`` (dbapi2
  loses track of the transaction after ``ROLLBACK TO SAVEPOINT``) and timeouts raised
  as database errors (dbapi2 raises the builtin ``TimeoutError``, which yoyo ignores);
* a refused token fails at connect (sqld checks it on the first request), not in
  yoyo's lock loop, which retries every database error until its timeout;
* a migration and the record that it was applied commit in one ``BEGIN IMMEDIATE``
  transaction (:class:`~memory.schema.migrate.AtomicApplyMixin`), and inside that transaction
  the record is checked again, so two processes starting at once never apply a
  migration twice even where yoyo decided what to apply before taking its lock. A
  failed migration rolls back entirely; a dropped connection makes sqld roll it back.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from libsql_client import LibsqlError
from libsql_client.dbapi2 import connect as dbapi2_connect
from yoyo.backends.core.sqlite3 import SQLiteBackend
from yoyo.connections import BadConnectionURI, DatabaseURI

from memory.drivers.diagnose import auth_refusal, is_reset
from memory.drivers.hrana_errors import AuthRefused, ServerTimeout, hrana_error
from memory.drivers.remote_url import is_loopback
from memory.errors import MemoryLayerError, MigrationError, StoreConfigError
from memory.schema.hrana_dbapi import HranaConnection, as_database_error
from memory.schema.migrate import (
    MIGRATION_TABLE,
    MigrationOutcome,
    load_migrations,
    missing_schema,
)
from memory.schema.yoyo_sqlite import AtomicApplyMixin, apply_pending

__all__ = [
    "TOKEN_ENV_VARS",
    "Endpoint",
    "LibsqlBackend",
    "endpoint_from_uri",
    "migrate_remote",
    "open_backend",
]

#: Environment variables a token is read from, in order, when the URL has none.
TOKEN_ENV_VARS = ("LIBSQL_AUTH_TOKEN", "TURSO_AUTH_TOKEN", "TURNKEEP_DB__AUTH_TOKEN")
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the backend connects.

    Attributes:
        url: the ``ws://``/``wss://`` URL handed to dbapi2 (no credentials).
        host: the host, for messages.
        timeout: seconds one request may take.
    """

    url: str
    host: str
    timeout: float
    auth_token: str | None

    def __repr__(self) -> str:  # the token never shows up in a traceback or log
        return f"Endpoint(url={self.url!r}, timeout={self.timeout})"


def endpoint_from_uri(
    dburi: Any, *, auth_token: str | None = None, timeout: float | None = None
) -> Endpoint:
    """Validate a yoyo ``DatabaseURI`` with scheme ``libsql`` and resolve its token.

    Args:
        dburi: yoyo's parsed URI.
        auth_token: a token that beats every other source (turnkeep passes its own).
        timeout: seconds per request; beats the URL's ``timeout``.

    Raises:
        BadConnectionURI: unknown parameters, a token in the query, ``tls=0`` to a
            non-loopback host, or no token for a non-loopback host.
    """
    host = dburi.hostname or ""
    if not host:
        raise BadConnectionURI("a libsql:// URL needs a host, e.g. libsql://db.example.com")
    args = dict(dburi.args or {})
    if "authToken" in args:
        raise BadConnectionURI(
            "refusing a token in the URL query (yoyo prints the URL); set LIBSQL_AUTH_TOKEN "
            "or use `yoyo -p` to be prompted for it"
        )
    unknown = sorted(set(args) - {"tls", "timeout"})
    if unknown:
        raise BadConnectionURI(f"unsupported libsql:// URL parameters: {', '.join(unknown)}")
    tls = args.get("tls", "1")
    if tls not in ("0", "1"):
        raise BadConnectionURI("the tls parameter of a libsql:// URL must be 0 or 1")
    loopback = is_loopback(host)
    if tls == "0" and not loopback:
        raise BadConnectionURI(f"refusing tls=0 for {host}: the token would be sent in clear text")
    if timeout is None:
        try:
            timeout = float(args.get("timeout", DEFAULT_TIMEOUT))
        except ValueError:
            raise BadConnectionURI("the timeout parameter must be a number of seconds") from None
    if not 0 < timeout <= 600:
        raise BadConnectionURI("the timeout must be between 0 and 600 seconds")
    token = auth_token or dburi.password or None
    for name in TOKEN_ENV_VARS:
        if token:
            break
        token = os.environ.get(name, "").strip() or None
    if token is None and not loopback:
        raise BadConnectionURI(
            f"an auth token is required for {host}: set LIBSQL_AUTH_TOKEN (or TURSO_AUTH_TOKEN)"
        )
    netloc = f"[{host}]" if ":" in host else host
    if dburi.port:
        netloc += f":{dburi.port}"
    path = f"/{dburi.database}" if dburi.database else ""
    url = urllib.parse.urlunsplit(("ws" if tls == "0" else "wss", netloc, path, "", ""))
    return Endpoint(url=url, host=host, timeout=timeout, auth_token=token)


def _uri_from_ws_url(ws_url: str) -> Any:
    """The yoyo URI for a ``ws://``/``wss://`` URL (what turnkeep's remote mode uses)."""
    parts = urllib.parse.urlsplit(ws_url)
    return DatabaseURI(
        scheme="libsql",
        username=None,
        password=None,
        hostname=parts.hostname,
        port=parts.port,
        database=parts.path.lstrip("/") or None,
        args={"tls": "0"} if parts.scheme == "ws" else {},
    )


class LibsqlBackend(AtomicApplyMixin, SQLiteBackend):  # type: ignore[misc]
    """yoyo's backend for ``libsql://`` URLs (see the module docstring).

    Args:
        dburi: yoyo's parsed URI.
        migration_table: yoyo's migration table name.
        auth_token: a token that beats the URL and the environment.
        timeout: seconds per request; beats the URL's ``timeout``.

    Raises:
        BadConnectionURI: the URL is refused (see :func:`endpoint_from_uri`).
        sqlite3.OperationalError: the server cannot be reached, refused the token or
            did not answer (``sqlite_errorname`` says which).
    """

    driver_module = "libsql_client.dbapi2"
    _in_transaction: bool = False

    def __init__(
        self,
        dburi: Any,
        migration_table: str,
        *,
        auth_token: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.endpoint = endpoint_from_uri(dburi, auth_token=auth_token, timeout=timeout)
        super().__init__(dburi, migration_table)

    def connect(self, dburi: Any) -> Any:
        """Open a dbapi2 connection over a WebSocket, in autocommit mode.

        sqld checks the token on the first request, not on the handshake, so one
        ``SELECT 1`` is sent here: a refused token fails now, not inside yoyo's lock
        loop (which retries every database error until its timeout).
        """
        del dburi
        endpoint = self.endpoint
        try:
            conn = dbapi2_connect(
                endpoint.url,
                uri=True,
                factory=HranaConnection,
                auth_token=endpoint.auth_token,
                timeout=endpoint.timeout,
                isolation_level=None,
            )
            try:
                conn.execute("SELECT 1").fetchall()
            except BaseException:
                conn.close()
                raise
        except sqlite3.DatabaseError as exc:
            refusal = self._auth_refusal(exc)
            if refusal is None:
                raise
            raise refusal from exc
        except (TimeoutError, LibsqlError, aiohttp.ClientError, OSError) as exc:
            raise self._auth_refusal(exc) or as_database_error(exc) from exc
        return conn

    def _auth_refusal(self, exc: BaseException) -> AuthRefused | None:
        """The auth error behind a dropped WebSocket, asked over HTTP (see remote.is_reset)."""
        code = getattr(exc, "sqlite_errorname", None)
        if not (is_reset(exc) or code in {"SQLITE_CANTOPEN", "HRANA_WEBSOCKET_ERROR"}):
            return None
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:  # called from inside an event loop: cannot ask without blocking it
            return None
        scheme, rest = self.endpoint.url.split(":", 1)
        http_url = ("https" if scheme == "wss" else "http") + ":" + rest
        refusal = asyncio.run(
            auth_refusal(
                http_url, self.endpoint.auth_token, self.endpoint.timeout, where=self.endpoint.host
            )
        )
        return None if refusal is None else AuthRefused(refusal)

    def copy(self) -> LibsqlBackend:
        """A backend with its own connection and the same endpoint and token."""
        return type(self)(
            self.uri,
            self.migration_table,
            auth_token=self.endpoint.auth_token,
            timeout=self.endpoint.timeout,
        )

    def begin(self) -> None:
        """Take the write lock up front, so the re-check in :meth:`apply_one` holds."""
        assert not self._in_transaction
        self._in_transaction = True
        self.execute("BEGIN IMMEDIATE")

    def is_recorded(self, migration: Any) -> bool:
        """Whether ``migration`` is recorded as applied (read in the current transaction)."""
        sql = self.format_sql(
            "SELECT 1 FROM {0.migration_table_quoted} WHERE {quoted.migration_hash} = :h"
        )
        return self.execute(sql, {"h": migration.hash}).fetchone() is not None

    def apply_one(self, migration: Any, force: bool = False, mark: bool = True) -> None:
        """Apply and record one migration in one transaction, unless already recorded.

        yoyo's own ``apply`` command decides what to apply before another process
        may have applied it; the check here, under ``BEGIN IMMEDIATE``, settles it.
        """
        self.ensure_internal_schema_updated()
        with self.transaction():
            if mark and self.is_recorded(migration):
                return
            migration.process_steps(self, "apply", force=force)
            if mark:
                self.mark_one(migration, log=False)
            self.log_migration(migration, "apply")


def open_backend(
    ws_url: str, *, auth_token: str | None, timeout: float, display: str
) -> LibsqlBackend:
    """Connect a backend to a ``ws://``/``wss://`` URL turnkeep has already validated.

    Raises:
        StoreConfigError: the URL is refused.
        StoreAuthError / StoreConnectionError / StoreTimeoutError: connecting failed.
    """
    try:
        return LibsqlBackend(
            _uri_from_ws_url(ws_url), MIGRATION_TABLE, auth_token=auth_token, timeout=timeout
        )
    except BadConnectionURI as exc:
        raise StoreConfigError(f"{display}: {exc}") from exc
    except Exception as exc:
        raise hrana_error(_root_failure(exc) or exc, where=display, action="open") from exc


_CONNECTION_CODES = frozenset(
    {
        "HRANA_WEBSOCKET_ERROR",
        "HRANA_PROTO_ERROR",
        "CLIENT_CLOSED",
        "STREAM_CLOSED",
        "STREAM_EXPIRED",
        "SQLITE_CANTOPEN",
    }
)


def _is_connection_level(exc: BaseException) -> bool:
    if isinstance(exc, (TimeoutError, ServerTimeout, AuthRefused, aiohttp.ClientError)):
        return True
    if isinstance(exc, OSError) and not isinstance(exc, sqlite3.Error):
        return True
    code = _code_of(exc)
    return code.startswith("AUTH_") or code in _CONNECTION_CODES


def _code_of(exc: BaseException) -> str:
    """The server's or SQLite's own error name carried by an exception ("" if none)."""
    return str(getattr(exc, "sqlite_errorname", None) or getattr(exc, "code", None) or "")


def _root_failure(exc: BaseException) -> BaseException | None:
    """The connection-level exception in a chain (a timeout, then an auth refusal)."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for item in chain:
        if isinstance(item, (TimeoutError, ServerTimeout)):
            return item
    for item in chain:  # an auth refusal explains a dropped connection beneath it
        if isinstance(item, AuthRefused) or _code_of(item).startswith("AUTH_"):
            return item
    for item in reversed(chain):  # otherwise the deepest cause says the most
        if _is_connection_level(item):
            return item
    return None


def _connection_failure(exc: BaseException, display: str) -> MemoryLayerError | None:
    """The connection-level error behind a failed migration step, if there is one."""
    root = _root_failure(exc)
    return None if root is None else hrana_error(root, where=display, action="open")


def _close_quietly(backend: LibsqlBackend) -> None:
    try:
        backend.connection.close()
    except Exception:  # closing a dropped connection has nothing to report
        pass


def migrate_remote(
    ws_url: str,
    *,
    auth_token: str | None,
    timeout: float,
    display: str,
    migrations_dir: Path | None = None,
) -> MigrationOutcome:
    """Apply pending migrations on a remote server (synchronous: run it in a thread).

    What is pending is decided under yoyo's lock; each migration is applied and
    recorded in one transaction.

    Args:
        ws_url: the server's ``ws://``/``wss://`` URL (no credentials).
        auth_token: the JWT, or ``None`` for an unauthenticated loopback server.
        timeout: seconds one request may take.
        display: the redacted URL, named in every message.
        migrations_dir: migrations to use instead of the project's (tests).

    Raises:
        MigrationError: a migration failed (the database is as it was before it), the
            lock was held too long, or the schema is incomplete afterwards.
        StoreAuthError / StoreConnectionError / StoreTimeoutError: the server refused
            the token, went away or stopped answering.
    """
    migrations = load_migrations(migrations_dir)
    backend = open_backend(ws_url, auth_token=auth_token, timeout=timeout, display=display)
    try:
        try:
            backend.init_database()
            outcome = apply_pending(backend, migrations, local=False)
            missing = missing_schema(lambda sql: backend.execute(sql).fetchall())
        except Exception as exc:
            failure = _connection_failure(exc, display)
            if failure is not None:
                raise failure from exc
            if isinstance(exc, MemoryLayerError):
                raise
            raise MigrationError(f"cannot migrate {display}: {exc}") from exc
        if missing:
            raise MigrationError(
                f"the schema of {display} is incomplete after migrating: "
                f"missing {', '.join(missing)}",
                hint="The database may have been edited by hand; restore it from a backup.",
            )
        return outcome
    finally:
        _close_quietly(backend)
