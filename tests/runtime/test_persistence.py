"""The persistence worker: ordered save points, retries, surfaced errors, bounded stop."""

from __future__ import annotations

from typing import Any, cast

import pytest

from memory import EphemeralMemory, EventDraft, MemoryBackend, SerializationError
from memory.errors import StoreBusyError
from runtime import PersistenceWorker, WorkerState, WorkerStoppedError
from tests.runtime.doubles import FlakyMemoryDouble, GatedMemoryDouble


def point(n: int, turn: int = 1) -> list[EventDraft]:
    """A save point of two events numbered ``n``."""
    return [
        EventDraft("user", {"role": "user", "content": f"question {n}"}, turn),
        EventDraft("assistant", {"role": "assistant", "content": f"answer {n}"}, turn),
    ]


async def test_save_points_are_stored_in_order_one_transaction_each(
    embedded: MemoryBackend,
) -> None:
    flaky = FlakyMemoryDouble(embedded, fail_times=0)
    worker = PersistenceWorker(cast(MemoryBackend, flaky))
    saved: list[list[int]] = []
    await worker.start()
    for n in range(5):
        worker.submit("s1", point(n, turn=n + 1), on_saved=saved.append)
    assert await worker.flush(timeout=10)
    assert await worker.stop(timeout=5) == []
    assert saved == [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]
    assert len(flaky.attempts) == 5  # one store call (one transaction) per save point
    events = await embedded.recall("s1")
    assert [e.payload["content"] for e in events] == [
        text for n in range(5) for text in (f"question {n}", f"answer {n}")
    ]
    assert worker.state.status == "stopped"
    assert worker.state.saved == 5


async def test_submit_never_waits_on_the_database(embedded: MemoryBackend) -> None:
    gated = GatedMemoryDouble(embedded)
    worker = PersistenceWorker(cast(MemoryBackend, gated))
    await worker.start()
    for n in range(3):
        worker.submit("s1", point(n))  # returns while the first write is held at the gate
    await gated.entered.wait()
    assert worker.state.status == "saving"
    assert worker.state.pending == 6
    assert await worker.flush(timeout=0.01) is False
    gated.gate.set()
    assert await worker.flush(timeout=10)
    assert worker.state.pending == 0
    assert worker.state.last_saved_seq == 6
    assert await worker.stop(timeout=5) == []


async def test_failing_backend_keeps_order_loses_nothing_and_surfaces_errors(
    embedded: MemoryBackend,
) -> None:
    flaky = FlakyMemoryDouble(embedded, fail_times=4)
    worker = PersistenceWorker(cast(MemoryBackend, flaky), retry_initial=0.001, retry_max=0.004)
    states: list[WorkerState] = []
    worker.add_listener(states.append)
    await worker.start()
    for n in range(6):
        worker.submit("s1", point(n, turn=n + 1))
    assert await worker.flush(timeout=30)
    assert await worker.stop(timeout=5) == []

    retrying = [s for s in states if s.status == "retrying"]
    assert len(retrying) == 4
    assert all("cannot reach the test database" in (s.last_error or "") for s in retrying)
    assert retrying[0].pending == 12  # nothing was dropped while it failed
    assert worker.state.last_error is None  # cleared by the recovery
    assert worker.state.retries == 4

    # The same save point was retried until it went through; later ones waited behind it.
    failed = [a for a in flaky.attempts if not a[2]]
    assert len(failed) == 4
    ok = [a for a in flaky.attempts if a[2]]
    assert len(ok) == 6
    events = await embedded.recall("s1")
    assert [e.seq for e in events] == list(range(1, 13))
    assert [e.payload["content"] for e in events] == [
        text for n in range(6) for text in (f"question {n}", f"answer {n}")
    ]
    assert [e.turn for e in events] == [n + 1 for n in range(6) for _ in range(2)]


async def test_a_commit_hidden_by_a_failure_is_not_stored_twice(
    embedded: MemoryBackend,
) -> None:
    # Each of the first three writes commits, then reports a lost connection (what a
    # timeout after the server committed looks like); the retries must not duplicate.
    flaky = FlakyMemoryDouble(embedded, fail_times=3, after_commit=True)
    worker = PersistenceWorker(cast(MemoryBackend, flaky), retry_initial=0.001, retry_max=0.004)
    await worker.start()
    for n in range(4):
        worker.submit("s1", point(n, turn=n + 1))
    assert await worker.flush(timeout=30)
    assert await worker.stop(timeout=5) == []
    assert worker.state.retries == 3
    events = await embedded.recall("s1")
    assert [e.seq for e in events] == list(range(1, 9))
    assert [e.payload["content"] for e in events] == [
        text for n in range(4) for text in (f"question {n}", f"answer {n}")
    ]
    assert worker.state.last_saved_seq == 8


