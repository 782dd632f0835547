"""A TCP proxy on loopback that can turn into a server that accepts and never answers.

It runs on its own thread and event loop, so a test can switch it from any code
(synchronous or async) while a client on another loop keeps talking through it.

* ``pass``: bytes flow both ways to the target (e.g. sqld).
* ``black_hole``: new connections are accepted and read but never answered, and
  connections that carry bytes while it is set go silent for good (their requests never
  reach the target): a server that accepts connections but never answers.

Used by the reliability campaign; every wait here is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import Future

__all__ = ["FaultProxy"]


class FaultProxy:
    """A proxy to ``127.0.0.1:target_port``; ``port`` is where clients connect."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.black_hole = False
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        self._call(self._start()).result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._call(self._stop()).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    @property
    def url_host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _call(self, coro: object) -> Future[None]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)  # type: ignore[arg-type]

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for writer in list(self._writers):
            writer.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def drop_connections(self) -> None:
        """Close every open connection (both sides), as a restarted server would."""

        async def drop() -> None:
            for writer in list(self._writers):
                writer.close()

        self._call(drop()).result(timeout=10)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        if self.black_hole:
            await self._swallow(reader)
            return
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", self.target_port), 10
            )
        except (OSError, TimeoutError):
            writer.close()
            return
        self._writers.add(up_writer)
        silent = asyncio.Event()
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.get_running_loop().create_task(self._pump(source, sink, silent))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _swallow(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(ConnectionError):
            while await reader.read(65536):
                pass

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, silent: asyncio.Event
    ) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await source.read(65536):
                if self.black_hole:
                    silent.set()
                if silent.is_set():
                    continue
                sink.write(data)
                await sink.drain()
        if not silent.is_set():
            sink.close()
