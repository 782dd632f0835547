"""llm's logs.db: the released and the message-store layouts, read-only, growth."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from memory import MemoryBackend
from runtime.importers.base import SourceFormatError
from runtime.importers.llm_logs import LlmReader, default_path
from runtime.importers.run import run_import
from tests.importers.conftest import digests
from tests.importers.llm_fixture import add_released_response, build_message_store, build_released


async def _run(store: MemoryBackend, path: Path, **kwargs: bool):  # type: ignore[no-untyped-def]
    reader = LlmReader(path)
    try:
        return await run_import(store, reader, **kwargs)
    finally:
        reader.close()


async def test_released_layout(store: MemoryBackend, tmp_path: Path) -> None:
    (tmp_path / "llm").mkdir()
    path = tmp_path / "llm" / "logs.db"
    build_released(path)
    before = digests(path.parent)
    report = await _run(store, path)
    assert digests(path.parent) == before  # the file is unchanged and nothing was created
    assert (report.added, report.events_added) == (2, 14)
    events = await store.recall("llm-01jv-conv-a")
    assert [(e.turn, e.kind) for e in events] == [
        (1, "system"),
        (1, "user"),
        (1, "assistant"),
        (1, "tool_call"),
        (1, "tool_result"),
        (1, "assistant"),
        (2, "user"),
        (2, "reasoning"),
        (2, "assistant"),
        (2, "tool_result"),
        (3, "user"),
        (3, "assistant"),
    ]
    p = [e.payload for e in events]
    assert p[3] == {
        "call_id": "call_w1",
        "name": "get_weather",
        "arguments": {"city": "Paris"},
        "source": {"tool_calls.id": 1, "tool_id": 1},
    }
    assert (p[4]["call_id"], p[4]["result"]) == ("call_w1", "18C, sunny")
    assert p[5]["usage"] == {
        "prompt_tokens": 70,
        "completion_tokens": 10,
        "total_tokens": 80,
        "details": {"cached_tokens": 0},
    }
    assert p[2]["model"] == "gpt-4o-mini-2024-07-18"
    assert p[2]["source"]["prompt_json"] == {"messages": [{"role": "user", "content": "..."}]}
    assert p[6]["content"] == (
        "What is in this photo?\n"
        "[attachment image/jpeg /home/ana/cat.jpg, 2,048 bytes - not imported]"
    )
    assert p[9]["error"] == "ValueError: unknown city"
    assert events[0].created_at == "2025-05-01T10:00:00.100000Z"
    info = await store.get_session("llm-01jv-conv-a")
    assert info.title == "Weather in Paris"
    assert info.metadata["source"] == {
        "tool": "llm",
        "id": "01jv-conv-a",
        "file": str(path),
        "layout": "responses",
        "records": 4,
        "last_key": "01jv-r4",
        "seq": 12,  # where the import left the session (a later import checks it)
    }
    orphan = await store.get_session("llm-01jv-r9")
    assert orphan.title == "Say hi" and orphan.events == 2


async def test_released_layout_grows(store: MemoryBackend, tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    build_released(path)
    await _run(store, path)
    add_released_response(path)
    report = await _run(store, path)
    assert (report.updated, report.events_appended, report.unchanged) == (1, 2, 1)
    tail = (await store.recall("llm-01jv-conv-a"))[-2:]
    assert [(e.seq, e.turn, e.kind) for e in tail] == [(13, 4, "user"), (14, 4, "assistant")]
    assert (await _run(store, path)).unchanged == 2


async def test_message_store_layout(store: MemoryBackend, tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    build_released(path)
    build_message_store(path)
    report = await _run(store, path)
    assert report.added == 3
    events = await store.recall("llm-thread:th-1")
    assert [e.kind for e in events] == [
        "system",
        "user",
        "reasoning",
        "assistant",
        "tool_call",
        "tool_result",
        "assistant",
    ]
    p = [e.payload for e in events]
    assert p[1]["content"].endswith(
        "[attachment text/plain https://example.com/build.log - not imported]"
    )
    assert (p[4]["call_id"], p[4]["name"], p[4]["arguments"]) == (
        "tc_1",
        "grep",
        {"pattern": "error"},
    )
    assert (p[5]["call_id"], p[5]["result"]) == ("tc_1", "error[E0308]: mismatched types")
    assert p[6]["usage"] == {"prompt_tokens": 60, "completion_tokens": 8, "total_tokens": 68}
    assert events[-1].created_at == "2025-07-01T12:00:05.000000Z"
    info = await store.get_session("llm-thread:th-1")
    assert (info.title, info.model) == ("Rust build", "gpt-5")


def test_not_an_llm_database(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE t (x)")
    db.close()
    with pytest.raises(SourceFormatError, match="not an llm logs database"):
        LlmReader(other)
    text = tmp_path / "text.db"
    text.write_text("hello, not sqlite at all" * 100)
    with pytest.raises(SourceFormatError, match="not an llm logs database"):
        LlmReader(text)


def test_default_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LLM_USER_PATH", str(tmp_path))
    assert default_path() == tmp_path / "logs.db"
    monkeypatch.delenv("LLM_USER_PATH")
    assert default_path().parts[-2:] == ("io.datasette.llm", "logs.db")


async def test_a_responses_table_without_llms_columns_is_a_clear_error(
    store: MemoryBackend, tmp_path: Path
) -> None:
    """Review finding: an 'internal error: OperationalError: no such column'."""
    path = tmp_path / "w.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE responses (x)")
    db.execute("INSERT INTO responses VALUES (1)")
    db.commit()
    db.close()
    with pytest.raises(SourceFormatError, match="not an llm logs database turnkeep can read"):
        await _run(store, path)
    assert (await store.list_sessions()).sessions == ()


async def test_blob_text_and_absurd_token_counts_do_not_stop_or_swamp_an_import(
    store: MemoryBackend, tmp_path: Path
) -> None:
    """Review finding: a BLOB prompt stopped the import with an internal error (after
    another conversation was written); 2**62 tokens went into the usage totals."""
    (tmp_path / "llm").mkdir()
    path = tmp_path / "llm" / "logs.db"
    build_released(path)
    db = sqlite3.connect(path)
    db.execute("UPDATE responses SET prompt = ? WHERE id = '01jv-r1'", (b"caf\xc3\xa9 \xff",))
    db.execute("UPDATE responses SET input_tokens = ? WHERE id = '01jv-r1'", (2**62,))
    db.commit()
    db.close()
    report = await _run(store, path)
    assert report.added >= 1
    events = await store.recall("llm-01jv-conv-a")
    prompts = [e.payload["content"] for e in events if e.kind == "user"]
    assert prompts[0].startswith("café \ufffd")
    info = await store.get_session("llm-01jv-conv-a")
    assert info.prompt_tokens < 10**12


async def test_a_wal_mode_logs_db_gets_no_files_beside_it(
    store: MemoryBackend, tmp_path: Path
) -> None:
    """Review finding: importing a WAL-mode logs.db left logs.db-wal and logs.db-shm
    next to it (the source is never touched)."""
    (tmp_path / "llm").mkdir()
    path = tmp_path / "llm" / "logs.db"
    build_released(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"
    db.close()  # the last connection: the WAL is folded in and removed
    before = sorted(p.name for p in path.parent.iterdir())
    assert before == ["logs.db"]
    digest = digests(path.parent)
    report = await _run(store, path)
    assert report.added >= 1
    assert sorted(p.name for p in path.parent.iterdir()) == before
    assert digests(path.parent) == digest
