"""Scenario 1b: where an embedded save point's time goes, measured in the same run.

Writers save the same turns, taking turns in blocks, all ``synchronous=FULL``, each on a
database of its own:

* ``raw``: raw sqlite3, ``BEGIN`` + 3 ``INSERT`` + ``COMMIT`` (scenario 1's baseline);
* ``sql``: raw sqlite3 running exactly the statements turnkeep's save point sends
  (session upsert, save-point claim, events, search index rows, counters, read back);
* ``sql-no-index``: the same without any search index row (word index ``search_words``,
  pending substring rows ``search_pending``);
* ``sql-words``: the same with the word index rows only;
* ``sql-both-fts5``: the save point before migration 0015, writing both FTS5 indexes
  (``search_words`` and the trigram index ``search_events``) in its transaction;
* ``sql-trigram``: the same with the trigram index rows only;
* ``sql-one-token``: both FTS5 indexes' rows, each text cut to one three-letter token:
  the floor of writing two FTS5 tables per transaction (:mod:`bench.index_sides`);
* ``turnkeep``: the persistence worker through the embedded backend.

So ``sql / raw`` is the cost of what turnkeep writes, ``sql / sql-no-index`` the share
of the FTS5 index rows (split per index by the two one-index writers, and into the part
no text can avoid by ``sql-one-token``), and ``turnkeep / sql`` the Python side
(building statements, encoding, the worker, the hop to the database thread, the
driver's result objects). Each writer's database is checked afterwards for the index
rows it was meant to write (and no others).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

from bench.index_sides import (
    FLOOR_TOKEN,
    count_index_rows,
    in_transaction,
    one_token,
    only_index,
    without_index,
)
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


#: The SQL writers besides ``sql`` (all of turnkeep's statements): how each shapes a batch.
SIDES: dict[str, Callable[[list[tuple[str, list[Any]]]], list[tuple[str, list[Any]]]]] = {
    "sql-no-index": without_index,
    "sql-words": lambda stmts: only_index(stmts, "search_words"),
    "sql-both-fts5": in_transaction,
    "sql-trigram": lambda stmts: only_index(in_transaction(stmts), "search_events"),
    "sql-one-token": lambda stmts: one_token(in_transaction(stmts)),
}
#: Index rows (word index, pending rows, trigram index) each SQL writer must have written
#: per event.
_EXPECTED_ROWS: dict[str, tuple[bool, bool, bool]] = {
    "sql": (True, True, False),
    "sql-no-index": (False, False, False),
    "sql-words": (True, False, False),
    "sql-both-fts5": (True, False, True),
    "sql-trigram": (False, False, True),
    "sql-one-token": (True, False, True),
}


def _check_sides(paths: dict[str, Path], events: int) -> None:
    """Each SQL writer's database holds exactly the index rows its side writes."""
    for name, (words, pending, trigram) in _EXPECTED_ROWS.items():
        with sqlite3.connect(paths[name]) as conn:
            found = count_index_rows(conn, "tk", FLOOR_TOKEN)
        conn.close()
        want = {
            "search_words": events * words,
            "search_pending": events * pending,
            "search_events": events * trigram,
        }
        got = {table: found[table] for table in want}
        assert got == want, f"{name}: index rows {got}, expected {want}"
        # Only the one-token side's rows hold the token (all of them).
        floor = want["search_words"] if name == "sql-one-token" else 0
        assert found["matching"] == floor, f"{name}: {found}, expected {floor} rows of the token"


def save_breakdown(workdir: Path, *, turns: int = 1_000) -> list[Result]:
    """1b: raw / turnkeep's SQL (and its index shares) / turnkeep, per save point."""
    from memory import NewTurn

    sql_names = ("sql", *SIDES)
    paths = {name: migrated(workdir / f"{name}.db") for name in ("raw", *sql_names)}

    async def measure() -> dict[str, Series]:
        raw = RawWriter(paths["raw"], "FULL")
        writers = {name: StatementWriter(paths[name]) for name in sql_names}
        memory = await open_embedded(workdir / "turnkeep.db", synchronous="full")
        worker = await _started_worker(memory)
        found = {name: Series() for name in ("raw", *sql_names, "turnkeep")}
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
                    found["sql"].samples.append(writers["sql"].save(stmts))
                for name, side in SIDES.items():
                    for stmts in batches:
                        found[name].samples.append(writers[name].save(side(stmts)))
                for turn in block:
                    found["turnkeep"].samples.append(await _through_worker(worker, "tk", turn))
        finally:
            await worker.stop(30)
            await memory.close()
            for conn in (raw.conn, *(writer.conn for writer in writers.values())):
                conn.close()
        return found

    found = asyncio.run(measure())
    _check_sides(paths, turns * len(turn_drafts(1)))
    med = {name: series.median * 1e3 for name, series in found.items()}
    rows = (
        ("turnkeep's statements in raw sqlite3", "raw", "sql", "raw 3 INSERTs / the same SQL"),
        (
            "search index rows (word index + pending rows)",
            "sql-no-index",
            "sql",
            "SQL without / with index rows",
        ),
        (
            "search index rows before 0015 (both FTS5 indexes)",
            "sql-no-index",
            "sql-both-fts5",
            "SQL without index rows / with search_words and search_events rows",
        ),
        (
            "search index rows: word index only",
            "sql-no-index",
            "sql-words",
            "SQL without index rows / with search_words rows only",
        ),
        (
            "search index rows: trigram index only",
            "sql-no-index",
            "sql-trigram",
            "SQL without index rows / with search_events rows only",
        ),
        (
            "search index rows: floor of two FTS5 tables",
            "sql-no-index",
            "sql-one-token",
            "SQL without index rows / with both, one 3-letter token per row",
        ),
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
            f"SQL without index {med['sql-no-index']:.3f}, both FTS5 indexes "
            f"{med['sql-both-fts5']:.3f}, word index only "
            f"{med['sql-words']:.3f}, trigram index only {med['sql-trigram']:.3f}, "
            f"one token per index row {med['sql-one-token']:.3f}, SQL {med['sql']:.3f}, "
            f"turnkeep {med['turnkeep']:.3f} ms"
            if what.startswith("Python")
            else "",
        )
        for what, base, tk, metric in rows
    ]
