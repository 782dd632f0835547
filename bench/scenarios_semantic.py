"""Semantic search scenarios: top-10 over 100,000 vectors (embedded and on sqld), the
indexer's throughput, and save-point latency while the indexer runs.

Vectors for the ranking scenarios are 1,000 real embeddings of the local model copied
over 100,000 events (made on the database side: latency does not depend on what the
vectors say, and embedding 100,000 texts would take minutes). The indexer and
save-point scenarios run the real local model.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.scenarios_save import BLOCK, WARMUP, WARMUP_TURNS, _started_worker, _through_worker
from bench.seed import migrated
from bench.stats import Result, Series
from memory import open_embedded
from memory.vector_records import VectorSpace
from runtime.embeddings.local import LocalEmbedder
from runtime.vector_index import INDEX_BATCH, index_step, prepare_space

__all__ = ["indexer", "topk_embedded", "topk_sqld"]

VECTORS = 100_000
DISTINCT = 1_000
SPACE_MODEL = "bench"
WORDS = [
    "upload",
    "retry",
    "cache",
    "socket",
    "timeout",
    "parser",
    "token",
    "cookie",
    "index",
    "query",
    "migration",
    "container",
    "image",
    "build",
    "deploy",
    "locale",
    "memory",
    "leak",
    "worker",
    "schedule",
    "backup",
    "restore",
]


def _sentences(count: int, seed: int = 7) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=12)) for _ in range(count)]


def _distinct_vectors() -> np.ndarray[Any, np.dtype[np.float32]]:
    async def run() -> np.ndarray[Any, np.dtype[np.float32]]:
        embedder = LocalEmbedder()
        return await embedder.embed(_sentences(DISTINCT))

    return asyncio.run(run())


def _seed_sql(vectors: np.ndarray[Any, np.dtype[np.float32]]) -> list[tuple[str, list[Any]]]:
    """Statements: 1,000 sessions, 100,000 events, a vector each (copied on the server)."""
    stmts: list[tuple[str, list[Any]]] = [
        ("CREATE TABLE IF NOT EXISTS bench_seed (k INTEGER PRIMARY KEY, v BLOB)", []),
        (
            "INSERT INTO sessions (id, created_at, updated_at, last_seq, event_count) "
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999) "
            "SELECT 'b' || i, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z', "
            "100, 100 FROM n",
            [],
        ),
        (
            "INSERT INTO conversation_events (session_id, seq, turn, kind, payload, created_at) "
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "SELECT 'b' || (i / 100), i % 100 + 1, 1, 'user', '{\"content\":\"x\"}', "
            "'2026-01-01T00:00:00.000000Z' FROM n",
            [VECTORS - 1],
        ),
    ]
    for k in range(DISTINCT):
        stmts.append(("INSERT INTO bench_seed (k, v) VALUES (?, ?)", [k, vectors[k].tobytes()]))
    stmts += [
        (
            "INSERT INTO event_vectors (event_id, model, dimension, vector) "
            "SELECT e.id, ?, 384, (SELECT v FROM bench_seed WHERE k = e.id % ?) "
            "FROM conversation_events e",
            [SPACE_MODEL, DISTINCT],
        ),
        (
            "UPDATE vector_state SET fingerprint = ?, model = ?, dimension = 384, "
            "indexed_upto = (SELECT max(id) FROM conversation_events) WHERE id = 1",
            [SPACE_MODEL, SPACE_MODEL],
        ),
    ]
    return stmts


SPACE = VectorSpace(SPACE_MODEL, SPACE_MODEL, 384)


def topk_embedded(workdir: Path, *, repeat: int = 60) -> list[Result]:
    """Top-10 over 100,000 vectors in the embedded file: turnkeep vs numpy on a matrix."""
    vectors = _distinct_vectors()
    path = migrated(workdir / "vectors.db")
    conn = sqlite3.connect(path)
    with conn:
        for sql, args in _seed_sql(vectors):
            conn.execute(sql, args)
    conn.close()
    queries = [v.astype("<f4").tobytes() for v in vectors[:repeat]]

    async def measure() -> tuple[Series, Series, float]:
        memory = await open_embedded(path)
        try:
            started = time.perf_counter()
            await memory.vector_search(SPACE, queries[0], limit=10)
            cold = time.perf_counter() - started
            cache = memory._vector_cache
            assert cache is not None and len(cache.ids) == VECTORS
            matrix = cache.matrix.copy()
            base, tk = Series(), Series()
            for blob in queries:
                started = time.perf_counter()
                q = np.frombuffer(blob, dtype="<f4")
                top = np.argpartition(1.0 - matrix @ q, 9)[:10]
                base.samples.append(time.perf_counter() - started)
                assert len(top) == 10
                started = time.perf_counter()
                hits = await memory.vector_search(SPACE, blob, limit=10)
                tk.samples.append(time.perf_counter() - started)
                assert len(hits) == 10
        finally:
            await memory.close()
        return base, tk, cold

    base, tk, cold = asyncio.run(measure())
    return [
        Result(
            "S1 semantic top-10, embedded",
            f"{VECTORS:,} vectors x 384, warm",
            base.median * 1e3,
            tk.median * 1e3,
            "<= 200 ms",
            tk.median * 1e3 <= 200,
            baseline_p99=base.p99 * 1e3,
            turnkeep_p99=tk.p99 * 1e3,
            note=f"baseline = bare numpy matvec + argpartition on the same matrix; turnkeep "
            f"includes the state check, filters and the hits' rows; first query (reads "
            f"all vectors into the cache) {cold * 1e3:,.0f} ms",
        )
    ]


def topk_sqld(workdir: Path, *, repeat: int = 30) -> list[Result]:
    """Top-10 over 100,000 vectors ranked by sqld (one round trip) vs the bare statement."""
    import libsql_client

    from memory import open_remote
    from tests.support.sqld import JwtKeys, SqldServer

    vectors = _distinct_vectors()
    queries = [v.astype("<f4").tobytes() for v in vectors[:repeat]]
    keys = JwtKeys.generate(workdir)

    async def measure(server: SqldServer) -> tuple[Series, Series, int]:
        token = server.token()
        memory = await open_remote(server.ws_url, auth_token=token)
        bare = libsql_client.create_client(server.ws_url, auth_token=token)
        try:
            await bare.batch(_seed_sql(vectors))  # no per-call timeout: it seeds 100k rows
            base, tk = Series(), Series()
            before = memory.round_trips
            for blob in queries:
                started = time.perf_counter()
                await bare.execute(
                    "SELECT event_id FROM event_vectors "
                    "ORDER BY vector_distance_cos(vector, vector32(?)) LIMIT 10",
                    [blob],
                )
                base.samples.append(time.perf_counter() - started)
                started = time.perf_counter()
                hits = await memory.vector_search(SPACE, blob, limit=10)
                tk.samples.append(time.perf_counter() - started)
                assert len(hits) == 10
            trips = memory.round_trips - before
        finally:
            await memory.close()
            await bare.close()
        return base, tk, trips

    with SqldServer(workdir / "sqld", keys) as server:
        base, tk, trips = asyncio.run(measure(server))
    return [
        Result(
            "S2 semantic top-10, sqld",
            f"{VECTORS:,} vectors x 384",
            base.median * 1e3,
            tk.median * 1e3,
            "report",
            None,
            baseline_p99=base.p99 * 1e3,
            turnkeep_p99=tk.p99 * 1e3,
            note=f"ranked on the server with vector_distance_cos, no vector index; "
            f"{trips / repeat:g} round trip(s) per query; baseline = bare libsql-client "
            "ranking ids only (turnkeep also joins events, sessions and snippets)",
        )
    ]


def _seed_texts(path: Path, count: int) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO sessions (id, created_at, updated_at, last_seq, event_count) "
            "VALUES ('idx', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z', ?, ?)",
            (count, count),
        )
        conn.executemany(
            "INSERT INTO conversation_events (session_id, seq, turn, kind, payload, created_at) "
            "VALUES ('idx', ?, 1, 'user', json_object('content', ?), "
            "'2026-01-01T00:00:00.000000Z')",
            [(i + 1, text) for i, text in enumerate(_sentences(count, seed=11))],
        )
    conn.close()


def indexer(workdir: Path, *, events: int = 600, turns: int = 300) -> list[Result]:
    """Indexer throughput vs the bare model, and save points while it runs vs idle."""
    path = migrated(workdir / "index.db")
    _seed_texts(path, events + 100_000 // 20)

    async def measure() -> tuple[float, float, Series, Series, int]:
        embedder = LocalEmbedder()
        texts = _sentences(events, seed=11)
        await embedder.embed(texts[:8])  # load the model
        started = time.perf_counter()
        for i in range(0, events, INDEX_BATCH):
            await embedder.embed(texts[i : i + INDEX_BATCH])
        bare = events / (time.perf_counter() - started)

        own = await open_embedded(path)  # the indexer's own connection
        memory = await open_embedded(path)  # the app's, with the persistence worker
        worker = await _started_worker(memory)
        try:
            space, _ = await prepare_space(own, embedder)
            started = time.perf_counter()
            done = 0
            while done < events:
                embedded, _ = await index_step(own, embedder, space)
                done += embedded
            rate = done / (time.perf_counter() - started)

            running = asyncio.Event()
            stop = False

            async def keep_indexing() -> int:
                count = 0
                while not stop:
                    await running.wait()
                    embedded, more = await index_step(own, embedder, space)
                    count += embedded
                    if not more:
                        break
                    await asyncio.sleep(0.02)  # INDEX_PAUSE
                return count

            task = asyncio.create_task(keep_indexing())
            idle, busy = Series(), Series()
            for turn in range(WARMUP_TURNS, WARMUP_TURNS + WARMUP):
                await _through_worker(worker, "tk", turn)
            for start in range(1, turns + 1, BLOCK):
                running.clear()
                await asyncio.sleep(0.3)  # let a batch in flight finish
                for turn in range(start, start + BLOCK):
                    idle.samples.append(await _through_worker(worker, "tk", turn))
                running.set()
                await asyncio.sleep(0.05)
                for turn in range(start, start + BLOCK):
                    busy.samples.append(await _through_worker(worker, "tk", 10**7 + turn))
            stop = True
            running.set()
            during = await task
        finally:
            await worker.stop(30)
            await memory.close()
            await own.close()
            await embedder.close()
        return bare, rate, idle, busy, during

    bare, rate, idle, busy, during = asyncio.run(measure())
    return [
        Result(
            "S3 indexer throughput",
            f"{events:,} short user messages, local model",
            bare,
            rate,
            "report",
            None,
            unit="rows/s",
            note="baseline = the bare model embedding the same texts in the same batches; "
            "turnkeep = read, embed, write with the cursor (index_step), own connection",
        ),
        Result(
            "S4 save point while indexing",
            f"submit -> saved ({turns:,} turns each)",
            idle.median * 1e3,
            busy.median * 1e3,
            "<= 1.1x",
            busy.median / idle.median <= 1.1,
            baseline_p99=idle.p99 * 1e3,
            turnkeep_p99=busy.p99 * 1e3,
            note=f"blocks of {BLOCK} save points with the indexer paused vs running on its own "
            f"connection in the same process ({during:,} events embedded meanwhile); "
            "ONNX Runtime at 1 thread",
        ),
    ]
