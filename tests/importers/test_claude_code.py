"""Claude Code transcripts: mapping, repeat imports, growth, malformed lines, read-only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from memory import MemoryBackend, parse_bundle, write_bundle
from runtime.importers.claude_code import ClaudeCodeReader
from runtime.importers.run import run_import
from tests.importers.conftest import FIXTURES, digests

MAIN = "claude-code-7f2c1a9e-4b1d-4e0a-9c3e-1f2a3b4c5d6e"
AGENT = "claude-code-agent-a1b2c3d4"


async def _kinds(memory: MemoryBackend, session_id: str) -> list[tuple[int, str]]:
    return [(e.turn, e.kind) for e in await memory.recall(session_id)]


async def test_transcript_maps_to_events_in_order(store: MemoryBackend) -> None:
    before = digests(FIXTURES / "claude-code")
    report = await run_import(store, ClaudeCodeReader(FIXTURES / "claude-code"))
    assert digests(FIXTURES / "claude-code") == before  # the sources are never written
    assert (report.added, report.events_added) == (2, 22)
    assert await _kinds(store, MAIN) == [
        (1, "summary"),
        (1, "user"),
        (1, "reasoning"),
        (1, "assistant"),
        (1, "tool_call"),
        (1, "tool_result"),
        (1, "tool_call"),
        (1, "sidechain"),
        (1, "sidechain"),
        (1, "tool_result"),
        (1, "tool_call"),
        (1, "tool_result"),
        (2, "user"),
        (2, "system"),
        (2, "system"),
        (2, "summary"),
        (2, "unknown"),
        (2, "assistant"),
    ]
    events = await store.recall(MAIN)
    by_seq = {e.seq: e.payload for e in events}
    # tool_use and tool_result came in separate records; they pair by call id and name.
    assert by_seq[5]["call_id"] == by_seq[6]["call_id"] == "toolu_01"
    assert by_seq[6]["name"] == "Read" and "test_monday" in by_seq[6]["result"]
    assert by_seq[12] == {**by_seq[12], "name": "Bash", "error": "1 failed"}
    assert by_seq[4]["model"] == "claude-sonnet-4-20250514"
    # The message's latest usage (its records repeat it), as the runtime records usage;
    # the original figures stay in the record kept under ``source``.
    assert by_seq[4]["usage"] == {"prompt_tokens": 12, "completion_tokens": 60, "total_tokens": 72}
    assert by_seq[3]["source"]["message.usage"]["output_tokens"] == 40
    assert by_seq[3]["content"] == "Probably a weekday off-by-one."
    # The signature is a blob: replaced by a placeholder saying what it was.
    assert "not imported" in by_seq[3]["source"]["signature"]
    # The image is a placeholder in the text and in the kept record.
    assert "[image image/png, 1,133 bytes - not imported]" in by_seq[13]["content"]
    assert "not imported" in by_seq[13]["source"]["blocks"][0]["source"]["data"]
    # The rest of each record is kept: uuid, parentUuid, cwd, toolUseResult.
    assert by_seq[2]["source"]["uuid"] == "u-0001"
    assert by_seq[6]["source"]["toolUseResult"]["file"]["numLines"] == 2
    assert by_seq[16]["content"].startswith("This session is being continued")
    assert by_seq[17]["type"] == "future-record-kind"
    assert events[1].created_at == "2025-06-01T09:00:01.000000Z"
    assert events[0].created_at == events[1].created_at  # the undated summary line
    info = await store.get_session(MAIN)
    assert info.title == "Fix the flaky date parser test"
    assert info.model == "claude-sonnet-4-20250514"
    assert info.provider is None  # resuming uses the configured provider
    assert info.created_at == "2025-06-01T09:00:01.000000Z"
    assert info.updated_at == "2025-06-01T09:03:00.000000Z"
    source = info.metadata["source"]
    assert source["tool"] == "claude-code"
    assert source["id"] == "7f2c1a9e-4b1d-4e0a-9c3e-1f2a3b4c5d6e"
    assert source["file"].endswith("7f2c1a9e-4b1d-4e0a-9c3e-1f2a3b4c5d6e.jsonl")
    assert source["cwd"] == "/home/ana/proj"
    # The sub-agent's own file is a session of its own, pointing at its parent.
    agent = await store.get_session(AGENT)
    assert agent.metadata["source"]["parent_session"] == "7f2c1a9e-4b1d-4e0a-9c3e-1f2a3b4c5d6e"
    assert await _kinds(store, AGENT) == [
        (1, "user"),
        (1, "tool_call"),
        (1, "tool_result"),
        (1, "assistant"),
    ]


async def test_malformed_lines_are_reported_with_file_and_line(store: MemoryBackend) -> None:
    report = await run_import(store, ClaudeCodeReader(FIXTURES / "claude-code"))
    where = [(Path(m.file).name, m.line) for m in report.malformed]
    name = "7f2c1a9e-4b1d-4e0a-9c3e-1f2a3b4c5d6e.jsonl"
    assert where == [(name, 6), (name, 20)]
    assert "not valid JSON" in report.malformed[0].reason
    assert "truncated last line" in report.malformed[1].reason
    assert report.ignored == {"file-history-snapshot": 1}
    assert report.unknown == {"future-record-kind": 1}


async def test_reimport_skips_unchanged_and_dry_run_writes_nothing(store: MemoryBackend) -> None:
    dry = await run_import(store, ClaudeCodeReader(FIXTURES / "claude-code"), dry_run=True)
    assert (dry.added, dry.events_added) == (2, 22)
    assert await store.count_sessions() == 0
    await run_import(store, ClaudeCodeReader(FIXTURES / "claude-code"))
    first = [await store.get_session(sid) for sid in (MAIN, AGENT)]
    again = await run_import(store, ClaudeCodeReader(FIXTURES / "claude-code"))
    assert (again.added, again.updated, again.unchanged, again.events_added) == (0, 0, 2, 0)
    assert len(await store.recall(MAIN)) == 18
    # Its half-written last line is read again, and nothing else changes: the session's
    # source (cwd, version, branch read from earlier lines) included.
    assert [await store.get_session(sid) for sid in (MAIN, AGENT)] == first


#: Source keys each import rewrites (where it stopped reading).
BOOKKEEPING = {"records", "offset", "lines", "tail", "open_calls", "usage", "seq"}


def _line(**record: Any) -> str:
    return json.dumps(record) + "\n"


async def test_grown_transcript_gets_only_new_events(store: MemoryBackend, fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root = fixture_copy("claude-code")
    path = next(root.rglob("7f2c*.jsonl"))
    await run_import(store, ClaudeCodeReader(root))
    first = await store.recall(MAIN)
    described = (await store.get_session(MAIN)).metadata["source"]
    # Claude Code finishes the half-written line and the session goes on.
    with path.open("a", encoding="utf-8") as handle:
        handle.write('her test?"},"uuid":"u-0014","timestamp":"2025-06-01T09:04:00.000Z"}\n')
        handle.write(
            _line(
                type="assistant",
                uuid="u-0015",
                timestamp="2025-06-01T09:04:05.000Z",
                message={
                    "role": "assistant",
                    "model": "claude-sonnet-4-20250514",
                    "content": [{"type": "text", "text": "Also fixed."}],
                },
            )
        )
    report = await run_import(store, ClaudeCodeReader(root))
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    assert report.events_appended == 2
    assert report.malformed_count == 0  # the old malformed line is not read again
    events = await store.recall(MAIN)
    assert events[: len(first)] == first
    assert [(e.seq, e.turn, e.kind) for e in events[len(first) :]] == [
        (19, 3, "user"),
        (20, 3, "assistant"),
    ]
    assert events[-2].payload["content"] == "and the other test?"
    assert events[-2].payload["source"]["uuid"] == "u-0014"
    info = await store.get_session(MAIN)
    assert info.updated_at == "2025-06-01T09:04:05.000000Z"
    assert info.turns == 3
    source = info.metadata["source"]
    assert {k: source[k] for k in ("project", "cwd", "version", "gitBranch")} == {
        "project": "-home-ana-proj",
        "cwd": "/home/ana/proj",
        "version": "1.0.83",
        "gitBranch": "main",
    }
    assert {k: v for k, v in source.items() if k not in BOOKKEEPING} == {
        k: v for k, v in described.items() if k not in BOOKKEEPING
    }
    third = await run_import(store, ClaudeCodeReader(root))
    assert (third.updated, third.unchanged) == (0, 2)
    assert len(await store.recall(MAIN)) == 20


async def test_rewritten_transcript_is_reported_not_duplicated(
    store: MemoryBackend, fixture_copy
) -> None:  # type: ignore[no-untyped-def]
    root = fixture_copy("claude-code")
    path = root / "-home-ana-proj" / "agent-a1b2c3d4.jsonl"
    await run_import(store, ClaudeCodeReader(root))
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(
        "".join(lines[:2]) + _line(type="user", uuid="x", message={"content": "new"}) * 3
    )
    report = await run_import(store, ClaudeCodeReader(root))
    assert report.not_updated == 1
    assert any("changed in place" in note for note in report.notes)
    assert len(await store.recall(AGENT)) == 4


async def test_round_trip_through_sessions_export(store: MemoryBackend, tmp_path: Path) -> None:
    from memory import open_embedded

    await run_import(store, ClaudeCodeReader(FIXTURES / "claude-code"))
    chunks: list[str] = []
    await write_bundle(store.export_sessions(), chunks.append)
    bundle = parse_bundle("".join(chunks))
    other = await open_embedded(tmp_path / "other.db")
    try:
        await other.import_sessions(bundle)
        again: list[str] = []
        await write_bundle(other.export_sessions(), again.append)
        assert again == chunks
        events = await other.recall(MAIN)
        assert [e.payload for e in events] == [e.payload for e in await store.recall(MAIN)]
    finally:
        await other.close()


def test_not_a_transcript_is_a_clear_error(tmp_path: Path) -> None:
    import pytest

    from runtime.importers.base import SourceFormatError

    bogus = tmp_path / "notes.jsonl"
    bogus.write_text('["just", "a", "list"]\n')
    with pytest.raises(SourceFormatError, match="is not a Claude Code transcript"):
        ClaudeCodeReader(bogus)
    with pytest.raises(SourceFormatError, match="does not exist"):
        ClaudeCodeReader(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceFormatError, match="no Claude Code transcripts"):
        ClaudeCodeReader(tmp_path / "empty")


async def test_unstorable_payload_is_reported_and_the_rest_imports(
    store: MemoryBackend, tmp_path: Path
) -> None:
    path = tmp_path / "proj" / "s1.jsonl"
    path.parent.mkdir()
    good = _line(type="user", uuid="a", timestamp="2025-01-01T00:00:00Z", message={"content": "hi"})
    # Nested deeper than SQLite's JSON functions read: it cannot be stored.
    deep = _line(type="user", uuid="b", message={"content": "x", "deep": [[[[[[[[[[1]]]]]]]]]] * 1})
    deep = deep.replace("[1]", "[" * 500 + "1" + "]" * 500)
    # A lone surrogate (a valid JSON escape, not valid Unicode): kept, with U+FFFD.
    odd = '{"type": "user", "uuid": "d", "message": {"content": "x\\ud800y"}}\n'
    path.write_text(good + deep + good.replace('"a"', '"c"') + odd)
    report = await run_import(store, ClaudeCodeReader(path.parent))
    assert (report.events_added, report.repaired) == (3, 1)
    assert [str(m) for m in report.malformed] == [
        f"{path}:2: not imported: payload is nested deeper than 500 levels"
    ]
    events = await store.recall("claude-code-s1")
    assert [e.payload["content"] for e in events] == ["hi", "hi", "x\ufffdy"]


async def test_a_transcript_that_grew_after_turns_in_turnkeep_is_not_appended(
    store: MemoryBackend, fixture_copy
) -> None:  # type: ignore[no-untyped-def]
    """Turns taken in turnkeep on an imported session, then the source went on too: the
    two went different ways, and appending the source's part would make up an order of
    events that never happened. The session is left as it is, with a note."""
    from memory import EventDraft

    root = fixture_copy("claude-code")
    path = next(root.rglob("7f2c*.jsonl"))
    await run_import(store, ClaudeCodeReader(root))
    await store.store(MAIN, [EventDraft("user", {"role": "user", "content": "a live turn"})])
    live = await store.recall(MAIN)
    with path.open("a", encoding="utf-8") as handle:
        handle.write('her test?"},"uuid":"u-0014","timestamp":"2025-06-01T09:04:00.000Z"}\n')
    for _ in range(2):  # and again: still left alone
        report = await run_import(store, ClaudeCodeReader(root))
        assert (report.updated, report.not_updated, report.unchanged) == (0, 1, 1)
        assert report.events_appended == 0
        assert any("turns taken in turnkeep" in note for note in report.notes)
        assert await store.recall(MAIN) == live
