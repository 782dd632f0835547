"""``db status`` row counts stay exact through every write path (migration 0008.counts).

On the SQL backends the counts are kept by triggers in ``row_counts``; the ephemeral
backend counts its own structures. Both must report the same figures after the same
operations, and the SQL figures must equal what ``count(*)`` finds.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from memory import EventDraft, MemoryBackend, NewTurn, open_embedded
from memory.schema.migrate import migrations_dir
from tests.support.old_heads import old_head

COUNTED = ("sessions", "conversation_events", "session_state")


def drafts(n: int, start: int = 0) -> list[EventDraft]:
    return [EventDraft("user", {"content": f"message {start + i}"}) for i in range(n)]


async def counts(backend: MemoryBackend) -> tuple[int, int, int]:
    report = await backend.health()
    return tuple(report.row_counts[name] for name in COUNTED)  # type: ignore[return-value]


async def test_counts_follow_store_state_import_fork_and_forget(backend: MemoryBackend) -> None:
    assert await counts(backend) == (0, 0, 0)
    await backend.store("a", drafts(3))
    await backend.store_turn("a", "k1", drafts(2, 3), turn=NewTurn(), state={"n": 1})
    assert await counts(backend) == (1, 5, 1)
    # Replaying a stored save point adds nothing.
    await backend.store_turn("a", "k1", drafts(2, 3), turn=NewTurn(), state={"n": 1})
    assert await counts(backend) == (1, 5, 1)
    # A checkpoint saved twice at the same seq replaces the first (still one row).
    await backend.save_state("a", {"n": 2})
    await backend.save_state("a", {"n": 3})
    assert await counts(backend) == (1, 5, 1)
    await backend.store("b", drafts(1))
    await backend.save_state("b", {"b": True})
    assert await counts(backend) == (2, 6, 2)

    exported = [s async for s in backend.export_sessions(["a"])]
    await backend.import_sessions(exported, as_new=True)
    assert await counts(backend) == (3, 11, 3)
    # Importing identical content again changes nothing.
    await backend.import_sessions(exported)
    assert await counts(backend) == (3, 11, 3)

    await backend.fork_session("a", at=4, new_id="fork")
    assert (await counts(backend))[:2] == (4, 15)
    await backend.forget("a")
    await backend.forget("fork")
    assert await counts(backend) == (2, 6, 2)
    await backend.forget("b")
    assert await counts(backend) == (1, 5, 1)


async def test_sql_counts_equal_count_star(db_path: Path) -> None:
    memory = await open_embedded(db_path)
    try:
        await memory.store("a", drafts(4))
        await memory.store_turn("a", "k", drafts(2), turn=NewTurn(), state={"x": 1})
        await memory.save_state("a", {"x": 2})
        await memory.fork_session("a", new_id="f")
        await memory.store("b", drafts(7))
        await memory.forget("b")
        reported = await counts(memory)
    finally:
        await memory.close()
    with sqlite3.connect(db_path) as conn:
        truth = tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED)
        kept = dict(conn.execute("SELECT name, rows FROM row_counts").fetchall())
    conn.close()
    assert reported == truth
    assert tuple(kept[t] for t in COUNTED) == truth
    assert truth[:2] == (2, 12)


async def test_0008_counts_rows_that_existed_before_it(tmp_path: Path) -> None:
    """A database migrated to 0005 with rows gets their exact counts from 0006."""
    folder = old_head(tmp_path / "to-0007", 7)
    db = tmp_path / "old.db"
    old = await open_embedded(db, migrations_dir=folder)
    try:
        await old.store("a", drafts(3))
        await old.store("b", drafts(2))
        await old.save_state("b", {"k": 1})
        old_report = await old.health()
    finally:
        await old.close()
    assert "0008.counts" not in old_report.applied_migrations
    assert tuple(old_report.row_counts[t] for t in COUNTED) == (2, 5, 1)  # count(*) path
    memory = await open_embedded(db)
    try:
        assert memory.migration_outcome is not None
        assert memory.migration_outcome.applied[0] == "0008.counts"
        assert await counts(memory) == (2, 5, 1)
        await memory.store("c", drafts(1))
        assert await counts(memory) == (3, 6, 1)
    finally:
        await memory.close()


def test_0006_rolls_back_to_exactly_the_previous_schema() -> None:
    folder = migrations_dir()

    def schema(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
        rows = conn.execute("SELECT type, name, coalesce(sql, '') FROM sqlite_master")
        return sorted((str(t), str(n), str(q)) for t, n, q in rows)

    before = sqlite3.connect(":memory:")
    after = sqlite3.connect(":memory:")
    for conn in (before, after):
        for name in ("0001.initial-schema.sql", "0002.save-points.sql"):
            conn.executescript((folder / name).read_text())
    after.executescript((folder / "0008.counts.sql").read_text())
    after.execute("INSERT INTO sessions (id, created_at, updated_at) VALUES ('s', 't', 't')")
    assert after.execute("SELECT rows FROM row_counts WHERE name = 'sessions'").fetchone() == (1,)
    after.executescript((folder / "0008.counts.rollback.sql").read_text())
    try:
        assert schema(after) == schema(before)
    finally:
        before.close()
        after.close()


async def test_count_sessions_counts_all_the_listed_or_the_archived(
    backend: MemoryBackend,
) -> None:
    """The home list's count is of the sessions it lists (review finding: it counted
    archived sessions, which it does not show)."""
    for sid in ("a", "b", "c"):
        await backend.store(sid, drafts(1))
    await backend.set_archived("b", True)
    assert await backend.count_sessions() == 3
    assert await backend.count_sessions(archived=False) == 2
    assert await backend.count_sessions(archived=True) == 1
    listed = await backend.list_sessions(limit=10)
    assert len(listed.sessions) == await backend.count_sessions(archived=False)
    await backend.set_archived("b", False)
    await backend.forget("a")
    assert (
        await backend.count_sessions(archived=False),
        await backend.count_sessions(archived=True),
    ) == (2, 0)
