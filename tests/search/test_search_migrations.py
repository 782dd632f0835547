"""Migrations 0003 (stable event keys) and 0004 (search index) on databases with data.

A database is filled at the previous head (0002) and migrated to head, embedded and on
a real sqld: every row keeps its exact values, events get ids in (session_id, seq)
order, the ids survive ``VACUUM INTO`` (``turnkeep db backup``), and the events that
predate the index are found once the backfill has run.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from memory import EventDraft, MemoryBackend, open_embedded, open_remote
from memory.backup import backup_embedded
from memory.schema.migrate import migrations_dir
from memory.sql.store import LibsqlMemory
from runtime.payloads import searchable_text
from tests.remote.conftest import query
from tests.support.migration_ids import ALL_MIGRATIONS
from tests.support.sqld import SqldServer

ROWS = (
    "SELECT session_id, seq, turn, kind, payload, created_at FROM conversation_events "
    "ORDER BY session_id, seq"
)


@pytest.fixture
def migrations_0002(tmp_path: Path) -> Path:
    """The project's migrations up to 0002 (the head before event keys)."""
    target = tmp_path / "migrations-0002"
    target.mkdir()
    for path in migrations_dir().glob("000[12].*"):
        shutil.copy(path, target / path.name)
    return target


#: The session columns a database at 0002 has (later migrations only add columns).
SESSIONS_V1 = (
    "SELECT id, title, agent, provider, model, created_at, updated_at, last_seq, "
    "event_count, turn_count, metadata FROM sessions ORDER BY id"
)
#: The migrations a database at 0002 gets.
AFTER_0002 = ALL_MIGRATIONS[2:]


def _event(sid: str, seq: int, kind: str, payload: str) -> tuple[str, list[Any]]:
    return (
        "INSERT INTO conversation_events (session_id, seq, turn, kind, payload, created_at) "
        "VALUES (?, ?, 1, ?, ?, ?)",
        [sid, seq, kind, payload, f"2026-11-0{seq}T10:00:00.000000Z"],
    )


def _session(sid: str, title: str | None, last_seq: int) -> tuple[str, list[Any]]:
    return (
        "INSERT INTO sessions (id, title, created_at, updated_at, last_seq, event_count) "
        "VALUES (?, ?, '2026-11-01T00:00:00.000000Z', '2026-11-09T00:00:00.000000Z', ?, ?)",
        [sid, title, last_seq, last_seq],
    )


#: What a 0002 database holds: written as the code of that version wrote it (rows out
#: of id order, a session deleted in between, so implicit rowids have gaps).
FILL_0002 = [
    _session("s-b", None, 4),
    *[_event("s-b", i + 1, "user", f'{{"content":"bravo {i} café"}}') for i in range(3)],
    _session("s-gone", None, 1),
    _event("s-gone", 1, "user", '{"content":"forgotten words"}'),
    _session("s-a", "Zebra crossing ünïcode", 2),
    _event("s-a", 1, "user", '{"role":"user","content":"planted xylophone"}'),
    _event("s-a", 2, "tool_call", '{"call_id":"c","name":"grep","arguments":{"q":"x"}}'),
    _event("s-b", 4, "assistant", '{"content":"late reply"}'),
    (
        "INSERT INTO session_state (session_id, seq, state, created_at) "
        "VALUES ('s-b', 4, '{\"n\":1}', '2026-11-09T00:00:00.000000Z')",
        [],
    ),
    ("DELETE FROM conversation_events WHERE session_id = 's-gone'", []),
    ("DELETE FROM sessions WHERE id = 's-gone'", []),
]


async def fill(memory: LibsqlMemory) -> None:
    """Write :data:`FILL_0002` through the backend's raw client."""
    await memory.driver.batch(list(FILL_0002))


async def check_head(memory: MemoryBackend, before: list[Any], ids: list[tuple[Any, ...]]) -> None:
    """Keys in (session_id, seq) order; old text found after the backfill, not before."""
    assert [tuple(r[1:]) for r in ids] == [tuple(r[:2]) for r in before]
    assert [r[0] for r in ids] == sorted(r[0] for r in ids)
    assert len({r[0] for r in ids}) == len(ids)
    memory.use_search_text(searchable_text)
    progress = await memory.search_progress()
    assert progress.pending_events == len(before) and progress.titles_pending
    assert await memory.search("xylophone") == []
    while not (await memory.backfill_search(batch=2)).complete:
        pass
    assert [(h.session_id, h.seq) for h in await memory.search("xylophone")] == [("s-a", 1)]
    assert [h.seq for h in await memory.search("cafe", session_id="s-b")] == [3, 2, 1]
    assert [h.kind for h in await memory.search("zebra")] == ["title"]
    assert await memory.search("forgotten") == []
    # New events are indexed as they are saved, and get the next keys.
    await memory.store("s-a", [EventDraft("user", {"content": "fresh marimba"})])
    assert [h.seq for h in await memory.search("marimba")] == [3]


async def test_embedded_0002_with_data_migrates_to_head_and_backup_keeps_keys(
    tmp_path: Path, migrations_0002: Path
) -> None:
    path = tmp_path / "old.db"
    old = await open_embedded(path, migrations_dir=migrations_0002)
    await fill(old)
    await old.close()
    with sqlite3.connect(path) as conn:
        before = conn.execute(ROWS).fetchall()
        sessions_before = conn.execute(SESSIONS_V1).fetchall()
    conn.close()

    memory = await open_embedded(path)
    try:
        assert memory.migration_outcome is not None
        assert memory.migration_outcome.applied == AFTER_0002
        with sqlite3.connect(path) as conn:
            assert conn.execute(ROWS).fetchall() == before
            assert conn.execute(SESSIONS_V1).fetchall() == sessions_before
            ids = conn.execute(
                "SELECT id, session_id, seq FROM conversation_events ORDER BY session_id, seq"
            ).fetchall()
        conn.close()
        await check_head(memory, before, ids)
        assert isinstance(memory, LibsqlMemory)
        copy = tmp_path / "backup.db"
        await backup_embedded(memory, copy)
    finally:
        await memory.close()
    keys = "SELECT id, session_id, seq, payload FROM conversation_events ORDER BY id"
    index = "SELECT rowid, mine, reply, tool FROM search_events ORDER BY rowid"
    with sqlite3.connect(path) as original, sqlite3.connect(copy) as backup:
        assert backup.execute(keys).fetchall() == original.execute(keys).fetchall()
        assert backup.execute(index).fetchall() == original.execute(index).fetchall()
    original.close()
    backup.close()
    reopened = await open_embedded(copy)
    try:
        reopened.use_search_text(searchable_text)
        assert [h.seq for h in await reopened.search("xylophone")] == [1]
    finally:
        await reopened.close()


async def test_sqld_0002_with_data_migrates_to_head(
    fresh_sqld: SqldServer, migrations_0002: Path
) -> None:
    url, token = fresh_sqld.ws_url, fresh_sqld.token()
    old = await open_remote(url, auth_token=token, migrations_dir=migrations_0002)
    await fill(old)
    await old.close()
    before = await query(url, token, ROWS)
    memory = await open_remote(url, auth_token=token)
    try:
        assert memory.migration_outcome is not None
        assert memory.migration_outcome.applied == AFTER_0002
        assert await query(url, token, ROWS) == before
        ids = await query(
            url,
            token,
            "SELECT id, session_id, seq FROM conversation_events ORDER BY session_id, seq",
        )
        await check_head(memory, before, ids)
    finally:
        await memory.close()
