"""A call whose caller blocks for it briefly (``DatabaseThread.call_waiting``).

The caller's thread (the event loop's) waits on a lock for at most a budget, takes an
outcome that came within it, and otherwise awaits a future the database thread settles.
These tests drive both ways deterministically: a call that finishes well within a long
budget (so the caller never yields to the loop), and a call held by a gate that only the
event loop opens (so the budget must run out first). The window between a timed-out wait
and the outcome arriving is driven by a test double of the lock (``LateLock``), the one
interleaving real threads cannot be made to hit on demand.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from memory import open_embedded
from memory.drivers.db_thread import DatabaseThread
from memory.drivers.handoff import Handoff
from memory.errors import QueryError

#: Long enough that a call which does nothing always finishes within it.
LONG = 30.0
#: So short that a call held by a gate is always past it.
SHORT = 0.001


async def _gated(thread: DatabaseThread, gate: threading.Event, value: Any) -> Any:
    """``value`` from a call that waits for ``gate``, which the caller opens afterwards."""

    def held() -> Any:
        assert gate.wait(LONG)
        return value

    return await thread.call_waiting(held, SHORT)


async def test_an_outcome_within_the_budget_is_taken_without_yielding_to_the_loop() -> None:
    thread = DatabaseThread("test-db")
    others: list[str] = []

    async def other() -> None:
        others.append("ran")

    try:
        task = asyncio.create_task(other())
        ident = await thread.call_waiting(threading.get_ident, LONG)
        assert ident != threading.get_ident()  # it ran on the database thread
        assert others == []  # the loop did not run meanwhile: no wake-up, no future
        await task
        assert others == ["ran"]
    finally:
        thread.stop()


async def test_past_the_budget_the_outcome_is_awaited_and_the_loop_runs_meanwhile() -> None:
    thread = DatabaseThread("test-db")
    gate = threading.Event()
    try:
        call = asyncio.create_task(_gated(thread, gate, "late"))
        await asyncio.sleep(0)  # the call runs: its wait runs out, it awaits
        assert not call.done()
        gate.set()  # only the loop can open it, so the loop ran while the call was out
        assert await call == "late"
        # The thread goes on serving, both ways.
        assert await thread.call_waiting(lambda: 7, LONG) == 7
        assert await thread.submit(lambda: 8) == 8
    finally:
        gate.set()
        thread.stop()


class LateLock:
    """Test double of the handoff's lock: its timed wait runs out just as the outcome
    arrives (the delivery runs to its end on another thread before the timeout is
    reported), the interleaving the guard exists for."""

    def __init__(self, handoff: Handoff[Any], outcome: tuple[bool, Any]) -> None:
        self._handoff = handoff
        self._outcome = outcome
        self.released = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        deliverer = threading.Thread(target=self._handoff.deliver, args=(self._outcome,))
        deliverer.start()
        deliverer.join()
        return False

    def release(self) -> None:
        self.released += 1


async def test_an_outcome_arriving_as_the_wait_runs_out_is_taken_once() -> None:
    handoff: Handoff[int] = Handoff(lambda: 5)
    late = LateLock(handoff, (True, 5))
    handoff._ready = late  # type: ignore[assignment]
    assert handoff.wait(SHORT) is None  # no future: the outcome is already in
    assert handoff.result() == 5
    assert late.released == 1


async def test_an_outcome_after_the_wait_gave_up_settles_the_future_once() -> None:
    handoff: Handoff[int] = Handoff(lambda: 5)
    future = handoff.wait(0)
    assert future is not None
    deliverer = threading.Thread(target=handoff.deliver, args=((True, 5),))
    deliverer.start()
    deliverer.join()
    assert await future == 5
    # The lock was left alone: the caller is no longer waiting on it.
    assert handoff._ready.locked()


async def test_an_outcome_before_the_wait_is_taken_at_once() -> None:
    handoff: Handoff[int] = Handoff(lambda: 5)
    handoff.deliver((False, ValueError("broken")))
    assert handoff.wait(LONG) is None
    with pytest.raises(ValueError, match="broken"):
        handoff.result()


async def test_every_outcome_arrives_exactly_once_whichever_way_it_goes() -> None:
    """Budgets around the calls' own length, so both ways and the race between them
    occur; each call must return its own value, and no future may be settled twice
    (the loop would report an InvalidStateError to its exception handler)."""
    thread = DatabaseThread("test-db")
    loop = asyncio.get_running_loop()
    problems: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: problems.append(context))

    def spin(n: int) -> int:
        total = 0
        for i in range(n * 50):
            total += i
        return n

    try:
        for n in range(300):
            assert await thread.call_waiting(lambda n=n: spin(n), 0.00002 * (n % 7)) == n
        assert problems == []
    finally:
        loop.set_exception_handler(None)
        thread.stop()


async def test_errors_keep_their_type_both_ways() -> None:
    thread = DatabaseThread("test-db")
    gate = threading.Event()

    def broken() -> None:
        raise KeyError("within")

    def broken_late() -> None:
        assert gate.wait(LONG)
        raise LookupError("late")

    try:
        with pytest.raises(KeyError, match="within"):
            await thread.call_waiting(broken, LONG)
        late = asyncio.create_task(thread.call_waiting(broken_late, SHORT))
        await asyncio.sleep(0)
        gate.set()
        with pytest.raises(LookupError, match="late"):
            await late
    finally:
        gate.set()
        thread.stop()


async def test_driver_errors_are_translated_both_ways(tmp_path: Path) -> None:
    memory = await open_embedded(tmp_path / "t.db")
    driver = memory._driver
    gate = threading.Event()

    def late_syntax_error(conn: Any) -> Any:
        assert gate.wait(LONG)
        return conn.execute("SELEC 1").fetchall()

    try:
        with pytest.raises(QueryError):
            await driver.run(lambda conn: conn.execute("SELEC 1").fetchall(), wait=LONG)
        late = asyncio.create_task(driver.run(late_syntax_error, wait=SHORT))
        await asyncio.sleep(0)
        gate.set()
        with pytest.raises(QueryError):
            await late
        assert await driver.run(lambda conn: conn.execute("SELECT 1").fetchall(), wait=LONG) == [
            (1,)
        ]
    finally:
        gate.set()
        await memory.close()


async def test_calls_keep_their_order_and_a_busy_thread_is_not_waited_for() -> None:
    thread = DatabaseThread("test-db")
    gate, again = threading.Event(), threading.Event()
    ran: list[str] = []

    def first() -> str:
        assert gate.wait(LONG)
        ran.append("first")
        return "first"

    try:
        running = thread.submit(first)
        # The thread is busy: this call is queued behind the first and awaited (were it
        # waited for, the loop could not open the gate and this test would hang).
        second = asyncio.create_task(thread.call_waiting(lambda: ran.append("second"), LONG))
        await asyncio.sleep(0)
        assert not second.done()
        # Pending calls keep a call on the caller's thread from jumping the queue.
        assert thread.call_now(lambda: ran.append("now")) == (False, None)
        gate.set()
        assert await running == "first"
        await second
        assert ran == ["first", "second"]
        # An earlier waited call also runs before a later submitted one.
        held = asyncio.create_task(_gated(thread, again, "held"))
        await asyncio.sleep(0)
        later = thread.submit(lambda: ran.append("later"))
        await asyncio.sleep(0)
        assert ran == ["first", "second"] and not later.done()
        again.set()
        assert await held == "held"
        await later
        assert ran == ["first", "second", "later"]
    finally:
        gate.set()
        again.set()
        thread.stop()


async def test_a_cancelled_caller_drops_the_outcome_and_the_thread_goes_on() -> None:
    thread = DatabaseThread("test-db")
    gate = threading.Event()
    try:
        call = asyncio.create_task(_gated(thread, gate, "dropped"))
        await asyncio.sleep(0)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        gate.set()
        assert await thread.call_waiting(lambda: "next", LONG) == "next"
    finally:
        gate.set()
        thread.stop()


async def test_after_a_call_longer_than_its_budget_the_next_one_is_not_waited_for() -> None:
    """Typing a frequent word holds the loop for the first key's search only."""
    thread = DatabaseThread("test-db")
    gate = threading.Event()
    others: list[int] = []

    async def other() -> None:
        others.append(1)

    try:
        held = asyncio.create_task(_gated(thread, gate, "long"))
        await asyncio.sleep(0.05)  # the held call runs far longer than SHORT
        gate.set()
        assert await held == "long"
        task = asyncio.create_task(other())
        assert await thread.call_waiting(lambda: "quick", SHORT) == "quick"
        assert others == [1]  # not waited for: the loop ran the other task meanwhile
        # That call was short: the next is waited for again (no yield to the loop).
        task = asyncio.create_task(other())
        assert await thread.call_waiting(lambda: "waited", LONG) == "waited"
        assert others == [1]
        await task
    finally:
        gate.set()
        thread.stop()
