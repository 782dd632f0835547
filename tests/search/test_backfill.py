"""The background backfill: resumable, batched, and exact once done."""

from __future__ import annotations

import shutil
from pathlib import Path

from memory import open_embedded
from memory.schema.migrate import migrations_dir
from memory.sql.search_statements import SearchProgress
from runtime.payloads import searchable_text
from runtime.search_index import backfill_index, describe_progress
from tests.search.consistency import index_mismatches


async def old_database(tmp_path: Path, sessions: int, per_session: int) -> Path:
    """A database at 0002 holding ``sessions * per_session`` events (raw SQL)."""
    migrations = tmp_path / "m"
    migrations.mkdir()
    for path in migrations_dir().glob("000[12].*"):
        shutil.copy(path, migrations / path.name)
    path = tmp_path / "old.db"
    memory = await open_embedded(path, migrations_dir=migrations)
    stmts = []
    for s in range(sessions):
        sid = f"s{s:03d}"
        stmts.append(
            (
                "INSERT INTO sessions (id, title, created_at, updated_at, last_seq, event_count) "
                "VALUES (?, ?, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z', ?, ?)",
                [sid, f"Title {s} tapir" if s % 2 else None, per_session, per_session],
            )
        )
        for seq in range(1, per_session + 1):
            kind = "user" if seq % 2 else "assistant"
            stmts.append(
                (
                    "INSERT INTO conversation_events (session_id, seq, kind, payload, created_at) "
                    "VALUES (?, ?, ?, ?, '2026-01-01T00:00:00.000000Z')",
                    [sid, seq, kind, f'{{"content": "event {s}-{seq} okapi"}}'],
                )
            )
    await memory.driver.batch(stmts)
    await memory.close()
    return path


async def test_backfill_resumes_after_reopen_and_ends_exact(tmp_path: Path) -> None:
    path = await old_database(tmp_path, sessions=30, per_session=40)
    memory = await open_embedded(path)
    memory.use_search_text(searchable_text)
    try:
        start = await memory.search_progress()
        assert start.pending_events == 1200 and start.titles_pending
        assert "1,200 older events" in describe_progress(start)
        for _ in range(3):
            await memory.backfill_search(batch=100)
        middle = await memory.search_progress()
        assert middle.pending_events == 900 and not middle.titles_pending
        # Search works on what is indexed meanwhile: the oldest ids come first.
        assert len(await memory.search("okapi", limit=1000)) == 300
        assert len(await memory.search("tapir", limit=100)) == 15
    finally:
        await memory.close()
    reopened = await open_embedded(path)  # as after a kill: the progress is in the file
    reopened.use_search_text(searchable_text)
    try:
        assert (await reopened.search_progress()).pending_events == 900
        seen: list[SearchProgress] = []
        done = await backfill_index(reopened, batch=250, pause=0, on_progress=seen.append)
        assert done.complete and describe_progress(done) == "complete"
        assert [p.pending_events for p in seen] == [900, 650, 400, 150, 0]
        assert len(await reopened.search("okapi", limit=2000)) == 1200
        assert await index_mismatches(reopened) == []
        assert (await reopened.backfill_search()).complete  # nothing more to do
    finally:
        await reopened.close()
