"""Ctrl-C during ``turnkeep import`` of a history large enough to be parsed in a child
process: turnkeep exits 130, its parsing process is gone, every session is whole or a
prefix with its resume point, and importing again completes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runtime.importers.run import PARALLEL_MIN_BYTES
from tests.e2e.cli_support import ROOT
from tests.e2e.test_ask import FOREGROUND
from tests.e2e.test_import_kill9 import SESSIONS, _committed_sessions, _contents, _history


def _parsers(db: Path) -> list[int]:
    """Processes parsing an import into ``db`` (found by the environment they inherit)."""
    wanted = f"TURNKEEP_DB__PATH={db}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"runtime.importers.parse_child" in cmdline and wanted in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def _import(db: Path, src: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", FOREGROUND, "import", "claude-code", str(src), "--json"],
        cwd=ROOT,
        env={**os.environ, "TURNKEEP_DB__PATH": str(db)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_ctrl_c_stops_the_parsing_process_and_leaves_whole_sessions(tmp_path: Path) -> None:
    src = _history(tmp_path / "src")
    assert sum(p.stat().st_size for p in src.rglob("*.jsonl")) >= PARALLEL_MIN_BYTES
    reference = tmp_path / "reference.db"
    done = _import(reference, src)
    _, stderr = done.communicate(timeout=300)
    assert done.returncode == 0, stderr.decode()
    whole = _contents(reference)

    db = tmp_path / "interrupted.db"
    proc = _import(db, src)
    try:
        deadline = time.monotonic() + 120
        parsers: list[int] = []
        while proc.poll() is None:
            parsers = parsers or _parsers(db)
            if parsers and _committed_sessions(db) >= 1:
                break
            assert time.monotonic() < deadline, "the import committed nothing"
            time.sleep(0.005)
        assert parsers, "the history was not parsed in a child process"
        running = proc.poll() is None
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if running:  # (a far faster machine may have finished first)
        assert proc.returncode == 130, stderr.decode()
        assert b"interrupted" in stderr
    deadline = time.monotonic() + 10
    while _parsers(db):
        assert time.monotonic() < deadline, "the parsing process outlived turnkeep"
        time.sleep(0.05)
    for sid, got in _contents(db).items():
        n = len(got["events"])
        assert got["events"] == whole[sid]["events"][:n]
        assert got["counters"] == (n, n)
        assert got["indexed"] == n
    again = _import(db, src)
    _, stderr = again.communicate(timeout=300)
    assert again.returncode == 0, stderr.decode()
    assert _contents(db) == whole
    assert len(whole) == SESSIONS
