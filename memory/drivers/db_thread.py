"""One thread that owns a SQLite connection: calls run there in order, results come back
to the event loop.

Lighter than ``loop.run_in_executor`` with a one-worker ``ThreadPoolExecutor`` (no
``concurrent.futures.Future`` in between, no work-item wrapping): a call is a queue put
and one ``call_soon_threadsafe``. That hop is paid by every save point and every page
read (``bash scripts/bench``, scenario 1b).

A short read may skip the hop (:meth:`DatabaseThread.call_now`): when nothing is queued
or running, it runs at once on the caller's thread. The hop is not only the queue:
an idle event loop has gone to sleep in ``epoll_wait`` by the time the database thread
answers, and waking it took 40-60 us on the 2-core VM (scenario 4o), as long as the page
read itself. A read that may be short but must not hold the event loop for long (a
search as you type) runs there under a clock (:mod:`memory.drivers.cancellable`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, TypeVar

__all__ = ["DatabaseThread"]

T = TypeVar("T")

_Item = tuple[Callable[[], Any], "asyncio.Future[Any]", asyncio.AbstractEventLoop]


class DatabaseThread:
    """A daemon thread running submitted calls one at a time, in submission order.

    Args:
        name: the thread's name (shown in stack dumps).
    """

    def __init__(self, name: str) -> None:
        self._queue: SimpleQueue[_Item | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._lock = threading.Lock()
        self._started = False
        #: Held while a call runs (here or, through :meth:`call_now`, on another thread).
        self._running = threading.Lock()
        #: Calls submitted and not finished yet (changed under ``_lock``).
        self._pending = 0

    def submit(self, func: Callable[[], T]) -> asyncio.Future[T]:
        """Queue ``func``; the returned future gets its result or exception.

        Cancelling the future does not stop a call that already started (as with
        ``run_in_executor``): its outcome is dropped.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._enter()
        self._queue.put((func, future, loop))
        return future

    def _enter(self) -> None:
        """Count a call as pending (starting the thread on the first)."""
        with self._lock:
            if not self._started:
                self._thread.start()
                self._started = True
            self._pending += 1

    def call_now(self, func: Callable[[], T]) -> tuple[bool, T | None]:
        """Run ``func`` on the calling thread if no call is queued or running.

        Calls keep their order: one submitted earlier is still counted as pending until it
        has finished, so ``func`` then is not run here. ``func``'s exceptions propagate.

        Returns:
            ``(True, result)``, or ``(False, None)`` when the thread was busy (submit then).
        """
        if not self._running.acquire(blocking=False):
            return False, None
        try:
            if self._pending:
                return False, None
            return True, func()
        finally:
            self._running.release()

    def stop(self) -> None:
        """Let the thread end after the calls already queued."""
        self._queue.put(None)

    def _serve(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            func, future, loop = item
            outcome = self._run(func)
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits
                loop.call_soon_threadsafe(_settle, future, outcome)

    def _run(self, func: Callable[[], Any]) -> tuple[bool, Any]:
        """``func()`` as ``(ok, result or exception)``, counted off as pending once done."""
        with self._running:
            try:
                outcome: tuple[bool, Any] = (True, func())
            except BaseException as exc:  # handed to whoever waits for the call
                outcome = (False, exc)
            with self._lock:
                self._pending -= 1
        return outcome


def _settle(future: asyncio.Future[Any], outcome: tuple[bool, Any]) -> None:
    """Give ``future`` the outcome ``(ok, result or exception)`` unless it was cancelled."""
    if future.cancelled():
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
