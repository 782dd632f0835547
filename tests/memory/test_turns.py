"""Turn numbers and checkpoints assigned inside the save point's transaction (every backend).

Two writers on one session used to number turns from their own view (two "turn 2"s);
``store_turn`` assigns them where ``seq`` is assigned, so the database decides.
"""

from __future__ import annotations

import pytest

from memory import EventDraft, MemoryBackend, NewTurn, SerializationError, TurnOf


def user(text: str) -> EventDraft:
    return EventDraft("user", {"role": "user", "content": text}, turn=99)


def answer(text: str) -> EventDraft:
    return EventDraft("assistant", {"role": "assistant", "content": text}, turn=99)


async def test_new_turns_are_numbered_by_the_database(backend: MemoryBackend) -> None:
    first = await backend.store_turn("s1", "q1", [user("one")], turn=NewTurn())
    second = await backend.store_turn("s1", "q2", [user("two")], turn=NewTurn())
    assert (first.seqs, first.turn) == ((1,), 1)
    assert (second.seqs, second.turn) == ((2,), 2)
    info = await backend.get_session("s1")
    assert info.turns == 2


async def test_two_writers_interleaved_keep_their_own_turns(backend: MemoryBackend) -> None:
    # Writer A asks, writer B asks, then A's answer and B's answer arrive.
    a = await backend.store_turn("s1", "a-q", [user("A asks")], turn=NewTurn())
    b = await backend.store_turn("s1", "b-q", [user("B asks")], turn=NewTurn())
    a_end = await backend.store_turn("s1", "a-1", [answer("A's answer")], turn=TurnOf("a-q"))
    b_end = await backend.store_turn("s1", "b-1", [answer("B's answer")], turn=TurnOf("b-q"))
    assert (a.turn, b.turn, a_end.turn, b_end.turn) == (1, 2, 1, 2)
    events = await backend.recall("s1")
    assert [(e.seq, e.turn, e.payload["content"]) for e in events] == [
        (1, 1, "A asks"),
        (2, 2, "B asks"),
        (3, 1, "A's answer"),
        (4, 2, "B's answer"),
    ]
    assert (await backend.get_session("s1")).turns == 2


async def test_a_retried_turn_save_point_is_stored_once(backend: MemoryBackend) -> None:
    first = await backend.store_turn("s1", "q1", [user("one")], turn=NewTurn())
    again = await backend.store_turn("s1", "q1", [user("one")], turn=NewTurn())
    assert again == first
    rest = await backend.store_turn("s1", "r1", [answer("x"), answer("y")], turn=TurnOf("q1"))
    assert await backend.store_turn("s1", "r1", [answer("x"), answer("y")], turn=TurnOf("q1")) == (
        rest
    )
    assert rest.seqs == (2, 3)
    assert [e.seq for e in await backend.recall("s1")] == [1, 2, 3]
    assert (await backend.get_session("s1")).turns == 1


async def test_a_checkpoint_is_saved_with_the_save_point(backend: MemoryBackend) -> None:
    await backend.store_turn(
        "s1", "q1", [user("one")], turn=NewTurn(), state={"outcome": "running"}
    )
    snapshot = await backend.load_state("s1")
    assert snapshot is not None
    assert (snapshot.seq, snapshot.state) == (1, {"outcome": "running"})
    await backend.store_turn(
        "s1", "r1", [answer("done")], turn=TurnOf("q1"), state={"outcome": "finished"}
    )
    snapshot = await backend.load_state("s1")
    assert snapshot is not None
    assert (snapshot.seq, snapshot.state) == (2, {"outcome": "finished"})
    # Only the latest checkpoint is kept.
    assert (await backend.health()).row_counts["session_state"] == 1


async def test_an_empty_turn_save_point_is_refused(backend: MemoryBackend) -> None:
    with pytest.raises(ValueError):
        await backend.store_turn("s1", "q1", [], turn=NewTurn())


@pytest.mark.parametrize(
    "bad_id", ["", " padded", "two\nlines", "esc\x1b[2J", "c1\x9b", "bidi\u202e", "x" * 257]
)
async def test_session_ids_that_cannot_be_shown_safely_are_refused(
    backend: MemoryBackend, bad_id: str
) -> None:
    with pytest.raises(SerializationError):
        await backend.store(bad_id, [user("hello")])
    with pytest.raises(SerializationError):
        await backend.create_session(bad_id)
    assert await backend.count_sessions() == 0


async def test_titles_are_bounded(backend: MemoryBackend) -> None:
    await backend.store("s1", [user("hello")])
    with pytest.raises(SerializationError, match="at most 1,000 characters"):
        await backend.rename_session("s1", "t" * 1001)
    assert (await backend.rename_session("s1", "t" * 1000)).title == "t" * 1000
