"""A call that hangs is bounded by the timeout, and the next call starts afresh."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from memory import EventDraft, StoreTimeoutError, open_remote
from tests.support.sqld import SqldServer


class BlackHoleProxy:
    """A TCP proxy to sqld that can start swallowing traffic, like a server that hangs.

    Connections that carry bytes while ``swallow`` is set never forward anything again
    (their requests never reach sqld); new connections work once it is cleared.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.swallow = False
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [writer, up_writer]
        dead = asyncio.Event()
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(source, sink, dead))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, dead: asyncio.Event
    ) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await source.read(65536):
                if self.swallow:
                    dead.set()
                if dead.is_set():
                    continue
                sink.write(data)
                await sink.drain()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for writer in self._writers:
            writer.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()


@pytest.fixture
async def proxy(fresh_sqld: SqldServer) -> AsyncIterator[BlackHoleProxy]:
    proxy = BlackHoleProxy(fresh_sqld.port)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


@pytest.mark.parametrize("kind", ["ws", "http"])
async def test_a_hung_call_times_out_and_the_client_recovers(
    fresh_sqld: SqldServer, proxy: BlackHoleProxy, kind: str
) -> None:
    url = f"{kind}://127.0.0.1:{proxy.port}"
    memory = await open_remote(url, auth_token=fresh_sqld.token(), timeout=0.5)
    try:
        assert await memory.store("s1", [EventDraft("user", {"n": 1})]) == [1]
        proxy.swallow = True
        with pytest.raises(StoreTimeoutError) as info:
            await memory.store("s1", [EventDraft("user", {"n": 2})])
        assert str(info.value) == f"{url} did not answer in time"
        proxy.swallow = False
        # The hung client was dropped; this call opens a fresh connection.
        assert await memory.store("s1", [EventDraft("user", {"n": 2})]) == [2]
        assert [e.payload for e in await memory.recall("s1")] == [{"n": 1}, {"n": 2}]
    finally:
        await memory.close()
