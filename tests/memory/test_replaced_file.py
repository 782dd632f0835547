"""A database file replaced or deleted under a running writer (issue 11, item 2).

People restore a backup with ``cp backup.db new.db && mv new.db turnkeep.db`` and sync
tools write files the same way; before this was detected the app wrote into the ``-wal``
beside the *new* file and said "saved", and every later open of it failed as malformed.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from memory import EventDraft, MemoryBackend, StoreConnectionError, open_embedded
from runtime import PersistenceWorker
from tests.conftest import FrozenClock


def note(text: str) -> list[EventDraft]:
    return [EventDraft("user", {"role": "user", "content": text})]


def rows(path: Path) -> list[tuple[str, int, str]]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return conn.execute(
            "SELECT session_id, seq, payload FROM conversation_events ORDER BY session_id, seq"
        ).fetchall()
    finally:
        conn.close()


async def backup_of(memory: MemoryBackend, db_path: Path, target: Path) -> None:
    from memory.backup import backup_embedded

    await backup_embedded(memory, target)  # type: ignore[arg-type]


async def test_a_replaced_database_is_never_written_and_stays_readable(
    db_path: Path, tmp_path: Path, clock: FrozenClock
) -> None:
    memory = await open_embedded(db_path, clock=clock)
    try:
        await memory.store("s1", note("before the backup"))
        backup = tmp_path / "backup.db"
        await backup_of(memory, db_path, backup)
        await memory.store("s1", note("after the backup"))
        # Restore the backup the way people do: copy, then rename over the database.
        staged = tmp_path / "new.db"
        shutil.copyfile(backup, staged)
        expected = rows(staged)
        os.replace(staged, db_path)
        with pytest.raises(StoreConnectionError, match="replaced by another file") as caught:
            await memory.store("s1", note("must not be written anywhere"))
        assert "start turnkeep again" in caught.value.hint
        # Every later call says why, reads included.
        with pytest.raises(StoreConnectionError, match="replaced"):
            await memory.recall("s1")
        # Its WAL no longer sits beside the restored file.
        assert rows(db_path) == expected
    finally:
        await memory.close()
    # The restored file is intact, holds exactly the backup, and has no foreign WAL.
    assert rows(db_path) == expected
    assert [r[2] for r in expected] == ['{"role":"user","content":"before the backup"}']
    assert not Path(f"{db_path}-wal").exists() or Path(f"{db_path}-wal").stat().st_size == 0
    reopened = await open_embedded(db_path, clock=clock)
    try:
        assert [e.payload["content"] for e in await reopened.recall("s1")] == ["before the backup"]
    finally:
        await reopened.close()


async def test_a_deleted_database_is_not_written_and_not_recreated(
    db_path: Path, clock: FrozenClock
) -> None:
    memory = await open_embedded(db_path, clock=clock)
    try:
        await memory.store("s1", note("kept only in the deleted file"))
        db_path.unlink()
        with pytest.raises(StoreConnectionError, match="deleted"):
            await memory.store("s1", note("lost if written"))
    finally:
        await memory.close()
    assert not db_path.exists()


async def test_an_idle_reader_notices_and_leaves_no_wal_beside_the_new_file(
    db_path: Path, tmp_path: Path, clock: FrozenClock
) -> None:
    memory = await open_embedded(db_path, clock=clock)
    try:
        await memory.store("s1", note("in the old file only"))
        fresh = await open_embedded(tmp_path / "fresh.db", clock=clock)
        await fresh.close()
        os.replace(tmp_path / "fresh.db", db_path)
        with pytest.raises(StoreConnectionError, match="replaced"):
            await memory.find_session("s1")  # what the app's idle poll does
    finally:
        await memory.close()
    assert rows(db_path) == []


async def test_the_worker_keeps_the_events_queued_and_says_why(
    db_path: Path, tmp_path: Path, clock: FrozenClock
) -> None:
    memory = await open_embedded(db_path, clock=clock)
    worker = PersistenceWorker(memory, retry_initial=0.01, retry_max=0.05)
    await worker.start()
    try:
        worker.submit("s1", note("one"))
        assert await worker.flush(timeout=10)
        staged = tmp_path / "other.db"
        shutil.copyfile(db_path, staged)
        os.replace(staged, db_path)
        worker.submit("s1", note("two"))
        for _ in range(200):
            if worker.state.status == "retrying":
                break
            await asyncio.sleep(0.01)
        assert worker.state.status == "retrying"
        assert "replaced" in (worker.state.last_error or "")
        assert worker.state.pending == 1
    finally:
        unsaved = await worker.stop(timeout=0.2)
        await memory.close()
    assert [[d.payload["content"] for d in drafts] for _, drafts in unsaved] == [["two"]]
