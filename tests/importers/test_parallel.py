"""The import parsed in a child process (``runtime.importers.parallel``) does exactly what
the in-process import does: same sessions, events, index rows and report, on first,
repeat, grown, rewritten and left-alone imports; a child that dies or a source that
fails surfaces as a typed error, with the sessions before it whole."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from memory import MemoryBackend, open_embedded
from runtime.errors import ImportWorkerError
from runtime.importers.base import SourceFormatError
from runtime.importers.claude_code import ClaudeCodeReader
from runtime.importers.run import PARALLEL_MIN_BYTES, parallel_fits, run_import
from tests.conftest import FrozenClock
from tests.e2e.cli_support import ROOT
from tests.importers.child_readers import DyingReader, FailingSourceReader
from tests.importers.conftest import FIXTURES

MAIN = "claude-code-7f2c1a9e-4b1d-4e0a-9c3e-1f2a3b4c5d6e"
AGENT = "claude-code-agent-a1b2c3d4"


def _snapshot(db: Path) -> dict[str, Any]:
    """Every session's catalog row, events and index rows, read straight from SQL."""
    conn = sqlite3.connect(db)
    try:
        sessions = conn.execute(
            "SELECT id, title, agent, model, created_at, updated_at, metadata, last_seq, "
            "event_count, turn_count, prompt_tokens, completion_tokens FROM sessions "
            "ORDER BY id"
        ).fetchall()
        events = conn.execute(
            "SELECT session_id, seq, turn, kind, payload, created_at FROM conversation_events "
            "ORDER BY session_id, seq"
        ).fetchall()
        index = conn.execute(
            "SELECT e.session_id, e.seq, s.mine, s.reply, s.tool FROM search_events s "
            "JOIN conversation_events e ON e.id = s.rowid ORDER BY e.session_id, e.seq"
        ).fetchall()
    finally:
        conn.close()
    return {"sessions": sessions, "events": events, "index": index}


async def _both(
    tmp_path: Path, clock: FrozenClock, src: Path, steps: list[Any]
) -> list[dict[str, Any]]:
    """Run the same steps (each changes ``src`` or not, then imports it) into two
    databases, one parsing in-process and one in a child; return both outcomes."""
    outcomes = []
    for parallel in (False, True):
        db = tmp_path / f"{'child' if parallel else 'here'}.db"
        work = tmp_path / f"src-{parallel}"
        _copy(src, work)
        memory = await open_embedded(db, clock=clock)
        reports = []
        try:
            for step in steps:
                if step is not None:
                    await step(memory, work)
                report = await run_import(memory, ClaudeCodeReader(work), parallel=parallel)
                reports.append(_portable(report.as_dict(), work))
        finally:
            await memory.close()
        outcomes.append({"reports": reports, "db": _portable(_snapshot(db), work)})
    return outcomes


def _copy(src: Path, target: Path) -> None:
    for path in sorted(src.rglob("*")):
        dest = target / path.relative_to(src)
        if path.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(path.read_bytes())


def _portable(value: Any, root: Path) -> Any:
    """``value`` with the copy's own directory left out (each run reads its own copy)."""
    return json.loads(json.dumps(value).replace(str(root), "SRC"))


