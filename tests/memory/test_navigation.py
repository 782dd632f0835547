"""The EventNavigator contract (issue 13): turn starts, user messages, id prefixes.

Runs unchanged against every backend (ephemeral, embedded file, real sqld).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from memory import EventDraft, MemoryBackend, NotFoundError, open_embedded
from memory.sql.navigation import ID_PREFIX_SQL, NEXT_USER_SQL, PREVIOUS_USER_SQL, TURN_START_SQL


def turn(n: int, tools: int = 0) -> list[EventDraft]:
    """A user message, ``tools`` tool calls, an answer: all of turn ``n``."""
    events = [EventDraft("user", {"role": "user", "content": f"question {n}"}, turn=n)]
    events += [
        EventDraft("tool_call", {"name": "calc", "arguments": {}, "id": f"c{n}.{i}"}, turn=n)
        for i in range(tools)
    ]
    events.append(EventDraft("assistant", {"role": "assistant", "content": f"answer {n}"}, n))
    return events


async def seeded(backend: MemoryBackend) -> None:
    # Turn n has n - 1 tool calls, so turn starts are not evenly spaced:
    # seqs: turn 1 -> 1..2, turn 2 -> 3..5, turn 3 -> 6..9, turn 4 -> 10..14.
    for n in range(1, 5):
        await backend.store("s", turn(n, tools=n - 1))


async def test_turn_start_is_the_turns_user_message(backend: MemoryBackend) -> None:
    await seeded(backend)
    assert [await backend.turn_start_seq("s", n) for n in (1, 2, 3, 4)] == [1, 3, 6, 10]
    assert await backend.turn_start_seq("s", 0) == 1
    assert await backend.turn_start_seq("s", 5) is None


async def test_a_turn_without_a_user_message_lands_on_the_next_one(
    backend: MemoryBackend,
) -> None:
    await backend.store("s", turn(1))
    await backend.store("s", [EventDraft("system", {"role": "system", "content": "x"}, turn=2)])
    await backend.store("s", turn(3))
    assert await backend.turn_start_seq("s", 2) == 4


async def test_next_and_previous_user_message(backend: MemoryBackend) -> None:
    await seeded(backend)
    assert await backend.user_message_seq("s", after=0) == 1
    assert await backend.user_message_seq("s", after=1) == 3
    assert await backend.user_message_seq("s", after=7) == 10
    assert await backend.user_message_seq("s", after=10) is None
    assert await backend.user_message_seq("s", before=10) == 6
    assert await backend.user_message_seq("s", before=9) == 6
    assert await backend.user_message_seq("s", before=1) is None
    with pytest.raises(ValueError):
        await backend.user_message_seq("s")
    with pytest.raises(ValueError):
        await backend.user_message_seq("s", after=1, before=3)


async def test_unknown_sessions_are_not_found(backend: MemoryBackend) -> None:
    with pytest.raises(NotFoundError):
        await backend.turn_start_seq("nope", 1)
    with pytest.raises(NotFoundError):
        await backend.user_message_seq("nope", after=0)


async def test_an_empty_session_has_no_turns(backend: MemoryBackend) -> None:
    await backend.create_session("empty")
    assert await backend.turn_start_seq("empty", 1) is None
    assert await backend.user_message_seq("empty", before=10) is None


async def test_ids_by_prefix_in_id_order(backend: MemoryBackend) -> None:
    for session_id in ("abc1", "abc2", "abd", "ab", "b", "ab\u00e9"):
        await backend.create_session(session_id)
    assert await backend.session_ids_with_prefix("abc", 10) == ["abc1", "abc2"]
    assert await backend.session_ids_with_prefix("ab", 10) == [
        "ab",
        "abc1",
        "abc2",
        "abd",
        "ab\u00e9",
    ]
    assert await backend.session_ids_with_prefix("ab", 2) == ["ab", "abc1"]
    assert await backend.session_ids_with_prefix("abd", 10) == ["abd"]
    assert await backend.session_ids_with_prefix("c", 10) == []
    # Characters that LIKE would treat as wildcards are plain text here.
    assert await backend.session_ids_with_prefix("a%", 10) == []
    assert await backend.session_ids_with_prefix("a_", 10) == []


async def test_lookups_use_the_indexes_not_a_walk(db_path: Path) -> None:
    """The plans read an index range: no full scan, no sort (SQLite's own plan)."""
    memory = await open_embedded(db_path)
    await memory.close()
    with sqlite3.connect(db_path) as conn:
        plans = [
            " ".join(
                str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", args).fetchall()
            )
            for sql, args in (
                (TURN_START_SQL, ["s", 3]),
                (NEXT_USER_SQL, ["s", 3]),
                (PREVIOUS_USER_SQL, ["s", 3]),
                (ID_PREFIX_SQL, ["a", "b", 3]),
            )
        ]
    for plan in plans:
        assert "SEARCH" in plan and "TEMP B-TREE" not in plan, plan
