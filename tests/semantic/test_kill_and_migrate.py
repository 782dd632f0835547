"""kill -9 during indexing then resume, and migration 0006 from the previous head with data
(embedded file and a real sqld)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from memory import EventDraft, open_embedded, open_remote
from memory.schema.migrate import migrations_dir
from memory.vector_records import EventVectors
from runtime import payloads
from runtime.embeddings.local import LocalEmbedder
from runtime.payloads import searchable_text
from runtime.semantic_search import SemanticSearch
from runtime.settings import SearchSettings
from runtime.vector_index import embedding_text, index_pending
from tests.support.old_heads import old_head
from tests.support.sqld import SqldServer

SESSIONS = 40


async def fill(memory: object) -> None:
    """SESSIONS sessions of a question, a tool call and an answer each."""
    for i in range(SESSIONS):
        sid = f"s{i:03d}"
        await memory.create_session(sid, title=f"topic {i}")  # type: ignore[attr-defined]
        await memory.store(  # type: ignore[attr-defined]
            sid,
            [
                EventDraft("user", payloads.user(f"question {i} about subject {i * 7}")),
                EventDraft("tool_call", payloads.tool_call("c", "grep", {"q": str(i)})),
                EventDraft("assistant", payloads.assistant(f"answer {i} with detail {i * 3}")),
            ],
        )


def invariant(path: Path) -> tuple[int, int]:
    """Every embeddable event up to the cursor has a vector, none after it: (vectors, cursor)."""
    with sqlite3.connect(path) as conn:
        (cursor,) = conn.execute("SELECT indexed_upto FROM vector_state").fetchone()
        events = conn.execute("SELECT id, kind, payload FROM conversation_events").fetchall()
        vectored = {r[0] for r in conn.execute("SELECT event_id FROM event_vectors")}
        (embedded,) = conn.execute("SELECT embedded FROM vector_state").fetchone()
    conn.close()
    expected = {eid for eid, kind, p in events if eid <= cursor and embedding_text(kind, p)}
    assert vectored == expected
    assert embedded == len(vectored)
    return len(vectored), cursor


async def test_kill_9_during_indexing_then_resume(
    db_path: Path, local_embedder: LocalEmbedder
) -> None:
    memory = await open_embedded(db_path)
    memory.use_search_text(searchable_text)
    await fill(memory)
    await memory.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.semantic.indexer_proc", str(db_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    seen = 0
    try:
        while seen < 8:  # a few batches committed, then killed mid-run
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            seen = int(line)
    finally:  # killed even when the reading failed: no process outlives the test
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    vectors, cursor = invariant(db_path)
    assert 8 <= vectors < 2 * SESSIONS and cursor < 3 * SESSIONS

    reopened = await open_embedded(db_path)
    try:
        run = await index_pending(reopened, local_embedder)
        assert not run.space_changed  # resumed in the same space, not restarted
        assert run.embedded == 2 * SESSIONS - vectors
        assert run.progress.complete and run.progress.embedded == 2 * SESSIONS
    finally:
        await reopened.close()
    assert invariant(db_path) == (2 * SESSIONS, 3 * SESSIONS)
    # The vectors written before the kill are the model's vectors, not garbage.
    with sqlite3.connect(db_path) as conn:
        blob, payload = conn.execute(
            "SELECT v.vector, e.payload FROM event_vectors v JOIN conversation_events e "
            "ON e.id = v.event_id ORDER BY v.event_id LIMIT 1"
        ).fetchone()
    conn.close()
    text = embedding_text("user", payload)
    assert text is not None
    fresh = (await local_embedder.embed([text]))[0]
    assert float(np.frombuffer(blob, dtype="<f4") @ fresh) > 0.999


@pytest.fixture
def migrations_0005(tmp_path: Path) -> Path:
    """The project's migrations up to 0005 (the head before vectors)."""
    return old_head(tmp_path / "migrations-0005", 5)


async def check_migrated(memory: object, local_embedder: LocalEmbedder) -> None:
    assert isinstance(memory, EventVectors)
    outcome = getattr(memory, "migration_outcome", None)
    assert outcome is not None and outcome.applied[0] == "0006.vectors"
    progress = await memory.vector_progress()
    assert (progress.fingerprint, progress.embedded, progress.pending) == (None, 0, 3 * SESSIONS)
    # Existing rows are untouched, saving still works, and everything gets embedded.
    await memory.store(  # type: ignore[attr-defined]
        "s001", [EventDraft("user", payloads.user("how do I rotate the signing keys"))]
    )
    run = await index_pending(memory, local_embedder)
    assert run.embedded == 2 * SESSIONS + 1 and run.progress.complete
    searcher = SemanticSearch(memory, SearchSettings(semantic=True), local_embedder)
    outcome_ = await searcher.search("key rotation for signatures", limit=3)
    assert outcome_.mode == "hybrid" and outcome_.hits[0].session_id == "s001"


async def test_embedded_0005_with_data_migrates(
    tmp_path: Path, migrations_0005: Path, local_embedder: LocalEmbedder
) -> None:
    path = tmp_path / "old.db"
    old = await open_embedded(path, migrations_dir=migrations_0005)
    old.use_search_text(searchable_text)
    await fill(old)
    await old.close()
    with sqlite3.connect(path) as conn:
        before = conn.execute("SELECT * FROM conversation_events ORDER BY id").fetchall()
    conn.close()
    memory = await open_embedded(path)
    memory.use_search_text(searchable_text)
    try:
        with sqlite3.connect(path) as conn:
            after = conn.execute("SELECT * FROM conversation_events ORDER BY id").fetchall()
        conn.close()
        assert after == before
        await check_migrated(memory, local_embedder)
    finally:
        await memory.close()


async def test_sqld_0005_with_data_migrates(
    fresh_sqld: SqldServer, migrations_0005: Path, local_embedder: LocalEmbedder
) -> None:
    url, token = fresh_sqld.ws_url, fresh_sqld.token()
    old = await open_remote(url, auth_token=token, migrations_dir=migrations_0005)
    old.use_search_text(searchable_text)
    await fill(old)
    await old.close()
    memory = await open_remote(url, auth_token=token)
    memory.use_search_text(searchable_text)
    try:
        await check_migrated(memory, local_embedder)
    finally:
        await memory.close()


async def test_rollback_returns_to_0005(tmp_path: Path, migrations_0005: Path) -> None:
    """0006's rollback leaves exactly the 0005 schema."""
    folder = migrations_dir()

    def schema(conn: sqlite3.Connection) -> list[tuple[str, str]]:
        return sorted(conn.execute("SELECT type, name FROM sqlite_master").fetchall())

    path = tmp_path / "r.db"
    old = await open_embedded(path, migrations_dir=migrations_0005)
    await old.close()
    with sqlite3.connect(path) as conn:
        before = schema(conn)
        conn.executescript((folder / "0006.vectors.sql").read_text())
        assert schema(conn) != before
        conn.executescript((folder / "0006.vectors.rollback.sql").read_text())
        assert schema(conn) == before
    conn.close()