async def test_busy_is_retried_like_a_lost_connection(embedded: MemoryBackend) -> None:
    flaky = FlakyMemoryDouble(embedded, fail_times=2, error=StoreBusyError("locked (injected)"))
    worker = PersistenceWorker(cast(MemoryBackend, flaky), retry_initial=0.001, retry_max=0.002)
    await worker.start()
    worker.submit("s1", point(0))
    assert await worker.flush(timeout=10)
    assert await worker.stop(timeout=5) == []
    assert [e.seq for e in await embedded.recall("s1")] == [1, 2]


async def test_stop_is_bounded_and_returns_everything_not_saved(
    embedded: MemoryBackend,
) -> None:
    flaky = FlakyMemoryDouble(embedded, fail_times=10**9)  # the database never comes back
    worker = PersistenceWorker(cast(MemoryBackend, flaky), retry_initial=0.001, retry_max=0.01)
    await worker.start()
    worker.submit("a", point(1))
    worker.submit("b", point(2))
    worker.submit("a", point(3))
    unsaved = await worker.stop(timeout=0.2)
    assert [(sid, [d.payload["content"] for d in drafts]) for sid, drafts in unsaved] == [
        ("a", ["question 1", "answer 1"]),
        ("b", ["question 2", "answer 2"]),
        ("a", ["question 3", "answer 3"]),
    ]
    assert worker.state.status == "stopped"
    assert worker.state.pending == 6
    assert "cannot reach the test database" in (worker.state.last_error or "")
    assert await embedded.find_session("a") is None


async def test_permanent_error_is_parked_reported_and_does_not_wedge_the_queue(
    embedded: MemoryBackend,
) -> None:
    flaky = FlakyMemoryDouble(
        embedded, fail_times=1, error=SerializationError("cannot encode (injected)")
    )
    worker = PersistenceWorker(cast(MemoryBackend, flaky))
    await worker.start()
    worker.submit("s1", point(1))
    worker.submit("s1", point(2))
    assert await worker.flush(timeout=10)
    assert worker.state.failed == 1
    assert [e.payload["content"] for e in await embedded.recall("s1")] == [
        "question 2",
        "answer 2",
    ]
    (parked,) = worker.failed()
    assert parked[0] == "s1"
    assert "cannot encode" in parked[2]
    unsaved = await worker.stop(timeout=5)
    assert [[d.payload["content"] for d in drafts] for _, drafts in unsaved] == [
        ["question 1", "answer 1"]
    ]


async def test_unencodable_payload_is_refused_at_submit(embedded: MemoryBackend) -> None:
    worker = PersistenceWorker(embedded)
    await worker.start()
    with pytest.raises(SerializationError):
        worker.submit("s1", [EventDraft("user", {"content": float("nan")})])
    with pytest.raises(SerializationError):
        worker.submit("s1", [EventDraft("user", {"content": "\ud800"})])
    assert worker.state.pending == 0
    assert await worker.stop(timeout=5) == []


async def test_submit_after_stop_is_a_typed_error(embedded: MemoryBackend) -> None:
    worker = PersistenceWorker(embedded)
    await worker.start()
    assert await worker.stop(timeout=5) == []
    with pytest.raises(WorkerStoppedError):
        worker.submit("s1", point(1))
    with pytest.raises(WorkerStoppedError):
        await worker.start()


async def test_listener_errors_never_stop_the_worker(embedded: MemoryBackend) -> None:
    worker = PersistenceWorker(embedded)
    seen: list[str] = []

    def broken(state: WorkerState) -> None:
        raise RuntimeError("listener bug")

    worker.add_listener(broken)
    worker.add_listener(lambda state: seen.append(state.status))
    await worker.start()
    worker.submit("s1", point(1))
    assert await worker.flush(timeout=10)
    assert await worker.stop(timeout=5) == []
    assert seen[-1] == "stopped"
    assert "saving" in seen
    assert [e.seq for e in await embedded.recall("s1")] == [1, 2]


async def test_disabled_memory_is_visible_in_the_state(clock: Any) -> None:
    memory = EphemeralMemory(clock=clock)
    worker = PersistenceWorker(memory)
    assert worker.state.disabled is True
    await worker.start()
    worker.submit("s1", point(1))
    assert await worker.flush(timeout=5)
    assert worker.state.last_saved_seq == 2
    assert await worker.stop(timeout=5) == []


def test_retry_bounds_are_checked(embedded: MemoryBackend) -> None:
    with pytest.raises(ValueError):
        PersistenceWorker(embedded, retry_initial=0)
    with pytest.raises(ValueError):
        PersistenceWorker(embedded, retry_initial=2, retry_max=1)
