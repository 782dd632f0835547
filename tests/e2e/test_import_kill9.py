"""``turnkeep import`` killed with SIGKILL mid-import: every session in the file is whole
or a prefix with its resume point (never half a batch), and importing again completes it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cli_support import ROOT

#: Sessions in the generated history, and tool results of a session (each ~100 KB):
#: about 3 MB a session (several in one transaction), the first one 9 MB (several
#: transactions, each leaving a resume point).
SESSIONS = 12
RESULTS = 30


def _history(root: Path) -> Path:
    """A Claude Code projects directory big enough that an import is still running when
    its first sessions are committed."""
    project = root / "-home-ana-proj"
    project.mkdir(parents=True)
    body = "line of tool output: tests/test_x.py::test_y PASSED [ 42%]\n" * 1800
    for s in range(SESSIONS):
        sid = f"00000000-0000-4000-8000-{s:012d}"
        lines: list[str] = []
        for n in range(RESULTS * 3 if s == 0 else RESULTS):
            at = f"2025-06-01T{9 + n // 60:02d}:{n % 60:02d}:00.000Z"
            base = {"sessionId": sid, "timestamp": at}
            lines += [
                json.dumps({**base, "type": "user", "uuid": f"u{n}", "message": {
                    "role": "user", "content": f"step {n} of session {s}"}}),
                json.dumps({**base, "type": "assistant", "uuid": f"a{n}", "message": {
                    "role": "assistant", "content": [
                        {"type": "tool_use", "id": f"t{n}", "name": "Bash", "input": {}}]}}),
                json.dumps({**base, "type": "user", "uuid": f"r{n}", "message": {
                    "role": "user", "content": [
                        {"type": "tool_result", "tool_use_id": f"t{n}", "content": body}]}}),
            ]  # fmt: skip
        (project / f"{sid}.jsonl").write_text("\n".join(lines) + "\n")
    return root


def _import(db: Path, src: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tui", "import", "claude-code", str(src), "--json"],
        cwd=ROOT,
        env={**os.environ, "TURNKEEP_DB__PATH": str(db)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _committed_sessions(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute("SELECT count(*) FROM sessions").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0  # not created or migrated yet


def _contents(db: Path) -> dict[str, Any]:
    """Per session: its counters, its events and its index rows, read straight from SQL."""
    conn = sqlite3.connect(db)
    try:
        out: dict[str, Any] = {}
        for sid, last_seq, count, meta in conn.execute(
            "SELECT id, last_seq, event_count, metadata FROM sessions ORDER BY id"
        ):
            events = conn.execute(
                "SELECT seq, kind, payload FROM conversation_events WHERE session_id = ? "
                "ORDER BY seq",
                (sid,),
            ).fetchall()
            indexed = conn.execute(
                "SELECT count(*) FROM search_events WHERE rowid IN "
                "(SELECT id FROM conversation_events WHERE session_id = ?)",
                (sid,),
            ).fetchone()[0]
            out[sid] = {
                "counters": (last_seq, count),
                "events": events,
                "indexed": indexed,
                "records": json.loads(meta)["source"]["records"],
            }
        return out
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [1, 6])
def test_a_killed_import_leaves_whole_sessions_or_prefixes_and_resumes(
    tmp_path: Path, kill_after: int
) -> None:
    src = _history(tmp_path / "src")
    reference = tmp_path / "reference.db"
    done = _import(reference, src)
    assert done.wait(timeout=300) == 0
    whole = _contents(reference)
    assert len(whole) == SESSIONS

    db = tmp_path / "killed.db"
    proc = _import(db, src)
    try:
        # Killed as soon as ``kill_after`` sessions are committed (two moments of an
        # import: the first, a prefix of the big session; later, several sessions of a
        # batch). It is still running then unless this machine is far faster than expected.
        deadline = time.monotonic() + 120
        while _committed_sessions(db) < kill_after and proc.poll() is None:
            assert time.monotonic() < deadline, "the import committed nothing"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    crashed = _contents(db)
    assert len(crashed) >= kill_after  # (then killed, or finished first on a fast machine)
    for sid, got in crashed.items():
        want = whole[sid]
        n = len(got["events"])
        # Whole or a prefix: its events are the first ones of the whole import, its
        # counters and index rows agree with them (nothing of a batch half-written).
        assert got["events"] == want["events"][:n]
        assert got["counters"] == (n, n)
        assert got["indexed"] == n
        assert got["records"] <= want["records"]
        if n == len(want["events"]):
            assert got["records"] == want["records"]

    again = _import(db, src)
    assert again.wait(timeout=300) == 0
    assert _contents(db) == whole
