"""Large sessions are written in chunks; an interrupted import resumes without duplicates."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from memory import MemoryBackend, open_embedded
from memory.errors import StoreConnectionError
from runtime.importers import jsonl
from runtime.importers.claude_code import ClaudeCodeReader
from runtime.importers.run import run_import
from tests.importers.conftest import FIXTURES
from tui.cli.importing import ProgressBar

MAIN = "claude-code-7f2c1a9e-4b1d-4e0a-9c3e-1f2a3b4c5d6e"


async def _events(memory: MemoryBackend, session_id: str) -> list[tuple[Any, ...]]:
    return [
        (e.seq, e.turn, e.kind, e.created_at, e.payload) for e in await memory.recall(session_id)
    ]


async def test_chunked_import_equals_whole_import(
    store: MemoryBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await run_import(store, ClaudeCodeReader(FIXTURES / "claude-code"))
    whole = await _events(store, MAIN)
    monkeypatch.setattr(jsonl, "CHUNK_BYTES", 1500)
    other = await open_embedded(tmp_path / "chunked.db")
    try:
        report = await run_import(other, ClaudeCodeReader(FIXTURES / "claude-code"))
        assert (report.added, report.events_added) == (2, 22)
        assert await _events(other, MAIN) == whole
        info = await other.get_session(MAIN)
        assert info.title == "Fix the flaky date parser test"
    finally:
        await other.close()


class FailingAppend:
    """Test double: a real backend whose third ``append_imported`` fails (a lost
    connection mid-import); everything else goes to the real backend."""

    def __init__(self, inner: MemoryBackend) -> None:
        self.inner = inner
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def append_imported(self, *args: Any, **kwargs: Any) -> int:
        self.calls += 1
        if self.calls == 3:
            raise StoreConnectionError("connection lost")
        return await self.inner.append_imported(*args, **kwargs)


async def test_interrupted_import_resumes(
    store: MemoryBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = await open_embedded(tmp_path / "reference.db")
    try:
        await run_import(reference, ClaudeCodeReader(FIXTURES / "claude-code"))
        whole = await _events(reference, MAIN)
    finally:
        await reference.close()
    monkeypatch.setattr(jsonl, "CHUNK_BYTES", 1500)
    with pytest.raises(StoreConnectionError):
        await run_import(FailingAppend(store), ClaudeCodeReader(FIXTURES / "claude-code"))  # type: ignore[arg-type]
    partial = await _events(store, MAIN)
    assert 0 < len(partial) < len(whole)
    assert partial == whole[: len(partial)]  # a consistent prefix, each chunk whole
    report = await run_import(store, ClaudeCodeReader(FIXTURES / "claude-code"))
    assert report.updated + report.added >= 1
    assert await _events(store, MAIN) == whole


def test_progress_bar_draws_a_line() -> None:
    out = io.StringIO()
    bar = ProgressBar(2048, "bytes", out)
    bar.advance(1024)
    bar.close()
    text = out.getvalue()
    assert text.startswith("\r[") and " 50%" in text and text.endswith("\n")


def test_events_too_large_for_a_remote_server_are_reported() -> None:
    from runtime.importers.base import Chunk, Draft
    from runtime.importers.units import ImportReport, encode_chunk

    small = Draft("user", {"content": "hi"}, "2025-01-01T00:00:00.000000Z", 1, "f.jsonl:1")
    huge = Draft(
        "tool_result", {"result": "é" * 600}, "2025-01-01T00:00:00.000000Z", 1, "f.jsonl:2"
    )
    chunk = Chunk("s", None, None, "x", "x", {}, events=[small, huge])
    report = ImportReport("claude-code")
    kept = encode_chunk(chunk, report, max_bytes=1000)
    assert kept.events == [small] and small.encoded == '{"content":"hi"}'
    assert [str(m) for m in report.malformed] == [
        "f.jsonl:2: not imported: a tool_result event of 1,213 bytes is larger than the "
        "remote server accepts (1,000 bytes per value)"
    ]
