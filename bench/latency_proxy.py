"""A loopback TCP proxy that adds a fixed delay to every round trip, and counts them.

Bytes from the client are held for ``delay`` seconds before they go on to the server
(in order, each chunk timed from its own arrival), so every request/answer exchange
costs one extra ``delay``, as a server that far away would. A *round trip* is counted
when the client sends after it has heard from the server since its last send (or on a
new connection's first bytes): pipelined frames sent before any answer are one trip,
as in :mod:`bench.wire`. New connections are counted apart.

It runs on its own thread and event loop, so the measured client's loop is untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from concurrent.futures import Future
from typing import Any

__all__ = ["LatencyProxy"]


class LatencyProxy:
    """A proxy to ``127.0.0.1:target_port`` adding ``delay`` seconds per round trip."""

    def __init__(self, target_port: int, delay: float = 0.050) -> None:
        self.target_port = target_port
        self.delay = delay
        self.port = 0
        self.round_trips = 0
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._lock = threading.Lock()

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        self._call(self._start()).result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._call(self._stop()).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def counts(self) -> tuple[int, int]:
        """``(round trips, new connections)`` so far."""
        with self._lock:
            return self.round_trips, self.connections

    def _call(self, coro: Any) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

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

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self.connections += 1
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers.add(up_writer)
        heard = [True]  # the server answered since the client last sent
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
        self._spawn(self._upstream(reader, queue, heard))
        self._spawn(self._deliver(queue, up_writer))
        self._spawn(self._downstream(up_reader, writer, heard))

    async def _upstream(
        self,
        reader: asyncio.StreamReader,
        queue: asyncio.Queue[tuple[float, bytes] | None],
        heard: list[bool],
    ) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                if heard[0]:
                    with self._lock:
                        self.round_trips += 1
                    heard[0] = False
                queue.put_nowait((time.monotonic() + self.delay, data))
        queue.put_nowait(None)

    async def _deliver(
        self, queue: asyncio.Queue[tuple[float, bytes] | None], sink: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(ConnectionError):
            while (item := await queue.get()) is not None:
                due, data = item
                if (wait := due - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                sink.write(data)
                await sink.drain()
        sink.close()

    async def _downstream(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, heard: list[bool]
    ) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await source.read(65536):
                heard[0] = True
                sink.write(data)
                await sink.drain()
        sink.close()
