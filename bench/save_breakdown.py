"""Scenario 1b: where an embedded save point's time goes, measured in the same run.

Four writers save the same turns, taking turns in blocks, all ``synchronous=FULL``:

* ``raw``: raw sqlite3, ``BEGIN`` + 3 ``INSERT`` + ``COMMIT`` (scenario 1's baseline);
* ``sql``: raw sqlite3 running exactly the statements turnkeep's save point sends
  (session upsert, save-point claim, events, search index rows, counters, read back);
* ``sql-no-index``: the same without the search index statement;
* ``turnkeep``: the persistence worker through the embedded backend.

So ``sql / raw`` is the cost of what turnkeep writes, ``sql / sql-no-index`` the share
of the FTS5 index rows, and ``turnkeep / sql`` the Python side (building statements,
encoding, the worker, the hop to the database thread, the driver's result objects).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

from bench.scenarios_save import RawWriter, _started_worker, _through_worker
from bench.seed import migrated
from bench.stats import Result, Series
from bench.turns import turn_drafts
from memory import open_embedded

BLOCK = 10


class StatementWriter:
    """Raw sqlite3 running a batch of turnkeep's statements in ``BEGIN IMMEDIATE``."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = FULL")

    def save(self, stmts: list[tuple[str, list[Any]]]) -> float:
        started = time.perf_counter()
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        for sql, args in stmts:
            conn.execute(sql, args).fetchall()
        conn.execute("COMMIT")
        return time.perf_counter() - started


def save_breakdown(workdir: Path, *, turns: int = 1_000) -> list[Result]:
    """1b: raw / turnkeep's SQL / the same without index rows / turnkeep, per save point."""
    from memory import NewTurn

    paths = [migrated(workdir / f"{name}.db") for name in ("raw", "sql", "noindex")]

    async def measure() -> dict[str, Series]:
        raw = RawWriter(paths[0], "FULL")
        full, bare = StatementWriter(paths[1]), StatementWriter(paths[2])
        memory = await open_embedded(workdir / "turnkeep.db", synchronous="full")
        worker = await _started_worker(memory)
        found = {name: Series() for name in ("raw", "sql", "sql-no-index", "turnkeep")}
        try:
            for start in range(1, turns + 1, BLOCK):
                block = range(start, min(turns + 1, start + BLOCK))
                batches = [
                    memory._store_statements("tk", turn_drafts(turn), uuid4().hex, turn=NewTurn())
                    for turn in block
                ]
                for turn in block:
                    found["raw"].samples.append(raw.save(turn))
                for stmts in batches:
                    found["sql"].samples.append(full.save(stmts))
                for stmts in batches:
                    unindexed = [s for s in stmts if "search_events" not in s[0]]
                    found["sql-no-index"].samples.append(bare.save(unindexed))
                for turn in block:
                    found["turnkeep"].samples.append(await _through_worker(worker, "tk", turn))
        finally:
            await worker.stop(30)
            await memory.close()
            for conn in (raw.conn, full.conn, bare.conn):
                conn.close()
        return found

    found = asyncio.run(measure())
    med = {name: series.median * 1e3 for name, series in found.items()}
    rows = (
        ("turnkeep's statements in raw sqlite3", "raw", "sql", "raw 3 INSERTs / the same SQL"),
        ("search index rows (FTS5)", "sql-no-index", "sql", "SQL without / with index rows"),
        ("Python, worker and thread hop", "sql", "turnkeep", "the SQL in raw sqlite3 / turnkeep"),
    )
    return [
        Result(
            f"1b save point breakdown: {what}",
            metric,
            med[base],
            med[tk],
            "report",
            None,
            note=f"{turns:,} save points each, synchronous=FULL; medians: raw {med['raw']:.3f}, "
            f"SQL without index {med['sql-no-index']:.3f}, SQL {med['sql']:.3f}, turnkeep "
            f"{med['turnkeep']:.3f} ms"
            if what.startswith("Python")
            else "",
        )
        for what, base, tk, metric in rows
    ]
