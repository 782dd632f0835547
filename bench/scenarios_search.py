"""Full-text search at scale: a corpus of a million events in 10,000 sessions.

The corpus is prose, code and tool output drawn from a fixed vocabulary (seeded, so
every run searches the same text), written with raw sqlite3 into a migrated database,
with rare words planted at known places. The index is then built by the runtime's own
backfill (which measures its rate). Figures:

* query latency, top 20 with snippets, for a rare word, a common word, a phrase, a
  prefix, a word with an excluded word and a two-letter term: ``memory.search``
  against the very same SQL on a raw sqlite3 connection (target <= 1.5x), and the
  speed-up over the old ``LIKE`` scan (``search_events``);
* a save point with the index against the same save point without its index rows
  (target <= 1.3x), the idle-time move of its pending rows into the trigram index
  (reported per event and added to the save points), and the save point as it was
  before migration 0015 (both FTS5 indexes in its transaction) with its floor;
* backfill rate (events/s) and index size against the database size;
* ``turnkeep search`` as a whole process against a bare Python start;
* the TUI's search screen: keystroke to results painted, and UI stalls while typing
  (:mod:`bench.scenarios_search_tui`).

The corpus size comes from ``TURNKEEP_BENCH_SEARCH_EVENTS`` (default 1,000,000).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.index_sides import (
    FLOOR_TOKEN,
    count_index_rows,
    in_transaction,
    one_token,
    without_index,
)
from bench.scenarios_search_tui import typing_figures
from bench.search_corpus import (
    COMMON,
    EVENTS,
    EXCLUDED,
    PHRASE,
    PREFIX,
    RARE,
    SESSIONS,
    SHORT,
    WORDS,
    build_corpus,
)
from bench.stats import Result, Series, time_pairs
from memory import EventDraft, open_embedded
from memory.sql.search_statements import search_statement
from runtime import payloads
from runtime.payloads import searchable_text
from runtime.search_index import backfill_index, tidy_index


def _size_of(conn: sqlite3.Connection, pattern: str) -> int:
    row = conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE ?", (pattern,)).fetchone()
    return int(row[0] or 0)


async def _backfill(path: Path) -> tuple[float, int, float]:
    """Backfill the corpus, then merge the index's segments as the app does after it
    (tui.app: the idle-time tidy waits for the backfill); both timed."""
    memory = await open_embedded(path)
    memory.use_search_text(searchable_text)
    try:
        pending = (await memory.search_progress()).pending_events
        started = time.perf_counter()
        await backfill_index(memory, batch=2000, pause=0)
        backfilled = time.perf_counter()
        await tidy_index(memory, pause=0)
        return backfilled - started, pending, time.perf_counter() - backfilled
    finally:
        await memory.close()


async def _queries(path: Path, repeat: int) -> list[tuple[str, Series, Series, float]]:
    raw = sqlite3.connect(path)
    memory = await open_embedded(path)
    memory.use_search_text(searchable_text)
    out: list[tuple[str, Series, Series, float]] = []
    try:
        for label, query in (
            ("rare word", RARE),
            ("common word", COMMON),
            ("phrase", PHRASE),
            ("prefix", PREFIX),
            ("exclusion", EXCLUDED),
            ("short term", SHORT),
        ):
            plan = search_statement(query, limit=20)
            assert plan is not None
            sql, args = plan.sql, plan.args
            hits = await memory.search(query, limit=20)
            assert hits, f"no hit for {query}"

            def run_raw(sql: str = sql, args: list[Any] = args) -> list[Any]:
                return raw.execute(sql, args).fetchall()

            def run_tk(query: str = query) -> Any:
                return memory.search(query, limit=20)

            ((base, tk),) = await time_pairs([(run_raw, run_tk)], repeat, block=2)
            word = query.strip('"*').split()[0]  # the LIKE scan of the first word
            like_started = time.perf_counter()
            await memory.search_events(word, limit=20)
            out.append((label, base, tk, time.perf_counter() - like_started))
    finally:
        await memory.close()
        raw.close()
    return out


def _index_rows(path: Path, names: tuple[str, ...]) -> dict[str, tuple[int, int, int, int]]:
    """Per ``bench-NAME`` session: its events' rows in the word index, the pending rows
    and the trigram index, and how many hold the floor side's token
    (:func:`bench.index_sides.count_index_rows`)."""
    with sqlite3.connect(path) as conn:
        found = {name: count_index_rows(conn, f"bench-{name}", FLOOR_TOKEN) for name in names}
    conn.close()
    return {
        name: (
            rows["search_words"],
            rows["search_pending"],
            rows["search_events"],
            rows["matching"],
        )
        for name, rows in found.items()
    }


async def _saves(path: Path, turns: int) -> tuple[dict[str, tuple[Series, Series]], Series]:
    """Save points with their index rows against the same batches without them.

    Returns wall-clock and CPU (process time, all threads) series per side: ``plain``
    (no index rows), ``indexed`` (the save point as turnkeep writes it: word index rows
    and pending substring rows), ``before`` (as before migration 0015: both FTS5 indexes
    in the save point's transaction) and ``floor`` (``before`` with each text cut to one
    three-letter token: what two FTS5 tables written per transaction cost whatever the
    text, :mod:`bench.index_sides`); and the wall-clock of each ``settle_search`` that
    moves a block's pending rows into the trigram index, as the persistence worker does
    when it goes idle. On a shared, overloaded machine the wall clock mostly measures
    scheduling, so the CPU a save point costs is the steadier figure. The sides take
    turns in blocks of ten.
    """
    names = ("indexed", "plain", "before", "floor")
    before = _index_rows(path, names)
    memory = await open_embedded(path)
    memory.use_search_text(searchable_text)
    indexed = memory._store_statements

    def plain(*args: Any) -> list[tuple[str, list[Any]]]:
        # Every index row: the pending rows and their word-index twins.
        return without_index(indexed(*args))

    def both(*args: Any) -> list[tuple[str, list[Any]]]:
        return in_transaction(indexed(*args))

    def floor(*args: Any) -> list[tuple[str, list[Any]]]:
        return one_token(in_transaction(indexed(*args)))

    sides = {"indexed": indexed, "plain": plain, "before": both, "floor": floor}
    found = {name: (Series(), Series()) for name in sides}
    settles = Series()

    async def save(name: str, turn: int) -> None:
        drafts = [
            EventDraft("user", payloads.user(f"turn {turn}: {WORDS[turn % 50]} question")),
            EventDraft("assistant", payloads.assistant("An answer of some length. " * 40)),
        ]
        wall, cpu = found[name]
        started, started_cpu = time.perf_counter(), time.process_time()
        await memory.store(f"bench-{name}", drafts)
        wall.samples.append(time.perf_counter() - started)
        cpu.samples.append(time.process_time() - started_cpu)

    try:
        for block in range(turns // 10):
            for name, statements in sides.items():
                memory._store_statements = statements  # type: ignore[method-assign,assignment]
                for turn in range(10):
                    await save(name, block * 10 + turn)
                if name == "indexed":  # the block's idle time: its pending rows settle
                    started = time.perf_counter()
                    moved = await memory.settle_search()
                    settles.samples.append(time.perf_counter() - started)
                    assert moved == 20, f"settled {moved} rows of a block's 20"
    finally:
        await memory.close()
    after = _index_rows(path, names)
    events = 2 * (turns // 10) * 10
    wanted = {
        "indexed": (events, 0, events, 0),
        "plain": (0, 0, 0, 0),
        "before": (events, 0, events, 0),
        "floor": (events, 0, events, events),
    }
    for name, want in wanted.items():
        got = tuple(a - b for a, b in zip(after[name], before[name], strict=True))
        assert got == want, f"save points {name}: rows (words, pending, trigram, token) {got}"
    return found, settles


def _process_times(path: Path, repeat: int) -> tuple[Series, Series]:
    env = {**os.environ, "TURNKEEP_DB__PATH": str(path)}
    bare, cli = Series(), Series()
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.samples.append(time.perf_counter() - started)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "tui", "search", RARE, "--json"],
            env=env,
            capture_output=True,
            check=True,
        )
        cli.samples.append(time.perf_counter() - started)
        assert json.loads(done.stdout), "turnkeep search found nothing"
    return bare, cli


def search(workdir: Path, *, repeat: int = 20) -> list[Result]:
    """Every search figure on one corpus (see the module docstring)."""
    path = workdir / "search.db"
    corpus = build_corpus(path)
    seconds, pending, tidied = asyncio.run(_backfill(path))
    rate = pending / seconds
    with sqlite3.connect(path) as conn:
        index_bytes = _size_of(conn, "search_%")
        total = int(conn.execute("PRAGMA page_count").fetchone()[0]) * int(
            conn.execute("PRAGMA page_size").fetchone()[0]
        )
    conn.close()
    size = f"{EVENTS:,} events in {SESSIONS:,} sessions"
    results = [
        Result(
            "search corpus",
            "build s (raw inserts) / backfill s",
            corpus["seconds"],
            seconds,
            "report",
            None,
            unit="s",
            note=f"{size}; backfill {rate:,.0f} events/s, then the app's index tidy "
            f"(segments merged) {tidied:.1f} s",
        ),
        Result(
            "search index size",
            "MiB (db without index / index)",
            (total - index_bytes) / 2**20,
            index_bytes / 2**20,
            "report",
            None,
            unit="MiB",
        ),
    ]
    for label, base, tk, like in asyncio.run(_queries(path, repeat)):
        results.append(
            Result(
                f"search {label}",
                "top 20 with snippets (raw sqlite3 / turnkeep)",
                base.median * 1000,
                tk.median * 1000,
                "<= 1.5x",
                tk.median <= 1.5 * base.median,
                baseline_p99=base.p99 * 1000,
                turnkeep_p99=tk.p99 * 1000,
                note=f"old LIKE scan {like * 1000:,.0f} ms: {like / tk.median:,.0f}x slower",
            )
        )
    saves, settles = asyncio.run(_saves(path, 200))
    (plain, cpu_plain), (indexed, cpu_indexed) = saves["plain"], saves["indexed"]
    (both, cpu_both), (floor, cpu_floor) = saves["before"], saves["floor"]

    def cpu_mean(series: Series) -> float:
        return sum(series.samples) / len(series.samples) * 1000

    results.append(
        Result(
            "save point with index",
            "save point wall (without / with index rows)",
            plain.median * 1000,
            indexed.median * 1000,
            "<= 1.3x",
            indexed.median <= 1.3 * plain.median,
            baseline_p99=plain.p99 * 1000,
            turnkeep_p99=indexed.p99 * 1000,
            note="word index rows in the save point's transaction, substring rows pending "
            "(migration 0015)",
        )
    )
    results.append(
        Result(
            "save point with index",
            "save point CPU, mean (without / with index rows)",
            cpu_mean(cpu_plain),
            cpu_mean(cpu_indexed),
            "<= 1.3x",
            cpu_mean(cpu_indexed) <= 1.3 * cpu_mean(cpu_plain),
        )
    )
    # The pending rows' move into the trigram index, in idle time: per event, and added
    # to the save points that wrote them (each block: 10 save points, 20 events).
    settle_per_save = sum(settles.samples) / (10 * len(settles.samples))
    results.append(
        Result(
            "save point with index: idle-time settle",
            "save point wall, mean (without / with index rows and their settle)",
            statistics.mean(plain.samples) * 1000,
            (statistics.mean(indexed.samples) + settle_per_save) * 1000,
            "report",
            None,
            note=f"settle of a block's 20 pending rows: median {settles.median * 1000:.2f} ms "
            f"({settles.median / 20 * 1e6:.0f} us an event), run when the persistence "
            "worker goes idle, not while a save point waits",
        )
    )
    results.append(
        Result(
            "save point with index: both FTS5 indexes in its transaction",
            "save point wall (without / with both indexes' rows, as before 0015)",
            plain.median * 1000,
            both.median * 1000,
            "report",
            None,
            note=f"CPU mean {cpu_mean(cpu_both):.3f} ms (without: {cpu_mean(cpu_plain):.3f} ms); "
            f"the floor, one 3-letter token per row: {floor.median * 1000:.3f} ms wall, "
            f"{floor.median / plain.median:.2f}x, CPU mean {cpu_mean(cpu_floor):.3f} ms: the "
            "part no text, tokenizer option or statement shape removes while both indexes "
            "are written in the save point's transaction",
        )
    )
    results += typing_figures(path, workdir)
    bare, cli = _process_times(path, 5)
    results.append(
        Result(
            "turnkeep search process",
            "whole process (python -c pass / turnkeep search)",
            bare.median * 1000,
            cli.median * 1000,
            "< 410 ms (ctk)",
            cli.median < 0.41,
        )
    )
    return results
