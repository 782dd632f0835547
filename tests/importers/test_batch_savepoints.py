"""Imports write many sessions in one transaction, a savepoint each: a session that fails
is rolled back whole and the other sessions of its batch are committed whole."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memory import ImportConflictError, MemoryBackend, open_embedded
from memory.bundle import PortableEvent, PortableSession
from memory.errors import QueryError
from memory.records import encode_payload
from memory.sql.import_batch import ImportedAppend
from runtime.importers import writer as writer_module
from runtime.importers.base import Chunk, Existing, SourceFormatError
from runtime.importers.claude_code import ClaudeCodeReader
from runtime.importers.run import ImportReport, Unit, run_import
from tests.importers.conftest import FIXTURES

AT = "2025-01-01T00:00:00.000000Z"
MAIN = "claude-code-7f2c1a9e-4b1d-4e0a-9c3e-1f2a3b4c5d6e"


def _events(first: int, texts: list[str]) -> list[PortableEvent]:
    return [
        PortableEvent(first + i, 1, "user", AT, encode_payload({"role": "user", "content": t}))
        for i, t in enumerate(texts)
    ]


def _header(session_id: str) -> PortableSession:
    return PortableSession(
        id=session_id,
        title=f"title of {session_id}",
        agent="claude-code",
        provider=None,
        model=None,
        created_at=AT,
        updated_at=AT,
        metadata_json=encode_payload({"source": {"tool": "claude-code"}}),
        states=(),
        events=(),
    )


def _create(session_id: str, events: list[PortableEvent]) -> ImportedAppend:
    header = _header(session_id)
    return ImportedAppend(session_id, events, 0, header.metadata_json, AT, header)


def _rows(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Read the file with a connection of its own (what another process would see)."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _session_state(db: Path, session_id: str) -> tuple[Any, ...]:
    sessions = _rows(db, "SELECT last_seq, event_count FROM sessions WHERE id = ?", session_id)
    events = _rows(db, "SELECT count(*) FROM conversation_events WHERE session_id = ?", session_id)[
        0
    ][0]
    indexed = _rows(
        db,
        "SELECT count(*) FROM search_events WHERE rowid IN "
        "(SELECT id FROM conversation_events WHERE session_id = ?)",
        session_id,
    )[0][0]
    return (sessions[0] if sessions else None, events, indexed)


async def test_a_failing_session_is_rolled_back_whole_and_the_rest_of_its_batch_commits(
    tmp_path: Path,
) -> None:
    db = tmp_path / "batch.db"
    memory = await open_embedded(db)
    try:
        good_a = _create("claude-code-a", _events(1, ["alpha one", "alpha two"]))
        # Two appends of one session in the batch: the first is fine, the second breaks
        # the payload CHECK (json_valid) in SQLite itself; both must go.
        bad_1 = _create("claude-code-b", _events(1, ["bravo one"]))
        broken = PortableEvent(2, 1, "user", AT, '{"role": "user", "content": ')
        bad_2 = ImportedAppend("claude-code-b", [broken], 1, None, AT)
        good_c = _create("claude-code-c", _events(1, ["charlie one", "charlie two", "three"]))
        failed = await memory.append_imported_many([good_a, bad_1, bad_2, good_c])
        assert set(failed) == {"claude-code-b"}
        assert isinstance(failed["claude-code-b"], QueryError)
        assert "CHECK constraint failed" in str(failed["claude-code-b"].__cause__)
    finally:
        await memory.close()
    # Whole: every event, its counters and its index rows; absent: not a trace.
    assert _session_state(db, "claude-code-a") == ((2, 2), 2, 2)
    assert _session_state(db, "claude-code-b") == (None, 0, 0)
    assert _session_state(db, "claude-code-c") == ((3, 3), 3, 3)
    assert (
        _rows(db, "SELECT count(*) FROM search_title_keys WHERE session_id = ?", "claude-code-b")[
            0
        ][0]
        == 0
    )
    texts = _rows(
        db, "SELECT json_extract(payload, '$.content') FROM conversation_events ORDER BY id"
    )
    assert [t for (t,) in texts] == [
        "alpha one",
        "alpha two",
        "charlie one",
        "charlie two",
        "three",
    ]


async def test_a_session_created_meanwhile_is_a_conflict_of_that_session_only(
    tmp_path: Path,
) -> None:
    db = tmp_path / "batch.db"
    memory = await open_embedded(db)
    try:
        await memory.append_imported_many([_create("claude-code-x", _events(1, ["first"]))])
        failed = await memory.append_imported_many(
            [
                _create("claude-code-y", _events(1, ["why"])),
                _create("claude-code-x", _events(1, ["again"])),
            ]
        )
        assert list(failed) == ["claude-code-x"]
        assert isinstance(failed["claude-code-x"], ImportConflictError)
        assert [e.payload["content"] for e in await memory.recall("claude-code-x")] == ["first"]
        assert [e.payload["content"] for e in await memory.recall("claude-code-y")] == ["why"]
    finally:
        await memory.close()


async def test_many_events_in_one_append_keep_their_order(tmp_path: Path) -> None:
    """Events go in multi-row INSERTs of several sizes; ids still ascend with seq."""
    memory = await open_embedded(tmp_path / "order.db")
    try:
        texts = [f"event {i}" for i in range(1, 300)]
        failed = await memory.append_imported_many([_create("claude-code-o", _events(1, texts))])
        assert failed == {}
        events = await memory.recall("claude-code-o")
        assert [(e.seq, e.payload["content"]) for e in events] == [
            (i, f"event {i}") for i in range(1, 300)
        ]
    finally:
        await memory.close()
    ids = _rows(tmp_path / "order.db", "SELECT seq FROM conversation_events ORDER BY id")
    assert [s for (s,) in ids] == list(range(1, 300))


class RacingUnit:
    """Test double around a real unit: while its source is parsed, another process
    creates a session under the same id (what no real reader can make happen on cue)."""

    def __init__(self, inner: Unit, db: Path) -> None:
        self.inner = inner
        self.session_id = inner.session_id
        self.db = db

    def chunks(self, existing: Existing | None, report: ImportReport) -> Iterator[Chunk]:
        conn = sqlite3.connect(self.db, timeout=30)
        try:
            with conn:
                conn.execute(
                    "INSERT INTO sessions (id, created_at, updated_at) VALUES (?, ?, ?)",
                    (self.session_id, AT, AT),
                )
        finally:
            conn.close()
        yield from self.inner.chunks(existing, report)


class RacingReader:
    """The Claude Code reader with its main transcript raced (see :class:`RacingUnit`)."""

    def __init__(self, root: Path, db: Path) -> None:
        self.inner = ClaudeCodeReader(root)
        self.tool, self.total, self.unit_name = self.inner.tool, self.inner.total, "bytes"
        self.db = db

    def units(self, report: ImportReport) -> Iterator[Unit]:
        for unit in self.inner.units(report):
            yield RacingUnit(unit, self.db) if unit.session_id == MAIN else unit

    def close(self) -> None:
        self.inner.close()


async def test_run_import_reports_the_failed_session_and_imports_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Several sessions per batch: the main transcript and copies of the sub-agent file.
    root = tmp_path / "projects"
    shutil.copytree(FIXTURES / "claude-code", root)
    project = next(p for p in root.iterdir() if p.is_dir())
    agent = next(project.glob("agent-*.jsonl"))
    for n in range(3):
        text = agent.read_text().replace("a1b2c3d4", f"a1b2c3d{n}e")
        (project / f"agent-copy{n}.jsonl").write_text(text)
    monkeypatch.setattr(writer_module, "BATCH_BYTES", 1 << 30)
    db = tmp_path / "race.db"
    reference = await open_embedded(tmp_path / "reference.db")
    memory = await open_embedded(db)
    try:
        expected = await run_import(reference, ClaudeCodeReader(root))
        report = await run_import(memory, RacingReader(root, db))
        others = [sid for sid, outcome, _ in expected.sessions if sid != MAIN]
        assert len(others) >= 2
        for sid in others:  # imported whole, as by an import without the race
            assert [e.payload for e in await memory.recall(sid)] == [
                e.payload for e in await reference.recall(sid)
            ]
        assert await memory.recall(MAIN) == []  # only the racing writer's empty row
        assert report.added == expected.added - 1
        assert report.not_updated == 1
        main_events = dict((s, n) for s, _, n in expected.sessions)[MAIN]
        assert report.events_added == expected.events_added - main_events
        assert (MAIN, "failed", 0) in report.sessions
        assert any(MAIN in m.reason for m in report.malformed)
    finally:
        await reference.close()
        await memory.close()


class BrokenReader(RacingReader):
    """Test double: the Claude Code reader, whose source turns out unreadable after its
    first session (what a real directory does only by chance)."""

    def units(self, report: ImportReport) -> Iterator[Unit]:
        yield next(iter(self.inner.units(report)))
        raise SourceFormatError("the source went away")


async def test_the_switch_interval_is_restored_after_an_import(
    store: MemoryBackend, tmp_path: Path
) -> None:
    before = sys.getswitchinterval()
    await run_import(store, ClaudeCodeReader(FIXTURES / "claude-code"))
    assert sys.getswitchinterval() == before
    other = await open_embedded(tmp_path / "other.db")
    try:
        with pytest.raises(SourceFormatError):
            await run_import(other, BrokenReader(FIXTURES / "claude-code", tmp_path / "x.db"))
        assert sys.getswitchinterval() == before
        assert len((await other.list_sessions()).sessions) == 1  # written before the failure
    finally:
        await other.close()


@pytest.mark.parametrize("change", ["appended", "deleted"])
async def test_an_append_to_a_session_that_moved_on_is_a_conflict_and_writes_nothing(
    tmp_path: Path, change: str
) -> None:
    """The batch's one-row inserts are guarded by ``last_seq``: an append expecting a
    ``last_seq`` the session no longer has (or a session gone) fails its savepoint only."""
    db = tmp_path / "batch.db"
    memory = await open_embedded(db)
    try:
        await memory.append_imported_many([_create("claude-code-x", _events(1, ["first"]))])
        if change == "appended":  # someone else appended meanwhile: last_seq is 2, not 1
            await memory.append_imported_many(
                [ImportedAppend("claude-code-x", _events(2, ["other"]), 1, None, AT)]
            )
        else:
            await memory.forget("claude-code-x")
        stale = ImportedAppend("claude-code-x", _events(2, ["mine", "too"]), 1, None, AT)
        failed = await memory.append_imported_many(
            [stale, _create("claude-code-y", _events(1, ["why"]))]
        )
        assert list(failed) == ["claude-code-x"]
        assert isinstance(failed["claude-code-x"], ImportConflictError)
        assert "changed (or was deleted)" in str(failed["claude-code-x"])
        assert [e.payload["content"] for e in await memory.recall("claude-code-y")] == ["why"]
    finally:
        await memory.close()
    expected = ((2, 2), 2, 2) if change == "appended" else (None, 0, 0)
    assert _session_state(db, "claude-code-x") == expected
