"""The libSQL server driver (:class:`HranaDriver`), through libsql-client, and the wire's limits.

**Why libsql-client internals.** libsql-client 0.3.1 (archived upstream) is the Hrana
client this product depends on. Two of its private names are used, only here:
``libsql_client.config._expand_config`` and ``libsql_client.hrana.client._config_to_url``
with the ``HranaClient``/``HranaConn`` classes, to raise the WebSocket message limit
(below). ``tests/memory/test_driver_internals.py`` fails loudly if an update changes them.

**Bounded calls.** libsql-client's ws/http clients are lazy and have no client-side
timeouts: a server that accepts and never answers hangs a call forever.
:class:`HranaDriver` bounds every call and drops a client whose call timed out, so the
next call starts on a fresh connection (the old one is closed in the background).
libsql-client reconnects lazily after the server comes back. Interactive transactions
are not offered (they would hold sqld's write lock across user think time): a batch is
one transaction and one request.

**Size limits** on the wire are in :mod:`memory.drivers.wire_limits`; :func:`create_client`
raises the WebSocket read limit to its :data:`~memory.drivers.wire_limits.MAX_RESPONSE_BYTES`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import aiohttp
import libsql_client
from libsql_client import LibsqlError, ResultSet
from libsql_client.config import _expand_config
from libsql_client.hrana.client import HranaClient, _config_to_url
from libsql_client.hrana.conn import HranaConn

from memory.busy import busy_pauses, is_busy_code
from memory.drivers.base import Action, Result, Statement
from memory.drivers.diagnose import is_reset
from memory.drivers.hrana_errors import READ_WRITE_HINT, hrana_error
from memory.drivers.wire_limits import (
    MAX_REQUEST_BYTES,
    MAX_RESPONSE_BYTES,
    MAX_VALUE_BYTES,
    check_encodable,
    check_request_size,
)
from memory.errors import (
    ConnectionLostError,
    MemoryLayerError,
    ReadOnlyError,
)

T = TypeVar("T")

__all__ = [
    "HranaDriver",
    "fetch_server_version",
    "MAX_REQUEST_BYTES",
    "MAX_RESPONSE_BYTES",
    "MAX_VALUE_BYTES",
    "check_encodable",
    "check_request_size",
    "create_client",
]


class _Conn(HranaConn):  # type: ignore[misc]
    async def _do_connect(
        self, session: aiohttp.ClientSession, url: str
    ) -> aiohttp.ClientWebSocketResponse:
        # As libsql-client 0.3 connects, with the message limit raised.
        return await session.ws_connect(
            url,
            protocols=["hrana2"],
            autoclose=False,
            autoping=True,
            max_msg_size=MAX_RESPONSE_BYTES,
        )


class _WsClient(HranaClient):  # type: ignore[misc]
    def _open_conn(self) -> HranaConn:
        return _Conn(self._session, self._url, self._auth_token)


def create_client(url: str, auth_token: str | None) -> libsql_client.Client:
    """``libsql_client.create_client``, reading WebSocket responses up to the limit above.

    Args:
        url: a ``ws://``/``wss://``/``http://``/``https://`` URL (already validated).
        auth_token: the JWT, or ``None``.
    """
    config = _expand_config(url, auth_token=auth_token, tls=None)
    if config.scheme in ("ws", "wss"):  # as libsql_client.create_client does, then ours
        return _WsClient(_config_to_url(config), config.auth_token)
    return libsql_client.create_client(url, auth_token=auth_token)


_WRITE_VERBS = {"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "WITH"}


def _is_write(sql: str) -> bool:
    words = sql.split(None, 1)
    return bool(words) and words[0].upper() in _WRITE_VERBS


def _discard_outcome(task: asyncio.Future[Any]) -> None:
    """Retrieve an abandoned call's outcome, so nothing is logged about it."""
    if not task.cancelled():
        task.exception()


