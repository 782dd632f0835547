"""SIGKILL of ``turnkeep ask`` mid-turn: completed turns intact, no gap, no partial tool pair.

The kill points are reached deterministically: the scripted provider hangs mid-turn, and
the test kills only once the process has shown where it is (a saved event printed by
``--json``, or streamed text).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from memory import Event, open_embedded

HANG_AFTER_A_SAVED_TOOL_PAIR = [
    [
        {
            "text": "Let me add.",
            "tool_calls": [{"name": "calculator", "arguments": {"expression": "40+2"}}],
        },
        {"chunks": ["The answer ", "is 42"], "hang": True},
    ]
]
HANG_WHILE_STREAMING = [[{"chunks": ["Thinking ", "hard"], "hang": True}]]


def read_session(db: Path, session_id: str) -> tuple[list[Event], list[str]]:
    async def read() -> tuple[list[Event], list[str]]:
        memory = await open_embedded(db)
        try:
            return await memory.recall(session_id), await memory.integrity_check()
        finally:
            await memory.close()

    return asyncio.run(read())


def ask(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", "ask", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=120,
    )


def start_ask(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tui", "ask", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )


def read_until(process: subprocess.Popen[bytes], marker: bytes) -> bytes:
    assert process.stdout is not None
    seen = b""
    while marker not in seen:
        chunk = process.stdout.read1(4096)
        assert chunk, f"ask exited before {marker!r} appeared: {seen!r}"
        seen += chunk
    return seen


def kill(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL


def assert_well_formed(events: list[Event]) -> None:
    assert [e.seq for e in events] == list(range(1, len(events) + 1)), "seq has a gap"
    calls = [e.payload["call_id"] for e in events if e.kind == "tool_call"]
    results = [e.payload["call_id"] for e in events if e.kind == "tool_result"]
    assert calls == results, "a tool call without its result"


def test_sigkill_mid_turn_keeps_every_saved_turn_intact(db: Path, tmp_path: Path) -> None:
    first = ask("--provider", "scripted", "one")
    assert first.returncode == 0, first.stderr
    session = next(
        line.split(": ", 1)[1] for line in first.stderr.splitlines() if line.startswith("session: ")
    )
    second = ask("--session", session, "two")
    assert second.returncode == 0, second.stderr
    saved_before, _ = read_session(db, session)
    assert len(saved_before) == 14

    # Killed after a tool pair was saved (the --json line is printed once it committed).
    script = tmp_path / "pair.json"
    script.write_text(json.dumps(HANG_AFTER_A_SAVED_TOOL_PAIR))
    process = start_ask("--session", session, "--json", "--script", str(script), "three")
    read_until(process, b'"kind": "tool_result"')
    kill(process)
    events, integrity = read_session(db, session)
    assert integrity == ["ok"]
    assert_well_formed(events)
    assert [(e.seq, e.kind, e.payload_json) for e in events[:14]] == [
        (e.seq, e.kind, e.payload_json) for e in saved_before
    ]
    assert [(e.turn, e.kind) for e in events[14:]] == [
        (3, "user"),
        (3, "assistant"),
        (3, "tool_call"),
        (3, "tool_result"),
    ]

    # Killed while streaming, before the model's first save point: the question was saved
    # the moment it was sent, and is kept (the answer being written is lost).
    script = tmp_path / "stream.json"
    script.write_text(json.dumps(HANG_WHILE_STREAMING))
    process = start_ask("--session", session, "--script", str(script), "four")
    read_until(process, b"Thinking hard")
    kill(process)
    after, integrity = read_session(db, session)
    assert integrity == ["ok"]
    assert [e.payload_json for e in after[:18]] == [e.payload_json for e in events]
    # Opening the session again marked turn 3 (whose process was killed) interrupted.
    assert [(e.turn, e.kind) for e in after[18:]] == [(3, "interrupted"), (4, "user")]
    assert after[19].payload == {"role": "user", "content": "four"}

    # The next run sees that turn's process is gone and marks the turn interrupted; the
    # session goes on with no gap in seq.
    fifth = ask("--session", session, "five")
    assert fifth.returncode == 0, fifth.stderr
    final, integrity = read_session(db, session)
    assert integrity == ["ok"]
    assert_well_formed(final)
    assert len(final) == 18 + 3 + 7
    assert [(e.turn, e.kind) for e in final[18:21]] == [
        (3, "interrupted"),
        (4, "user"),
        (4, "interrupted"),
    ]
    assert final[21].payload == {"role": "user", "content": "five"}
    assert final[21].turn == 5