async def _grow(memory: MemoryBackend, root: Path) -> None:
    path = next(root.rglob("7f2c*.jsonl"))
    with path.open("a", encoding="utf-8") as handle:
        handle.write('her test?"},"uuid":"u-0014","timestamp":"2025-06-01T09:04:00.000Z"}\n')
        handle.write(
            json.dumps(
                {
                    "type": "assistant",
                    "uuid": "u-0015",
                    "timestamp": "2025-06-01T09:04:05.000Z",
                    "message": {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
                }
            )
            + "\n"
        )


async def _rewrite(memory: MemoryBackend, root: Path) -> None:
    path = next(root.rglob("agent-*.jsonl"))
    path.write_text(path.read_text()[:-40] + "\n")


async def test_first_repeat_grown_and_rewritten_imports_match(
    tmp_path: Path, clock: FrozenClock
) -> None:
    here, child = await _both(
        tmp_path, clock, FIXTURES / "claude-code", [None, None, _grow, _rewrite]
    )
    assert child == here
    first, again, grown, rewritten = child["reports"]
    assert (first["sessions"]["added"], first["events"]["added"]) == (2, 22)
    assert [(m["line"], m["reason"][:14]) for m in first["malformed"]["records"]] == [
        (6, "not valid JSON"),
        (20, "truncated last"),
    ]
    assert first["ignored_record_types"] == {"file-history-snapshot": 1}
    assert first["unknown_record_types"] == {"future-record-kind": 1}
    assert again["sessions"]["unchanged"] == 2
    assert (grown["sessions"]["updated"], grown["events"]["appended"]) == (1, 2)
    assert rewritten["sessions"]["not_updated"] == 1
    assert len(child["db"]["events"]) == 24
    assert len(child["db"]["index"]) == 24


async def test_the_same_session_twice_and_a_session_left_alone_match(
    tmp_path: Path, clock: FrozenClock
) -> None:
    src = tmp_path / "src"
    _copy(FIXTURES / "claude-code", src / "a")
    # The same transcript name in another project is the same session id: the second
    # is read once the first is written (its lookup is made then, not ahead).
    _copy(FIXTURES / "claude-code", src / "b")

    async def foreign(memory: MemoryBackend, root: Path) -> None:
        # A session of that id that was not imported from Claude Code: left alone.
        await memory.create_session(AGENT, title="mine")

    here, child = await _both(tmp_path, clock, src, [foreign])
    assert child == here
    report = child["reports"][0]
    assert report["sessions"]["added"] == 1
    assert report["sessions"]["unchanged"] == 1  # the second copy of the main session
    assert report["sessions"]["not_updated"] == 2  # the agent, twice
    assert any("left alone" in note for note in report["notes"])


async def test_a_dry_run_in_a_child_writes_nothing(store: MemoryBackend) -> None:
    report = await run_import(
        store, ClaudeCodeReader(FIXTURES / "claude-code"), dry_run=True, parallel=True
    )
    assert (report.added, report.events_added) == (2, 22)
    assert await store.count_sessions() == 0


@pytest.mark.parametrize(("how", "status"), [("exit", "exit code 3"), ("kill", "signal 9")])
async def test_a_child_that_dies_is_a_typed_error_and_what_it_sent_is_whole(
    store: MemoryBackend, how: str, status: str
) -> None:
    with pytest.raises(ImportWorkerError, match=status) as caught:
        await run_import(store, DyingReader(FIXTURES / "claude-code", how), parallel=True)
    assert "again" in caught.value.hint
    # The first transcript was parsed and sent before the child died: written whole.
    assert len(await store.recall(MAIN)) == 18
    assert (await store.get_session(MAIN)).last_seq == 18
    assert await store.find_session(AGENT) is None
    again = await run_import(store, ClaudeCodeReader(FIXTURES / "claude-code"), parallel=True)
    assert (again.added, again.unchanged) == (1, 1)


@pytest.mark.parametrize("parallel", [False, True])
async def test_a_source_failing_after_its_first_unit_raises_its_own_error(
    store: MemoryBackend, parallel: bool
) -> None:
    with pytest.raises(SourceFormatError, match="vanished") as caught:
        await run_import(store, FailingSourceReader(FIXTURES / "claude-code"), parallel=parallel)
    assert caught.value.hint == "Look again."
    assert len(await store.recall(MAIN)) == 18  # the unit before it is imported


def test_a_reader_that_cannot_run_in_a_child_is_refused(tmp_path: Path) -> None:
    from runtime.importers.chatgpt import ChatGPTReader

    reader = ChatGPTReader(FIXTURES / "chatgpt" / "conversations.json")
    assert not parallel_fits(reader, cpus=8)

    async def go() -> None:
        memory = await open_embedded(tmp_path / "x.db")
        try:
            await run_import(memory, reader, parallel=True)
        finally:
            await memory.close()

    import asyncio

    with pytest.raises(ValueError, match="child process"):
        asyncio.run(go())


def test_a_large_history_goes_to_a_child_only_with_two_cpus(tmp_path: Path) -> None:
    project = tmp_path / "big" / "-proj"
    project.mkdir(parents=True)
    with (project / "s.jsonl").open("wb") as handle:
        handle.truncate(PARALLEL_MIN_BYTES)  # (sparse: only its size counts here)
    (tmp_path / "small" / "-proj").mkdir(parents=True)
    (tmp_path / "small" / "-proj" / "s.jsonl").write_text("{}\n")
    big = ClaudeCodeReader(tmp_path / "big")
    assert parallel_fits(big, cpus=2)
    assert not parallel_fits(big, cpus=1)
    assert not parallel_fits(ClaudeCodeReader(tmp_path / "small"), cpus=2)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_one_usable_cpu_keeps_the_parsing_in_process(tmp_path: Path) -> None:
    project = tmp_path / "-proj"
    project.mkdir()
    with (project / "s.jsonl").open("wb") as handle:
        handle.truncate(PARALLEL_MIN_BYTES)
    code = (
        "import os, sys; from pathlib import Path\n"
        "from runtime.importers.claude_code import ClaudeCodeReader\n"
        "from runtime.importers.run import parallel_fits, usable_cpus\n"
        "os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})\n"
        "print(usable_cpus(), parallel_fits(ClaudeCodeReader(Path(sys.argv[1]))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["1", "False"]


async def test_no_parsing_process_parses_in_process_and_says_so(
    store: MemoryBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No interpreter at the path the child would be started with.
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    report = await run_import(store, ClaudeCodeReader(FIXTURES / "claude-code"), parallel=True)
    assert (report.added, report.events_added) == (2, 22)
    assert [n for n in report.notes if n.startswith("parsed in this process")] == [
        f"parsed in this process: no parsing process (FileNotFoundError: [Errno 2] No such "
        f"file or directory: '{tmp_path / 'no-such-python'}')"
    ]


@pytest.mark.parametrize("parallel", [False, True])
async def test_progress_reaches_the_total_from_either_path(
    store: MemoryBackend, parallel: bool
) -> None:
    from runtime.importers.run import ImportReport

    reader = ClaudeCodeReader(FIXTURES / "claude-code")
    steps: list[int] = []
    report = ImportReport(reader.tool, on_progress=steps.append)
    await run_import(store, reader, report=report, parallel=parallel)
    assert sum(steps) == reader.total
    assert all(step > 0 for step in steps)


async def _grow_with_lone_surrogate(memory: MemoryBackend, root: Path) -> None:
    """A record whose text holds a JSON lone-surrogate escape (not valid Unicode)."""
    path = next(root.rglob("7f2c*.jsonl"))
    with path.open("a", encoding="utf-8") as handle:
        handle.write('her test?"},"uuid":"u-0014","timestamp":"2025-06-01T09:04:00.000Z"}\n')
        handle.write(
            '{"type":"user","uuid":"u-0015","timestamp":"2025-06-01T09:05:00.000Z",'
            '"message":{"role":"user","content":"odd \\udc9b byte"}}\n'
        )


async def test_text_that_is_not_valid_unicode_is_kept_repaired_on_either_path(
    tmp_path: Path, clock: FrozenClock
) -> None:
    here, child = await _both(
        tmp_path, clock, FIXTURES / "claude-code", [None, _grow_with_lone_surrogate]
    )
    assert child == here
    _, grown = child["reports"]
    assert (grown["events"]["appended"], grown["repaired_records"]) == (2, 1)
    assert grown["malformed"]["count"] == 0
    main = [row for row in child["db"]["events"] if row[0] == MAIN]
    assert json.loads(main[-1][4])["content"] == "odd \ufffd byte"
