"""Scenarios 3 (restore) and 4 (session list at scale): memory layer vs raw sqlite3."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from bench.seed import migrated, seed_long_session, seed_sessions
from bench.stats import Result, Series, time_pairs
from memory import LibsqlMemory, open_embedded
from memory.sql.session_list import list_query

EVENT_COLUMNS = "seq, turn, kind, payload, created_at"
SESSION_COLUMNS = (
    "id, title, agent, provider, model, created_at, updated_at, turn_count, event_count, "
    "last_seq, metadata"
)


def restore(workdir: Path, *, events: int = 50_000, repeat: int = 15) -> list[Result]:
    """3a: whole session in order (rows/s); 3b: the newest 200-event page."""
    path = migrated(workdir / "restore.db")
    seed_long_session(path, "long", events)
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA journal_mode = WAL")
    full_sql = (
        f"SELECT {EVENT_COLUMNS} FROM conversation_events WHERE session_id = ? AND seq > ? "
        "ORDER BY seq"
    )
    page_sql = (
        f"SELECT {EVENT_COLUMNS} FROM conversation_events WHERE session_id = ? AND seq > ? "
        "ORDER BY seq DESC LIMIT ?"
    )

    async def measure() -> tuple[float, float, float, float, list[float], list[float]]:
        memory = await open_embedded(path)
        try:
            await memory.recall("long", limit=10)  # warm the connection
            ((full_raw, full_tk),) = await time_pairs(
                [
                    (
                        lambda: raw.execute(full_sql, ("long", 0)).fetchall(),
                        lambda: memory.recall("long"),
                    )
                ],
                repeat,
                block=1,  # each read takes ~0.1 s: alternate every call
            )
            ((page_raw, page_tk),) = await time_pairs(
                [
                    (
                        lambda: raw.execute(page_sql, ("long", 0, 200)).fetchall()[::-1],
                        lambda: memory.recall("long", limit=200, newest=True),
                    )
                ],
                repeat * 20,
            )
        finally:
            await memory.close()
        return (
            full_raw.median,
            full_tk.median,
            page_raw.median,
            page_tk.median,
            [full_raw.p99, full_tk.p99],
            [page_raw.p99, page_tk.p99],
        )

    full_raw, full_tk, page_raw, page_tk, full_p99, page_p99 = asyncio.run(measure())
    raw.close()
    raw_rate, tk_rate = events / full_raw, events / full_tk
    return [
        Result(
            "3a restore 50k events",
            "rows/s (turnkeep / raw)",
            raw_rate,
            tk_rate,
            ">= 0.333x raw rows/s",
            tk_rate / raw_rate >= 1 / 3,
            unit="rows/s",
            note=f"raw {full_raw * 1e3:.0f} ms, turnkeep {full_tk * 1e3:.0f} ms per full read "
            f"(p99 {full_p99[0] * 1e3:.0f} / {full_p99[1] * 1e3:.0f} ms)",
        ),
        Result(
            "3b newest page (200)",
            "latency",
            page_raw * 1e3,
            page_tk * 1e3,
            "<= 3x",
            page_tk / page_raw <= 3,
            baseline_p99=page_p99[0] * 1e3,
            turnkeep_p99=page_p99[1] * 1e3,
        ),
    ]


def _list_pair(
    raw: sqlite3.Connection, memory: LibsqlMemory, sql: str, args: Sequence[Any] = ()
) -> tuple[Callable[[], Any], Callable[[], Awaitable[Any]]]:
    """The raw first-page query and turnkeep's, on one database."""

    def baseline() -> Any:
        return raw.execute(sql, args).fetchall()

    async def turnkeep() -> Any:
        return await memory.list_sessions(limit=50)

    return baseline, turnkeep


def session_list(workdir: Path, *, repeat: int = 300) -> list[Result]:
    """4: first page of the recent list at 1k and 100k sessions vs the raw indexed query.

    Both database sizes are measured in the same loop, taking turns, so the growth
    figure compares like with like.
    """
    counts = (1_000, 100_000)
    paths = []
    for count in counts:
        path = migrated(workdir / f"list-{count}.db")
        seed_sessions(path, count)
        paths.append(path)
    sql = f"SELECT {SESSION_COLUMNS} FROM sessions ORDER BY updated_at DESC, id DESC LIMIT 50"
    # The statement turnkeep itself sends (every column a list row shows, archived left
    # out), run by raw sqlite3: the same query, so the ratio is only turnkeep's overhead.
    same_sql, same_args = list_query(
        "active", limit=50, after=None, title_filter=None, tags=[], driving_tag=None
    )
    raws = [sqlite3.connect(path) for path in paths]

    async def measure() -> list[tuple[Series, Series]]:
        memories = [await open_embedded(path) for path in paths]
        try:
            for memory in memories:
                await memory.list_sessions(limit=50)
            pairs = [
                _list_pair(raw, memory, sql) for raw, memory in zip(raws, memories, strict=True)
            ]
            pairs += [
                _list_pair(raw, memory, same_sql, same_args)
                for raw, memory in zip(raws, memories, strict=True)
            ]
            return await time_pairs(pairs, repeat)
        finally:
            for memory in memories:
                await memory.close()

    series = asyncio.run(measure())
    for raw in raws:
        raw.close()
    results: list[Result] = []
    medians: dict[int, float] = {}
    same_columns = series[len(counts) :]
    for count, (base, tk) in zip(counts, series[: len(counts)], strict=True):
        medians[count] = tk.median
        results.append(
            Result(
                f"4 recent list, {count:,} sessions",
                "first page (50)",
                base.median * 1e3,
                tk.median * 1e3,
                "<= 3x",
                tk.median / base.median <= 3,
                baseline_p99=base.p99 * 1e3,
                turnkeep_p99=tk.p99 * 1e3,
            )
        )
    for count, (base, tk) in zip(counts, same_columns, strict=True):
        results.append(
            Result(
                f"4 recent list, {count:,} sessions, same SQL",
                "first page (50)",
                base.median * 1e3,
                tk.median * 1e3,
                "<= 2x",
                tk.median / base.median <= 2,
                baseline_p99=base.p99 * 1e3,
                turnkeep_p99=tk.p99 * 1e3,
                note="baseline = raw sqlite3 running the statement turnkeep sends (all 19 "
                "columns a list row shows, archived sessions left out); the rows above "
                "keep the older 11-column baseline",
            )
        )
    growth = medians[100_000] / medians[1_000]
    results.append(
        Result(
            "4 list growth 1k -> 100k",
            "turnkeep first page",
            medians[1_000] * 1e3,
            medians[100_000] * 1e3,
            "~1x (no growth)",
            growth <= 1.5,
            note="baseline column = 1k sessions, turnkeep column = 100k sessions",
        )
    )
    return results
