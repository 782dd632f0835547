"""A call on the database thread whose caller first waits for it briefly, blocking.

Handing a short read to the database thread and back costs more than the read's Python
around it: the answer goes through ``call_soon_threadsafe`` (a write to the loop's
self-pipe, ``epoll_wait`` returning, a callback settling a future, a task step
resuming the awaiting coroutine). A :class:`Handoff` lets the caller (the event loop's
thread) block on a lock for a small, fixed budget instead: an answer that comes within
it is taken directly; past it, the caller falls back to awaiting a future, as with
:meth:`~memory.drivers.db_thread.DatabaseThread.submit`. The budget is enforced by the
lock's timeout (the work runs on the other thread, so nothing inside SQLite has to stop
for it), which bounds how long the event loop can be held.

What it cannot save is the two wake-ups themselves (the database thread's, then the
caller's): on the 2-core Firecracker VM an idle virtual CPU halts at once
(``haltpoll.guest_halt_poll_ns=0``), and waking a thread on the other one took 25-30 us
each way, against ~5 us when the two threads happen to share a CPU (a rare word's search
in ``bash scripts/bench --only search``: ~0.20 ms then, ~0.25 ms otherwise).

Exactly one side settles the outcome, decided under :attr:`Handoff._guard`: the database
thread either finds no future (the caller is still waiting, or is about to look under the
guard and find the outcome) and releases the lock, or finds the future the caller made
when it gave up waiting, and settles that on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Handoff", "settle", "settle_soon"]

T = TypeVar("T")

_UNSET: Any = object()


class Handoff(Generic[T]):
    """One call, its outcome, and how the outcome reaches the caller.

    Args:
        func: the call, run on the database thread.
    """

    __slots__ = ("func", "_ready", "_guard", "_outcome", "_future", "_loop")

    def __init__(self, func: Callable[[], T]) -> None:
        self.func = func
        self._ready = threading.Lock()
        self._ready.acquire()
        self._guard = threading.Lock()
        self._outcome: tuple[bool, Any] = _UNSET
        self._future: asyncio.Future[T] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def deliver(self, outcome: tuple[bool, Any]) -> None:
        """Hand ``(ok, result or exception)`` over (on the database thread, once)."""
        with self._guard:
            self._outcome = outcome
            future, loop = self._future, self._loop
        if future is None or loop is None:
            self._ready.release()
            return
        settle_soon(loop, future, outcome)

    def wait(self, budget: float) -> asyncio.Future[T] | None:
        """Block for at most ``budget`` seconds for the outcome (on the caller's thread).

        Returns:
            ``None`` when the outcome is in (take it with :meth:`result`); else a future
            of the running loop that the database thread will settle.
        """
        if self._ready.acquire(timeout=budget):
            return None
        with self._guard:
            if self._outcome is not _UNSET:  # delivered between the timeout and here
                return None
            loop = asyncio.get_running_loop()
            self._loop = loop
            self._future = future = loop.create_future()
        return future

    def result(self) -> T:
        """The call's result, or its exception raised (after :meth:`wait` gave ``None``)."""
        ok, value = self._outcome
        if ok:
            return value  # type: ignore[no-any-return]
        raise value


def settle(future: asyncio.Future[Any], outcome: tuple[bool, Any]) -> None:
    """Give ``future`` the outcome ``(ok, result or exception)`` unless it was cancelled."""
    if future.cancelled():
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def settle_soon(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], outcome: tuple[bool, Any]
) -> None:
    """:func:`settle` ``future`` on ``loop``'s thread (from another thread); nothing when
    the loop has closed meanwhile (nobody waits any more)."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(settle, future, outcome)
