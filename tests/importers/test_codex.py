"""Codex rollouts: both layouts, pairing, compaction, growth, malformed lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memory import MemoryBackend
from runtime.importers.base import SourceFormatError
from runtime.importers.codex import CodexReader, default_dir
from runtime.importers.run import run_import
from tests.importers.conftest import FIXTURES, digests

NEW = "codex-019a2d7a-41c4-78b1-b7cc-a45d62a89cd5"
LEGACY = "codex-5973b6c0-94b8-487b-a530-2aeb6098ae0e"


async def test_rollout_maps_to_events(store: MemoryBackend) -> None:
    before = digests(FIXTURES / "codex")
    report = await run_import(store, CodexReader(FIXTURES / "codex"))
    assert digests(FIXTURES / "codex") == before
    assert (report.added, report.events_added) == (2, 15)
    events = await store.recall(NEW)
    assert [(e.turn, e.kind) for e in events] == [
        (1, "system"),
        (1, "user"),
        (1, "reasoning"),
        (1, "tool_call"),
        (1, "tool_result"),
        (1, "tool_call"),
        (1, "tool_result"),
        (1, "assistant"),
        (1, "summary"),
        (1, "unknown"),
        (1, "unknown"),
        (2, "user"),
        (2, "assistant"),
    ]
    p = [e.payload for e in events]
    assert p[0]["content"].startswith("<environment_context>")  # injected context, not a turn
    assert p[1]["content"].startswith("How many Python files are in src?\n[image, ")
    assert "not imported" in p[1]["source"]["images"][0]["image_url"]
    assert p[2]["content"] == "**Counting files**"
    assert "not imported" in p[2]["source"]["encrypted_content"]
    assert p[3] == {
        "call_id": "call_abc1",
        "name": "shell",
        "arguments": {
            "command": ["bash", "-lc", "ls src/*.py | wc -l"],
            "workdir": "/home/ana/proj",
        },
        "source": {"item_type": "function_call"},
    }
    assert p[4]["call_id"] == "call_abc1" and p[4]["name"] == "shell"
    assert json.loads(p[4]["result"])["output"] == "7\n"
    assert p[5]["name"] == "apply_patch" and p[6]["name"] == "apply_patch"
    assert p[7] == {
        "role": "assistant",
        "content": "There are 7 Python files in src.",
        "model": "gpt-5-codex",
        # from the token_count notice that follows the answer
        "usage": {"prompt_tokens": 2946, "completion_tokens": 7, "total_tokens": 2953},
    }
    assert p[8]["content"].startswith("Summary so far")
    assert {p[9]["type"], p[10]["type"]} == {"ghost_snapshot", "future_type"}
    assert events[1].created_at == "2025-10-29T00:59:38.320000Z"
    info = await store.get_session(NEW)
    assert info.title == "How many Python files are in src?"
    assert info.model == "gpt-5-codex"
    assert info.metadata["source"]["cli_version"] == "0.46.0"
    assert info.metadata["source"]["id"] == "019a2d7a-41c4-78b1-b7cc-a45d62a89cd5"
    assert [m.line for m in report.malformed] == [9, 20]
    assert report.ignored["event_msg:token_count"] == 1
    legacy = await store.recall(LEGACY)
    assert [e.kind for e in legacy] == ["user", "assistant"]
    assert legacy[0].created_at == "2025-05-07T17:24:21.123000Z"
    assert (await store.get_session(LEGACY)).metadata["source"]["instructions"] == "Be terse."


async def test_grown_rollout_appends(store: MemoryBackend, fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root = fixture_copy("codex")
    path = next(root.rglob("rollout-2025-10-29*.jsonl"))
    await run_import(store, CodexReader(root))
    described = (await store.get_session(NEW)).metadata["source"]
    with path.open("a") as handle:
        handle.write('xt","text":"One more question"}]}}\n')
    report = await run_import(store, CodexReader(root))
    assert (report.updated, report.events_appended, report.unchanged) == (1, 1, 1)
    # The session_meta line is not read again; what it said is kept.
    source = (await store.get_session(NEW)).metadata["source"]
    assert (source["cli_version"], source["cwd"]) == ("0.46.0", described["cwd"])
    kept = described.keys() - {"records", "offset", "lines", "tail", "open_calls", "usage", "seq"}
    assert {k: source.get(k) for k in kept} == {k: described[k] for k in kept}
    last = (await store.recall(NEW))[-1]
    assert (last.seq, last.turn, last.kind) == (14, 3, "user")
    assert last.payload["content"] == "One more question"
    again = await run_import(store, CodexReader(root), dry_run=True)
    assert (again.updated, again.unchanged) == (0, 2)


def test_default_dir_follows_codex_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CODEX_HOME", str(tmp_path))
    assert default_dir() == tmp_path / "sessions"
    monkeypatch.delenv("CODEX_HOME")
    assert default_dir() == Path.home() / ".codex" / "sessions"


def test_wrong_format_is_refused(tmp_path: Path) -> None:
    claude = next((FIXTURES / "claude-code").rglob("agent-*.jsonl"))
    with pytest.raises(SourceFormatError, match="is not a Codex rollout"):
        CodexReader(claude)
    with pytest.raises(SourceFormatError, match="no Codex rollouts"):
        CodexReader(FIXTURES / "claude-code")
