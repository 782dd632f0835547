"""Merging the search index's pieces (``tidy_search``, ``db tidy``, the app's idle tidy).

On every backend: hits are the same before and after, the index stays exact, and the
tidy ends. On the SQL backends it really merges: fewer FTS5 segments afterwards, and
FTS5's own integrity check passes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memory import EventDraft, LibsqlMemory, MemoryBackend, open_embedded
from runtime import payloads
from runtime.payloads import searchable_text
from runtime.search_index import tidy_index
from tests.search.consistency import index_mismatches

QUERIES = ("pangolin", "refactorAuth", "flaky upload", "turn 7", "-pangolin ledger")
TABLES = ("search_events", "search_words", "search_titles")


async def segments(memory: LibsqlMemory, table: str) -> int:
    """How many FTS5 segments ``table``'s index is in (each has rows in ``%_idx``)."""
    result = await memory.driver.execute(f"SELECT count(DISTINCT segid) FROM {table}_idx")
    return int(result.rows[0][0])


async def seed(memory: MemoryBackend, saves: int) -> None:
    """``saves`` save points, each settled (a save point's transaction writes a word-index
    segment, its settle a trigram one)."""
    for n in range(saves):
        sid = f"s{n % 7}"
        if n < 7:
            await memory.create_session(sid, title=f"Ledger {n} pangolin")
        text = f"turn {n}: the flaky upload test in refactorAuthMiddleware ledger {n}"
        if n % 5 == 0:
            text += " pangolin"
        await memory.store(
            sid,
            [
                EventDraft("user", payloads.user(text)),
                EventDraft("assistant", payloads.assistant(f"reply {n} about the ledger")),
            ],
        )
        await memory.settle_search()  # as idle time would: its substring rows, moved


async def hits_of(memory: MemoryBackend) -> list[list[tuple[str, int, str]]]:
    out = []
    for query in QUERIES:
        hits = await memory.search(query, limit=50)
        out.append([(h.session_id, h.seq, h.kind) for h in hits])
    return out


async def test_tidy_merges_and_changes_no_hit(backend: MemoryBackend) -> None:
    backend.use_search_text(searchable_text)
    await seed(backend, saves=60)
    before = await hits_of(backend)
    assert all(before[:4]), "every query but the exclusion finds something"
    pieces: dict[str, int] = {}
    if isinstance(backend, LibsqlMemory):
        pieces = {t: await segments(backend, t) for t in ("search_events", "search_words")}
        assert max(pieces.values()) > 4, pieces  # 60 transactions left many segments
    steps = await tidy_index(backend, pause=0.0, max_steps=10_000)
    assert await backend.tidy_search() is False  # done: nothing left to merge
    assert await hits_of(backend) == before
    assert await index_mismatches(backend) == []
    if isinstance(backend, LibsqlMemory):
        assert steps >= 1
        after = {t: await segments(backend, t) for t in pieces}
        assert all(after[t] <= min(3, pieces[t]) for t in pieces), (pieces, after)
        assert sum(after.values()) < sum(pieces.values())
        for table in TABLES:  # FTS5's own check of the merged b-trees (raises if broken)
            await backend.driver.execute(
                f"INSERT INTO {table} ({table}) VALUES ('integrity-check')"
            )
    else:
        assert steps == 0  # one in-memory structure: nothing to merge


async def test_saves_after_a_tidy_are_found_and_tidied_again(backend: MemoryBackend) -> None:
    backend.use_search_text(searchable_text)
    await seed(backend, saves=20)
    await tidy_index(backend, pause=0.0)
    await backend.create_session("late", title=None)
    await backend.store("late", [EventDraft("user", payloads.user("a wombat at last"))])
    hits: list[Any] = await backend.search("wombat")
    assert [(h.session_id, h.seq) for h in hits] == [("late", 1)]
    await tidy_index(backend, pause=0.0)
    assert [(h.session_id, h.seq) for h in await backend.search("wombat")] == [("late", 1)]
    assert await index_mismatches(backend) == []


async def test_a_tidy_that_gives_way_stops_and_the_next_one_finishes(tmp_path: Path) -> None:
    path = tmp_path / "give-way.db"
    memory = await open_embedded(path)
    memory.use_search_text(searchable_text)
    try:
        await seed(memory, saves=30)
        before = await segments(memory, "search_events")
        asked: list[int] = []

        def give_way() -> bool:  # someone searches after two merge transactions
            asked.append(1)
            return len(asked) > 2

        assert await tidy_index(memory, pages=1, pause=0.0, give_way=give_way) == 2
        middle = await segments(memory, "search_events")
        assert len(asked) == 3  # stopped at once, without waiting for the search to end
        await tidy_index(memory, pause=0.0, give_way=lambda: False)
        assert await memory.tidy_search() is False  # the second one finished the job
        after = await segments(memory, "search_events")
        assert after <= middle < before and after <= 3
    finally:
        await memory.close()
