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
read itself.

A read that may be short but must not hold the event loop for long (a search as you
type) waits for the thread briefly instead (:meth:`DatabaseThread.call_waiting`, see
:mod:`memory.drivers.handoff`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, TypeVar

from memory.drivers.handoff import Handoff, settle_soon

__all__ = ["DatabaseThread"]

T = TypeVar("T")

_Item = tuple[Callable[[], Any], "asyncio.Future[Any]", asyncio.AbstractEventLoop] | Handoff[Any]


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
        #: Seconds the last call made through :meth:`call_waiting` ran (on this thread).
        self._last_took = 0.0

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

    async def call_waiting(self, func: Callable[[], T], budget: float) -> T:
        """Queue ``func`` and block for its outcome up to ``budget`` seconds, then await it.

        When the thread is idle and the previous call made this way ran within its
        budget, the caller's thread blocks on a lock (it does not run the event loop
        meanwhile) for at most ``budget`` seconds, and takes an outcome that came within
        it directly; otherwise, or past the budget, this awaits it as :meth:`submit`
        does, and cancelling drops the outcome the same way. Order is kept: ``func`` is
        queued behind every call submitted before.

        Raises:
            BaseException: whatever ``func`` raised.
        """
        idle = self._enter()
        handoff = Handoff(func)
        self._queue.put(handoff)
        # Blocking is worth it only when the thread is idle, and when the last such call
        # fitted the budget (as an adaptive mutex spins only while holds are short):
        # typing a frequent word holds the loop for the first key's search, not for each.
        short = idle and self._last_took <= budget
        waited = handoff.wait(budget if short else 0.0)
        if waited is None:
            return handoff.result()
        return await waited

    def _enter(self) -> bool:
        """Count a call as pending (starting the thread on the first); whether none was."""
        with self._lock:
            if not self._started:
                self._thread.start()
                self._started = True
            idle = self._pending == 0
            self._pending += 1
        return idle

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
            if isinstance(item, Handoff):
                started = time.perf_counter()
                outcome = self._run(item.func)
                self._last_took = time.perf_counter() - started
                item.deliver(outcome)
            else:
                func, future, loop = item
                settle_soon(loop, future, self._run(func))

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
