"""The Memory contract, run unchanged against every backend (see ``backend`` fixture)."""

from __future__ import annotations

import pytest

from memory import (
    EventDraft,
    MemoryBackend,
    NotFoundError,
    SerializationError,
)
from tests.conftest import FrozenClock


def drafts(n: int, *, turn: int = 1, start: int = 0) -> list[EventDraft]:
    return [EventDraft("user", {"content": f"message {start + i}"}, turn=turn) for i in range(n)]


async def test_store_assigns_contiguous_seq_from_one(backend: MemoryBackend) -> None:
    assert await backend.store("s1", drafts(3)) == [1, 2, 3]
    assert await backend.store("s1", drafts(2, start=3)) == [4, 5]
    events = await backend.recall("s1")
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert [e.payload["content"] for e in events] == [f"message {i}" for i in range(5)]


async def test_seq_is_per_session(backend: MemoryBackend) -> None:
    assert await backend.store("a", drafts(2)) == [1, 2]
    assert await backend.store("b", drafts(1)) == [1]
    assert await backend.store("a", drafts(1)) == [3]


async def test_store_nothing_stores_nothing(backend: MemoryBackend) -> None:
    assert await backend.store("s1", []) == []
    assert await backend.find_session("s1") is None


async def test_recall_round_trips_kind_turn_and_payload(backend: MemoryBackend) -> None:
    payload = {
        "role": "tool",
        "content": "résumé ✓ 日本語 \x00 'quotes' \"; DROP TABLE sessions; --",
        "nested": {"list": [1, 2.5, None, True, {"deep": ["x"]}]},
        "big": 2**60,
    }
    await backend.store("s1", [EventDraft("tool_result", payload, turn=7)])
    (event,) = await backend.recall("s1")
    assert event.kind == "tool_result"
    assert event.turn == 7
    assert event.payload == payload
    assert event.session_id == "s1"


async def test_recall_pages_forward_and_backward(backend: MemoryBackend) -> None:
    await backend.store("s1", drafts(10))
    assert [e.seq for e in await backend.recall("s1", after=3, limit=4)] == [4, 5, 6, 7]
    assert [e.seq for e in await backend.recall("s1", limit=3, newest=True)] == [8, 9, 10]
    older = await backend.recall("s1", before=8, limit=3, newest=True)
    assert [e.seq for e in older] == [5, 6, 7]
    assert [e.seq for e in await backend.recall("s1", before=3)] == [1, 2]
    assert await backend.recall("s1", after=10) == []
    assert await backend.recall("s1", limit=0) == []


async def test_unknown_session_is_not_found(backend: MemoryBackend) -> None:
    with pytest.raises(NotFoundError) as info:
        await backend.recall("missing")
    assert info.value.session_id == "missing"
    with pytest.raises(NotFoundError):
        await backend.forget("missing")
    with pytest.raises(NotFoundError):
        await backend.get_session("missing")
    with pytest.raises(NotFoundError):
        await backend.rename_session("missing", "t")
    assert await backend.find_session("missing") is None


async def test_forget_removes_events_and_state(backend: MemoryBackend) -> None:
    await backend.store("s1", drafts(3))
    await backend.save_state("s1", {"cursor": 3})
    await backend.store("s2", drafts(1))
    await backend.forget("s1")
    with pytest.raises(NotFoundError):
        await backend.recall("s1")
    with pytest.raises(NotFoundError):
        await backend.load_state("s1")
    assert [e.seq for e in await backend.recall("s2")] == [1]
    # Forgetting twice is deterministic: the second call does not find it.
    with pytest.raises(NotFoundError):
        await backend.forget("s1")
    # A forgotten id can be reused; it starts again from seq 1.
    assert await backend.store("s1", drafts(1)) == [1]


async def test_empty_created_session_recalls_empty(backend: MemoryBackend) -> None:
    info = await backend.create_session("s1", title="Empty", provider="scripted", model="m")
    assert (info.title, info.provider, info.model, info.events, info.turns) == (
        "Empty",
        "scripted",
        "m",
        0,
        0,
    )
    assert await backend.recall("s1") == []


async def test_create_session_is_idempotent_and_updates_given_fields(
    backend: MemoryBackend,
) -> None:
    await backend.create_session("s1", title="One", metadata={"k": 1})
    info = await backend.create_session("s1", model="m2")
    assert info.title == "One"
    assert info.model == "m2"
    assert info.metadata == {"k": 1}


async def test_counters_follow_store(backend: MemoryBackend) -> None:
    await backend.store("s1", drafts(2, turn=1))
    await backend.store("s1", drafts(3, turn=2))
    info = await backend.get_session("s1")
    assert (info.events, info.turns, info.last_seq) == (5, 2, 5)


