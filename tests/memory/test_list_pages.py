"""The home list read as one index range scan (issue 19 target 5, issue 16's organized lists).

Contract tests, on every backend: paging the pins-first list with and without tag
filters crosses from the pins to the rest without gaps or repeats, several tags give the
same sessions whichever is rarest or named first, and a listed session is the same
record ``get_session`` returns (the list builds records straight from its rows). The
libSQL-only test checks that each first page is read from one index in order: no sort,
no compound statement.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from memory import EventDraft, MemoryBackend, open_embedded
from memory.records import TokenCount
from memory.sql.session_list import list_query
from tests.conftest import FrozenClock


def turn(n: int, *, tokens: TokenCount | None = None) -> list[EventDraft]:
    return [
        EventDraft("user", {"role": "user", "content": f"question {n}"}, turn=n),
        EventDraft("assistant", {"role": "assistant", "content": f"answer {n}"}, n, tokens),
    ]


async def walk(backend: MemoryBackend, size: int, **kwargs: Any) -> list[str]:
    """Every session of a list, read ``size`` at a time through the cursor."""
    seen: list[str] = []
    cursor = None
    while True:
        page = await backend.list_sessions(limit=size, after=cursor, **kwargs)
        seen.extend(i.id for i in page.sessions)
        cursor = page.cursor
        if cursor is None:
            return seen


async def organised(backend: MemoryBackend, clock: FrozenClock) -> list[str]:
    """12 sessions, 3 pinned (one archived), tags on some; returns them oldest first."""
    names = [f"s{i:02}" for i in range(12)]
    for name in names:
        await backend.store(name, turn(1))
        clock.advance(1)
    for i, name in enumerate(names):
        if i % 2 == 0:
            await backend.add_tags(name, ["work"])
        if i % 3 == 0:
            await backend.add_tags(name, ["rare"])
    for name in ("s02", "s03", "s06", "s09"):
        await backend.set_pinned(name, True)
    await backend.set_archived("s09", True)
    await backend.set_archived("s10", True)
    return names


@pytest.mark.parametrize("size", [1, 2, 3, 5])
async def test_home_list_pages_cross_from_pins_to_the_rest(
    backend: MemoryBackend, clock: FrozenClock, size: int
) -> None:
    names = await organised(backend, clock)
    pins = ["s06", "s03", "s02"]  # newest first; s09 is pinned but archived
    rest = [n for n in reversed(names) if n not in pins and n not in ("s09", "s10")]
    assert await walk(backend, size, pinned_first=True) == pins + rest
    work = [n for n in pins + rest if int(n[1:]) % 2 == 0]
    assert await walk(backend, size, pinned_first=True, tags=["work"]) == work
    both = [n for n in work if int(n[1:]) % 3 == 0]
    assert both == ["s06", "s00"]
    assert await walk(backend, size, pinned_first=True, tags=["work", "rare"]) == both
    assert await walk(backend, size, pinned_first=True, tags=["rare", "work"]) == both
    # The archive view and the plain list (no pins first) page the same way.
    assert await walk(backend, size, archived=True) == ["s10", "s09"]
    assert await walk(backend, size, archived=True, tags=["rare"]) == ["s09"]
    plain = [n for n in reversed(names) if n not in ("s09", "s10")]
    assert await walk(backend, size) == plain
    assert await walk(backend, size, tags=["work"]) == [n for n in plain if int(n[1:]) % 2 == 0]


async def test_a_title_filter_combines_with_pins_and_tags(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    await organised(backend, clock)
    for name in ("s00", "s03", "s04", "s06"):
        await backend.rename_session(name, f"report {name}")
    assert await walk(backend, 1, pinned_first=True, title_filter="report") == [
        "s06",
        "s03",
        "s04",
        "s00",
    ]
    assert await walk(backend, 2, pinned_first=True, title_filter="report", tags=["work"]) == [
        "s06",
        "s04",
        "s00",
    ]


async def test_a_listed_session_is_the_record_get_session_returns(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    await backend.create_session("meta", title="With metadata", metadata={"k": [1, "two"]})
    await backend.store("meta", turn(1, tokens=TokenCount(12, 5, estimated=True)))
    await backend.add_tags("meta", ["zeta", "alpha"])
    await backend.set_pinned("meta", True)
    clock.advance(1)
    await backend.store("plain", turn(1, tokens=TokenCount(3, 2)))
    await backend.fork_session("plain", at=1, title="fork")
    for kwargs in ({}, {"pinned_first": True}, {"pinned_first": True, "tags": ["alpha"]}):
        page = await backend.list_sessions(limit=10, **kwargs)  # type: ignore[arg-type]
        for listed in page.sessions:
            assert listed == await backend.get_session(listed.id), kwargs
    page = await backend.list_sessions(limit=10, pinned_first=True)
    meta = page.sessions[0]
    assert meta.id == "meta"
    assert meta.metadata == {"k": [1, "two"]}
    assert meta.tags == ("alpha", "zeta")
    assert meta.tokens_estimated is True
    assert (meta.prompt_tokens, meta.completion_tokens) == (12, 5)
    plain = next(i for i in page.sessions if i.id == "plain")
    assert (plain.tags, plain.metadata, plain.tokens_estimated) == ((), {}, False)
    fork = next(i for i in page.sessions if i.forked_from == "plain")
    assert fork.forked_at_seq == 1


async def test_each_first_page_is_one_index_range_scan(db_path: Path) -> None:
    """EXPLAIN QUERY PLAN of what the list sends: one index walked in order, no sort."""
    memory = await open_embedded(db_path)
    await memory.close()
    cases: list[tuple[str, list[str], str]] = [
        ("home", [], "sessions_recent_home"),
        ("pinned", [], "sessions_recent_home"),
        ("rest", [], "sessions_recent_home"),
        ("archived", [], "sessions_recent_archived"),
        ("home", ["work"], "session_tags_recent_home"),
        ("home", ["work", "rare"], "session_tags_recent_home"),
        ("rest", ["work"], "session_tags_recent_order"),
        ("archived", ["work"], "session_tags_recent_order"),
    ]
    conn = sqlite3.connect(db_path)
    try:
        for phase, tags, index in cases:
            for after in (None, ("2026-01-01T00:00:00.000000Z", "x")):
                sql, args = list_query(phase, limit=50, after=after, title_filter=None, tags=tags)
                plan = " | ".join(
                    str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", args)
                )
                assert index in plan, (phase, tags, after, plan)
                assert "TEMP B-TREE" not in plan, (phase, tags, after, plan)
                assert "COMPOUND" not in plan, (phase, tags, after, plan)
                if after is not None and phase != "home":
                    # A later page seeks to its cursor (the home phase's cursor is
                    # among the pins, so it skips at most the pins).
                    assert ")<(?,?)" in plan, (phase, tags, after, plan)
    finally:
        conn.close()
