"""A save point's events go in as one ``INSERT ... SELECT FROM (VALUES ...)`` per 500 events.

Seqs stay contiguous and in the order given across chunks, turns follow the turn
reference (the events' own, a new turn, or the turn of an earlier save point), and a
replayed save point key inserts nothing.
"""

from __future__ import annotations

from memory import EventDraft, MemoryBackend, NewTurn, TurnOf
from memory.sql.save_point import EVENTS_PER_INSERT


def drafts(n: int, turn: int = 1) -> list[EventDraft]:
    return [EventDraft("user", {"content": f"m{i}"}, turn=turn) for i in range(n)]


async def test_more_events_than_one_statement_keep_their_order(backend: MemoryBackend) -> None:
    count = 2 * EVENTS_PER_INSERT + 7
    await backend.store("s", drafts(2))
    assert await backend.store("s", drafts(count, turn=3)) == list(range(3, 3 + count))
    events = await backend.recall("s")
    assert [e.seq for e in events] == list(range(1, count + 3))
    assert [e.payload["content"] for e in events[2:]] == [f"m{i}" for i in range(count)]
    assert {e.turn for e in events[2:]} == {3}
    info = await backend.get_session("s")
    assert (info.events, info.last_seq, info.turns) == (count + 2, count + 2, 3)


async def test_turn_references_and_replays(backend: MemoryBackend) -> None:
    first = await backend.store_turn("s", "k1", drafts(3, turn=99), turn=NewTurn())
    assert (first.seqs, first.turn) == ((1, 2, 3), 1)
    joined = await backend.store_turn("s", "k2", drafts(2), turn=TurnOf("k1"))
    assert (joined.seqs, joined.turn) == ((4, 5), 1)
    second = await backend.store_turn("s", "k3", drafts(1), turn=NewTurn())
    assert (second.seqs, second.turn) == ((6,), 2)
    again = await backend.store_turn("s", "k2", drafts(2), turn=TurnOf("k1"))
    assert (again.seqs, again.turn) == ((4, 5), 1)
    assert [e.turn for e in await backend.recall("s")] == [1, 1, 1, 1, 1, 2]
    assert await backend.store_once("s", "k3", drafts(1)) == [6]
    assert (await backend.get_session("s")).events == 6
