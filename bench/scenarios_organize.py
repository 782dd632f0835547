"""Scenario 4o: the recent list with pins, tags and archive filters on 100,000 sessions.

Every case is timed against today's plain indexed first-page query (scenario 4's
baseline) on the same database, so "as fast as today" reads directly as the ratio.
The database is organised like a heavy user's: 20 pinned sessions, 10% archived, a
common tag on 10% of the sessions and a rare one on 0.1%.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.scenarios_memory import SESSION_COLUMNS
from bench.seed import migrated, seed_sessions
from bench.stats import Result, time_pairs
from memory import LibsqlMemory, open_embedded

__all__ = ["session_list_organized"]

COUNT = 100_000


def _organise(path: Path) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE sessions SET pinned_at = updated_at WHERE rowid % 5000 = 0")
        conn.execute("UPDATE sessions SET archived_at = updated_at WHERE rowid % 10 = 3")
        conn.execute(
            "INSERT INTO session_tags SELECT id, 'work' FROM sessions WHERE rowid % 10 = 1"
        )
        conn.execute(
            "INSERT INTO session_tags SELECT id, 'rare' FROM sessions WHERE rowid % 1000 = 1"
        )
        # The display copy the memory layer keeps beside session_tags.
        conn.execute(
            "UPDATE sessions SET tags = (SELECT group_concat(tag, char(31)) FROM "
            "(SELECT tag FROM session_tags t WHERE t.session_id = sessions.id ORDER BY tag)) "
            "WHERE id IN (SELECT session_id FROM session_tags)"
        )
    conn.close()


CASES: list[tuple[str, dict[str, Any]]] = [
    ("plain list (scenario 4 call)", {}),
    ("home list, pins first", {"pinned_first": True}),
    ("pins first + common tag (10%)", {"pinned_first": True, "tags": ["work"]}),
    ("pins first + rare tag (0.1%)", {"pinned_first": True, "tags": ["rare"]}),
    ("two tags (10% and 0.1%)", {"pinned_first": True, "tags": ["work", "rare"]}),
    ("archived only (10%)", {"archived": True}),
]


def session_list_organized(workdir: Path, *, repeat: int = 300) -> list[Result]:
    """4o: first page (50) of each organised list vs today's plain first-page query."""
    path = migrated(workdir / "list-organized.db")
    seed_sessions(path, COUNT)
    _organise(path)
    sql = f"SELECT {SESSION_COLUMNS} FROM sessions ORDER BY updated_at DESC, id DESC LIMIT 50"
    raw = sqlite3.connect(path)

    def baseline() -> Any:
        return raw.execute(sql).fetchall()

    def call(memory: LibsqlMemory, kwargs: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
        async def turnkeep() -> Any:
            page = await memory.list_sessions(limit=50, **kwargs)
            assert len(page.sessions) == 50
            return page

        return turnkeep

    async def measure() -> list[Any]:
        memory = await open_embedded(path)
        try:
            pairs = [(baseline, call(memory, kwargs)) for _, kwargs in CASES]
            for _, turnkeep in pairs:
                await turnkeep()
            return await time_pairs(pairs, repeat)
        finally:
            await memory.close()

    series = asyncio.run(measure())
    raw.close()
    return [
        Result(
            f"4o list, {COUNT:,} sessions",
            name,
            base.median * 1e3,
            tk.median * 1e3,
            "<= 3x",
            tk.median / base.median <= 3,
            baseline_p99=base.p99 * 1e3,
            turnkeep_p99=tk.p99 * 1e3,
            note="baseline: today's plain first-page query",
        )
        for (name, _), (base, tk) in zip(CASES, series, strict=True)
    ]