class HranaDriver:
    """The :class:`~memory.drivers.base.Driver` for a libSQL server, every call bounded.

    Args:
        factory: makes a fresh libsql-client client (again after a timeout).
        timeout: seconds one call may take.
        where: the server without credentials, as messages name it.
        read_only_token: the token says it is read-only (see
            :func:`~memory.drivers.remote_url.token_access`): a write the server answers
            by closing the WebSocket is then reported as refused
            (:class:`~memory.errors.ReadOnlyError`) rather than as a lost connection.
        diagnose: after a call fails with a dropped connection (:func:`is_reset`),
            returns the auth error it really was, if any (see :func:`auth_refusal`).

    Attributes:
        round_trips: calls sent to the server (one per ``execute``, ``rows``, ``batch``
            or ``read_batch``).
    """

    def __init__(
        self,
        factory: Callable[[], libsql_client.Client],
        timeout: float,
        *,
        where: str,
        read_only_token: bool = False,
        diagnose: Callable[[], Awaitable[MemoryLayerError | None]] | None = None,
    ) -> None:
        self.where = where
        #: ``"open"`` until :meth:`opened`: failures then say "cannot open", not "lost".
        self._action: Action = "open"
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

    def _encodable(self, stmts: Sequence[Statement]) -> None:
        try:
            check_encodable(stmts)
        except UnicodeEncodeError as exc:
            raise hrana_error(exc, where=self.where, action=self._action) from exc

    def opened(self) -> None:
        """Opening succeeded: a failure from now on is a lost connection or a failed query."""
        self._action = "query"

    async def _call(self, call: Callable[[libsql_client.Client], Awaitable[T]]) -> T:
        """One bounded call, its failure translated (:func:`hrana_error`)."""
        try:
            return await self._bounded(call)
        except MemoryLayerError:
            raise
        except Exception as exc:
            raise hrana_error(exc, where=self.where, action=self._action) from exc

    async def _bounded(self, call: Callable[[libsql_client.Client], Awaitable[T]]) -> T:
        if self._closed:
            raise ConnectionLostError(
                f"the connection to {self.where} was closed",
                hint="This happens when turnkeep is shutting down; start it again.",
            )
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

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> Result:
        """Run one statement within the timeout."""
        self._encodable([(sql, args)])
        result = await self._call(lambda c: c.execute(sql, list(args)))
        return _result(result)

    async def rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read within the timeout and return its rows."""
        return (await self.execute(sql, args)).rows

    async def page_rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A page's read: one round trip, like any other (:meth:`rows`)."""
        return await self.rows(sql, args)

    async def read_batch(self, stmts: Sequence[Statement]) -> list[Result]:
        """Reads in one transaction (one snapshot, one round trip)."""
        return await self.batch(stmts)

    async def batch(self, stmts: Sequence[Statement]) -> list[Result]:
        """Execute a batch (one transaction, one round trip) within the timeout.

        A batch the server refused with "database is locked" (another writer held the
        lock) committed nothing: it is sent again, with bounded backoff, for up to
        :data:`memory.busy.BUSY_RETRY_BUDGET` seconds, as the embedded file's busy handler does.
        """
        wire = [(sql, list(args)) for sql, args in stmts]
        self._encodable(wire)
        pauses = busy_pauses()
        while True:
            try:
                results = await self._bounded(lambda c: c.batch(wire))
                return [_result(result) for result in results]
            except MemoryLayerError:
                raise
            except LibsqlError as exc:
                if is_busy_code(exc.code) and (pause := next(pauses, None)) is not None:
                    await asyncio.sleep(pause)
                    continue
                # sqld answers a write with a read-only token over ws by closing the socket.
                if (
                    self._read_only_token
                    and exc.code == "HRANA_WEBSOCKET_ERROR"
                    and any(_is_write(sql) for sql, _ in wire)
                ):
                    raise ReadOnlyError(
                        f"the server at {self.where} refused to write: the auth token is read-only",
                        hint=READ_WRITE_HINT,
                    ) from exc
                raise hrana_error(exc, where=self.where, action=self._action) from exc
            except Exception as exc:
                raise hrana_error(exc, where=self.where, action=self._action) from exc

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


def _result(result: ResultSet) -> Result:
    """libsql-client's result as the seam's: plain tuples."""
    return Result(
        [tuple(row) for row in result.rows],
        result.rows_affected or 0,
        result.last_insert_rowid,
    )


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
