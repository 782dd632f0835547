"""Scenario 8: a million events. The same operations on 10,000 and 1,000,000 events.

Each operation runs on both generated databases (:mod:`bench.scale_data`) in the same
loop, taking turns in blocks, and is reported as a ratio large / small. Both databases
hold the same largest session and the same rare word, so each operation does the same
work on its own rows; only what surrounds them grows a hundredfold.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.children import wall_time
from bench.scale_data import BIG, BIG_EVENTS, RARE, RARE_HITS, SIZES, database
from bench.stats import Result, Series, p99
from memory import LibsqlMemory, open_embedded
from memory.bundle import write_bundle
from runtime.search_index import tidy_index

TARGET = 1.2
#: What the session screen reads when it opens (tui/screens/session.py FIRST_PAGE).
OPEN_PAGE = 30


async def alternate(
    pairs: list[tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[Any]]]],
    repeat: int,
    block: int = 5,
) -> list[tuple[Series, Series]]:
    """Time each ``(small, large)`` pair ``repeat`` times each, alternating in blocks."""
    out = [(Series(), Series()) for _ in pairs]
    for _ in range(0, repeat, block):
        for pair, series in zip(pairs, out, strict=True):
            for func, into in zip(pair, series, strict=True):
                for _ in range(block):
                    started = time.perf_counter()
                    await func()
                    into.samples.append(time.perf_counter() - started)
    return out


def _operations(memory: LibsqlMemory) -> dict[str, Callable[[], Awaitable[Any]]]:
    async def list_page() -> Any:
        return await memory.list_sessions(limit=50, pinned_first=True)

    async def open_big() -> Any:
        info = await memory.get_session(BIG)
        events = await memory.recall(BIG, limit=OPEN_PAGE, newest=True)
        assert events[-1].seq == BIG_EVENTS
        return info, events

    async def first_turn() -> Any:
        events = await memory.recall(BIG, after=0, limit=OPEN_PAGE)
        assert events[0].seq == 1
        return events

    async def search() -> Any:
        hits = await memory.search(RARE, limit=20)
        assert len(hits) == RARE_HITS, len(hits)
        return hits

    async def export() -> Any:
        chunks: list[str] = []
        await write_bundle(memory.export_sessions([BIG]), chunks.append)
        return chunks

    async def status() -> Any:
        report = await memory.health()
        assert report.row_counts["conversation_events"] >= 10_000
        return report

    return {
        "list first page (50, pins first)": list_page,
        f"open the largest session ({BIG_EVENTS:,} events, newest {OPEN_PAGE})": open_big,
        f"its first turn (recall from seq 0, {OPEN_PAGE})": first_turn,
        f"search a rare word ({RARE_HITS} hits, top 20)": search,
        "export the largest session": export,
        "db status: backend health()": status,
    }


UNTIDIED = ", index as save points left it"
TIDIED = ", index tidied"
#: Notes by the first 12 characters of an operation's name.
_NOTES = {
    "its first tu": "recall of the first page from seq 0",
    "search a rar": "the app merges the index's segments in idle time (migration 0013, "
    "`turnkeep db tidy`); the row 'as save points left it' is before that merge, and is "
    "reported without a target",
}

REPEATS = {
    "list": 200,
    "open": 200,
    "its first": 200,
    "search": 100,
    "export": 20,
    "db status": 100,
}


def _repeat(name: str) -> int:
    return next(n for prefix, n in REPEATS.items() if name.startswith(prefix))


def scale(workdir: Path, *, cli_repeat: int = 8) -> list[Result]:
    """8: each operation at 10,000 vs 1,000,000 events (large / small, target <= 1.2x)."""
    paths = [database(size, workdir) for size in ("small", "large")]

    tidy_seconds: list[float] = []

    async def measure() -> dict[str, tuple[Series, Series]]:
        memories = [await open_embedded(path) for path in paths]
        try:
            ops = [_operations(memory) for memory in memories]
            out: dict[str, tuple[Series, Series]] = {}

            async def timed(name: str, label: str) -> None:
                pair = (ops[0][name], ops[1][name])
                for func in pair:  # warm both (page cache, statement cache)
                    await func()
                ((small, large),) = await alternate([pair], _repeat(name))
                out[label] = (small, large)

            for name in ops[0]:
                label = name + (UNTIDIED if name.startswith("search") else "")
                await timed(name, label)
            # What the app does in idle time on a local file (tui.app.start_index_tidy):
            # merge the index's segments, then the same search again.
            for memory in memories:
                started = time.perf_counter()
                await tidy_index(memory, pause=0.0)
                tidy_seconds.append(time.perf_counter() - started)
            search = next(name for name in ops[0] if name.startswith("search"))
            await timed(search, search + TIDIED)
            return out
        finally:
            for memory in memories:
                await memory.close()

    series = asyncio.run(measure())
    turnkeep = str(Path(sys.executable).parent / "turnkeep")
    cli: list[list[float]] = [[], []]
    for attempt in range(cli_repeat + 1):
        for path, into in zip(paths, cli, strict=True):
            elapsed = wall_time([turnkeep, "db", "status"], workdir, TURNKEEP_DB__PATH=str(path))
            if attempt:
                into.append(elapsed)
    results = []
    for name, (small, large) in series.items():
        ratio = large.median / small.median
        untidied = name.endswith(UNTIDIED)
        results.append(
            Result(
                f"8 million events: {name}",
                "10k events / 1M events",
                small.median * 1e3,
                large.median * 1e3,
                "report" if untidied else f"<= {TARGET}x",
                None if untidied else ratio <= TARGET,
                baseline_p99=small.p99 * 1e3,
                turnkeep_p99=large.p99 * 1e3,
                note=_NOTES.get(name[:12], ""),
            )
        )
    results.append(
        Result(
            "8 million events: tidy the search index (the app's idle-time merge, once)",
            "10k events / 1M events",
            tidy_seconds[0],
            tidy_seconds[1],
            "report",
            None,
            unit="s",
            note="runtime.search_index.tidy_index on the generated databases as save points "
            "left them; later tidies merge only what new saves added (milliseconds)",
        )
    )
    small_cli, large_cli = (statistics.median(times) for times in cli)
    results.append(
        Result(
            "8 million events: `turnkeep db status`",
            "10k events / 1M events (process)",
            small_cli * 1e3,
            large_cli * 1e3,
            f"<= {TARGET}x",
            large_cli / small_cli <= TARGET,
            baseline_p99=p99(cli[0]) * 1e3,
            turnkeep_p99=p99(cli[1]) * 1e3,
            note=f"baseline column = {SIZES['small'][0]:,} sessions / {SIZES['small'][1]:,} "
            f"events, turnkeep column = {SIZES['large'][0]:,} sessions / "
            f"{SIZES['large'][1]:,} events (generated once by bench/scale_data.py and cached); "
            f"whole-process wall time, {cli_repeat} runs each",
        )
    )
    return results