async def test_list_sessions_newest_activity_first_with_keyset_paging(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    for i in range(7):
        clock.advance(1)
        await backend.store(f"s{i}", drafts(1))
    clock.advance(1)
    await backend.store("s2", drafts(1))  # s2 becomes the most recent
    first = await backend.list_sessions(limit=3)
    assert [s.id for s in first.sessions] == ["s2", "s6", "s5"]
    assert first.cursor is not None
    second = await backend.list_sessions(limit=3, after=first.cursor)
    assert [s.id for s in second.sessions] == ["s4", "s3", "s1"]
    third = await backend.list_sessions(limit=3, after=second.cursor)
    assert [s.id for s in third.sessions] == ["s0"]
    assert third.cursor is None
    assert await backend.count_sessions() == 7


async def test_list_sessions_filters_by_title(backend: MemoryBackend) -> None:
    await backend.create_session("a", title="Refactor the parser")
    await backend.create_session("b", title="Lunch plans")
    await backend.create_session("c", title="PARSER bugs 100%")
    await backend.create_session("d")
    found = await backend.list_sessions(title_filter="parser")
    assert sorted(s.id for s in found.sessions) == ["a", "c"]
    assert [s.id for s in (await backend.list_sessions(title_filter="100%")).sessions] == ["c"]
    assert (await backend.list_sessions(title_filter="_")).sessions == ()


async def test_rename(backend: MemoryBackend) -> None:
    await backend.store("s1", drafts(1))
    info = await backend.rename_session("s1", "New title ✓")
    assert info.title == "New title ✓"
    assert (await backend.get_session("s1")).title == "New title ✓"


async def test_state_snapshots(backend: MemoryBackend) -> None:
    await backend.store("s1", drafts(2))
    assert await backend.load_state("s1") is None
    snap = await backend.save_state("s1", {"model": "x", "n": [1, 2]})
    assert snap.seq == 2
    await backend.store("s1", drafts(1))
    await backend.save_state("s1", {"model": "y"})
    latest = await backend.load_state("s1")
    assert latest is not None
    assert (latest.seq, latest.state) == (3, {"model": "y"})
    with pytest.raises(NotFoundError):
        await backend.save_state("missing", {})


@pytest.mark.parametrize(
    "payload",
    [
        {"text": "lone \ud800 surrogate"},
        {"value": float("nan")},
        {"value": {1, 2}},
        {"bytes": b"raw"},
    ],
    ids=["surrogate", "nan", "set", "bytes"],
)
async def test_unserialisable_payload_is_refused_and_nothing_stored(
    backend: MemoryBackend, payload: dict[str, object]
) -> None:
    await backend.store("s1", drafts(1))
    with pytest.raises(SerializationError):
        await backend.store("s1", [*drafts(1), EventDraft("user", payload)])
    assert [e.seq for e in await backend.recall("s1")] == [1]


async def test_deep_nesting_is_refused(backend: MemoryBackend) -> None:
    deep: dict[str, object] = {}
    node = deep
    for _ in range(1000):
        child: dict[str, object] = {}
        node["x"] = child
        node = child
    with pytest.raises(SerializationError):
        await backend.store("s1", [EventDraft("user", deep)])
    assert await backend.find_session("s1") is None


async def test_surrogate_title_is_refused(backend: MemoryBackend) -> None:
    await backend.store("s1", drafts(1))
    with pytest.raises(SerializationError):
        await backend.rename_session("s1", "bad \udc00")
    assert (await backend.get_session("s1")).title is None


async def test_large_payload_round_trips(backend: MemoryBackend) -> None:
    big = "x" * (2 * 1024 * 1024) + "✓"
    await backend.store("s1", [EventDraft("assistant", {"content": big})])
    (event,) = await backend.recall("s1")
    assert event.payload["content"] == big


async def test_health_reports_rows(backend: MemoryBackend) -> None:
    await backend.store("s1", drafts(2))
    report = await backend.health()
    assert report.reachable
    assert report.row_counts["sessions"] == 1
    assert report.row_counts["conversation_events"] == 2
    assert await backend.integrity_check() == ["ok"]


async def test_store_once_stores_a_key_once_and_returns_its_seqs(backend: MemoryBackend) -> None:
    assert await backend.store_once("s1", "k1", drafts(2)) == [1, 2]
    assert await backend.store_once("s1", "k2", drafts(1, start=2)) == [3]
    # A retry of k1 (its first attempt committed) writes nothing and reports its seqs.
    assert await backend.store_once("s1", "k1", drafts(2)) == [1, 2]
    assert await backend.store("s1", drafts(1, start=3)) == [4]
    events = await backend.recall("s1")
    assert [e.payload["content"] for e in events] == [f"message {i}" for i in range(4)]
    info = await backend.get_session("s1")
    assert (info.events, info.last_seq) == (4, 4)
    # Keys are per session, and forgetting a session forgets its keys.
    assert await backend.store_once("s2", "k1", drafts(1)) == [1]
    await backend.forget("s1")
    assert await backend.store_once("s1", "k1", drafts(1)) == [1]
