"""Schema v1 and yoyo migrations: exact schema, baseline fixture, forward, no-op, failure."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from memory import EventDraft, MigrationError, open_embedded
from memory.schema.migrate import migrations_dir
from tests.support.migration_ids import ALL_MIGRATIONS

EXPECTED_SCHEMA = {
    ("table", "sessions"),
    ("index", "sessions_recent"),
    ("table", "conversation_events"),
    ("table", "session_state"),
    ("table", "save_points"),
    ("index", "sqlite_autoindex_save_points_1"),
    ("index", "sqlite_autoindex_sessions_1"),
    ("index", "sqlite_autoindex_conversation_events_1"),
    ("index", "sqlite_autoindex_session_state_1"),
    ("table", "search_events"),
    ("table", "search_events_config"),
    ("table", "search_events_content"),
    ("table", "search_events_data"),
    ("table", "search_events_docsize"),
    ("table", "search_events_idx"),
    ("table", "search_titles"),
    ("table", "search_titles_config"),
    ("table", "search_titles_content"),
    ("table", "search_titles_data"),
    ("table", "search_titles_docsize"),
    ("table", "search_titles_idx"),
    ("table", "search_progress"),
    ("table", "search_title_keys"),
    ("index", "sqlite_autoindex_search_title_keys_1"),
    ("trigger", "search_events_deleted"),
    ("trigger", "search_titles_deleted"),
    ("trigger", "search_title_keys_deleted"),
    ("trigger", "search_titles_changed"),
    # 0005.organize
    # (its sessions_recent_pinned and sessions_recent_active: replaced by 0012)
    ("index", "sessions_recent_archived"),
    ("table", "session_tags"),
    ("index", "sqlite_autoindex_session_tags_1"),
    ("index", "session_tags_by_tag"),
    # 0006.vectors
    ("table", "event_vectors"),
    ("table", "vector_state"),
    ("trigger", "event_vectors_added"),
    ("trigger", "event_vectors_removed"),
    ("trigger", "event_vectors_event_deleted"),
    ("trigger", "vector_state_rewound"),
    # 0007.event-navigation
    ("index", "conversation_events_user_seq"),
    ("index", "conversation_events_user_turn"),
    # 0008.counts
    ("table", "row_counts"),
    ("trigger", "row_counts_sessions_inserted"),
    ("trigger", "row_counts_sessions_deleted"),
    ("trigger", "row_counts_events_inserted"),
    ("trigger", "row_counts_events_deleted"),
    ("trigger", "row_counts_state_inserted"),
    ("trigger", "row_counts_state_deleted"),
    # 0009.session-tags-recent
    ("table", "session_tags_recent"),
    ("index", "sqlite_autoindex_session_tags_recent_1"),
    ("index", "session_tags_recent_order"),
    ("trigger", "session_tags_recent_added"),
    ("trigger", "session_tags_recent_removed"),
    ("trigger", "session_tags_recent_moved"),
    ("trigger", "session_tags_recent_gone"),
    # 0010.search-words
    ("table", "search_words"),
    ("table", "search_words_config"),
    ("table", "search_words_data"),
    ("table", "search_words_docsize"),
    ("table", "search_words_idx"),
    ("trigger", "search_words_deleted"),
    # 0012.home-list-order
    ("index", "sessions_recent_home"),
    ("index", "session_tags_recent_home"),
    # 0015.search-pending
    ("table", "search_pending"),
    ("trigger", "search_pending_deleted"),
}


def schema_of(path: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT type, name FROM sqlite_master WHERE name NOT LIKE '%yoyo%' "
            "AND name NOT LIKE 'sqlite_stat%'"
        ).fetchall()
    return {(str(t), str(n)) for t, n in rows}


def dump(path: Path) -> list[str]:
    """Schema and rows of turnkeep's own tables (yoyo's lock/log rows excluded)."""
    with sqlite3.connect(path) as conn:
        return [
            line
            for line in conn.iterdump()
            if "yoyo" not in line and not line.startswith(("BEGIN", "COMMIT"))
        ]


@pytest.fixture
def baseline_migrations(tmp_path: Path) -> Path:
    """A migrations directory holding only the v1 baseline (0001)."""
    target = tmp_path / "migrations-v1"
    target.mkdir()
    for path in migrations_dir().glob("0001.*"):
        shutil.copy(path, target / path.name)
    return target


@pytest.fixture
async def baseline_db(tmp_path: Path, baseline_migrations: Path) -> Path:
    """A database created at the v1 baseline by applying only 0001, with some data."""
    path = tmp_path / "baseline.db"
    memory = await open_embedded(path, migrations_dir=baseline_migrations)
    await memory.close()
    # Rows as a v1 turnkeep wrote them (today's code writes columns v1 does not have).
    with sqlite3.connect(path) as conn:
        stamp = "2026-11-25T12:00:00.000000Z"
        conn.execute(
            "INSERT INTO sessions (id, created_at, updated_at, last_seq, event_count, "
            "turn_count) VALUES ('keep', ?, ?, 1, 1, 1)",
            [stamp, stamp],
        )
        conn.execute(
            "INSERT INTO conversation_events VALUES ('keep', 1, 1, 'user', ?, ?)",
            ['{"content":"kept across migrations"}', stamp],
        )
        conn.execute("INSERT INTO session_state VALUES ('keep', 1, '{\"n\":1}', ?)", [stamp])
    conn.close()
    return path


async def test_blank_database_gets_exactly_the_v1_schema(db_path: Path) -> None:
    memory = await open_embedded(db_path)
    await memory.close()
    assert schema_of(db_path) == EXPECTED_SCHEMA
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        columns = [r[1] for r in conn.execute("PRAGMA table_info(conversation_events)")]
        assert columns == ["id", "session_id", "seq", "turn", "kind", "payload", "created_at"]
        pk = [r[1] for r in conn.execute("PRAGMA table_info(conversation_events)") if r[5]]
        assert pk == ["id"]
        unique = [
            [c[2] for c in conn.execute(f"PRAGMA index_info('{r[1]}')")]
            for r in conn.execute("PRAGMA index_list(conversation_events)")
            if r[2]
        ]
        assert unique == [["session_id", "seq"]]


async def test_applying_twice_changes_nothing(db_path: Path) -> None:
    first = await open_embedded(db_path)
    assert first.migration_outcome is not None
    assert first.migration_outcome.applied == ALL_MIGRATIONS
    await first.close()
    before = dump(db_path)
    second = await open_embedded(db_path)
    assert second.migration_outcome is not None
    assert second.migration_outcome.applied == ()
    await second.close()
    assert dump(db_path) == before


async def test_baseline_migrates_to_head_and_keeps_data(baseline_db: Path) -> None:
    memory = await open_embedded(baseline_db)
    try:
        report = await memory.health()
        assert report.pending_migrations == ()
        assert report.applied_migrations == ALL_MIGRATIONS
        assert memory.migration_outcome is not None
        assert memory.migration_outcome.applied == ALL_MIGRATIONS[1:]
        events = await memory.recall("keep")
        assert [e.payload["content"] for e in events] == ["kept across migrations"]
        state = await memory.load_state("keep")
        assert state is not None and state.state == {"n": 1}
        # 0005 is additive: an existing session is not pinned, archived, tagged or forked.
        info = await memory.get_session("keep")
        assert (info.pinned, info.archived, info.tags, info.forked_from) == (False, False, (), None)
        assert (info.prompt_tokens, info.completion_tokens, info.events) == (0, 0, 1)
        page = await memory.list_sessions(pinned_first=True)
        assert [i.id for i in page.sessions] == ["keep"]
    finally:
        await memory.close()


async def test_forward_migration_applies_new_step_and_keeps_data(
    baseline_db: Path, baseline_migrations: Path
) -> None:
    (baseline_migrations / "0002.add-pinned.sql").write_text(
        "-- depends: 0001.initial-schema\n"
        "ALTER TABLE sessions ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;\n"
    )
    memory = await open_embedded(baseline_db, migrations_dir=baseline_migrations)
    try:
        assert memory.migration_outcome is not None
        assert memory.migration_outcome.applied == ("0002.add-pinned",)
        assert [e.seq for e in await memory.recall("keep")] == [1]
    finally:
        await memory.close()
    with sqlite3.connect(baseline_db) as conn:
        assert conn.execute("SELECT pinned FROM sessions WHERE id = 'keep'").fetchone() == (0,)
    again = await open_embedded(baseline_db, migrations_dir=baseline_migrations)
    assert again.migration_outcome is not None and again.migration_outcome.applied == ()
    await again.close()


async def test_broken_migration_leaves_database_unchanged_and_names_itself(
    baseline_db: Path, baseline_migrations: Path
) -> None:
    (baseline_migrations / "0002.broken.sql").write_text(
        "-- depends: 0001.initial-schema\n"
        "ALTER TABLE sessions ADD COLUMN half_done TEXT;\n"
        "UPDATE sessions SET title = 'changed';\n"
        "THIS IS NOT SQL;\n"
    )
    before = dump(baseline_db)
    with pytest.raises(MigrationError) as info:
        await open_embedded(baseline_db, migrations_dir=baseline_migrations)
    assert info.value.migration == "0002.broken"
    assert "0002.broken" in str(info.value)
    assert dump(baseline_db) == before
    with sqlite3.connect(baseline_db) as conn:
        applied = [r[0] for r in conn.execute("SELECT migration_id FROM _yoyo_migration")]
    assert applied == ["0001.initial-schema"]


async def test_stale_lock_from_dead_process_is_broken_and_reported(
    baseline_db: Path, baseline_migrations: Path
) -> None:
    # A migrator killed while holding yoyo's lock, with a migration still pending.
    with sqlite3.connect(baseline_db) as conn:
        # pid 2**22+1 is above the default pid_max: no such process can exist.
        conn.execute(
            "INSERT INTO yoyo_lock (locked, ctime, pid) VALUES (1, '2026-01-01', ?)", (2**22 + 1,)
        )
    conn.close()
    (baseline_migrations / "0002.add-pinned.sql").write_text(
        "-- depends: 0001.initial-schema\n"
        "ALTER TABLE sessions ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;\n"
    )
    reopened = await open_embedded(baseline_db, migrations_dir=baseline_migrations)
    try:
        assert reopened.migration_outcome is not None
        assert reopened.migration_outcome.applied == ("0002.add-pinned",)
        assert any("stale migration lock" in note for note in reopened.migration_outcome.notes)
    finally:
        await reopened.close()
    with sqlite3.connect(baseline_db) as conn:
        assert conn.execute("SELECT count(*) FROM yoyo_lock").fetchone() == (0,)


async def test_an_up_to_date_database_opens_without_writing(db_path: Path) -> None:
    memory = await open_embedded(db_path)
    await memory.store("s", [EventDraft("user", {"content": "x"})])
    await memory.close()
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = db_path.read_bytes()
    reopened = await open_embedded(db_path)
    try:
        assert reopened.migration_outcome is not None
        assert reopened.migration_outcome.applied == ()
        assert [e.seq for e in await reopened.recall("s")] == [1]
    finally:
        await reopened.close()
    assert db_path.read_bytes() == before


def test_0005_rolls_back_to_exactly_the_previous_schema() -> None:
    """0005 is additive: its rollback returns the schema of 0001+0002, column for column."""
    folder = migrations_dir()

    def schema(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
        rows = conn.execute("SELECT type, name, coalesce(sql, '') FROM sqlite_master")
        return sorted((str(t), str(n), str(q)) for t, n, q in rows)

    before = sqlite3.connect(":memory:")
    after = sqlite3.connect(":memory:")
    for conn in (before, after):
        for name in ("0001.initial-schema.sql", "0002.save-points.sql"):
            conn.executescript((folder / name).read_text())
    after.executescript((folder / "0005.organize.sql").read_text())
    after.execute(
        "INSERT INTO sessions (id, created_at, updated_at, pinned_at) VALUES ('s', 't', 't', 't')"
    )
    after.execute("INSERT INTO session_tags VALUES ('s', 'work')")
    after.execute("DELETE FROM session_tags")
    after.executescript((folder / "0005.organize.rollback.sql").read_text())
    try:
        assert schema(after) == schema(before)
        assert after.execute("SELECT id FROM sessions").fetchall() == [("s",)]
    finally:
        before.close()
        after.close()


def test_migration_files_are_ascii() -> None:
    """yoyo reads migration files in the locale's encoding: under an ASCII locale (LC_ALL=C
    with Python's UTF-8 mode off) one non-ASCII character made every command fail."""
    files = sorted(migrations_dir().glob("*.sql"))
    assert len(files) >= 2 * len(ALL_MIGRATIONS) - 1
    for path in files:
        assert path.read_bytes().isascii(), path.name
