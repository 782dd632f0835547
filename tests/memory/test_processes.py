"""Persistence across processes: restart, and two writers on one file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from memory import open_embedded

ROOT = Path(__file__).resolve().parents[2]


def run_writer(db: Path, session: str, save_points: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.writer", str(db), session, str(save_points)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_session_written_by_one_process_is_restored_by_another(db_path: Path) -> None:
    writer = run_writer(db_path, "restart", 20)
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    reported = [seq for line in out.splitlines() for seq in json.loads(line)]
    assert reported == list(range(1, 61))
    memory = await open_embedded(db_path)  # a fresh process-level open, no shared state
    try:
        events = await memory.recall("restart")
    finally:
        await memory.close()
    assert [e.seq for e in events] == list(range(1, 61))
    assert events[0].payload["content"].endswith("turn 1 event 0")
    assert events[-1].payload["content"].endswith("turn 20 event 2")


async def test_two_processes_storing_into_one_session_never_duplicate_or_skip(
    db_path: Path,
) -> None:
    memory = await open_embedded(db_path)  # migrate first so both writers start equal
    await memory.close()
    writers = [run_writer(db_path, "shared", 150) for _ in range(2)]
    told: list[list[int]] = []
    for writer in writers:
        out, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
        told.append([seq for line in out.splitlines() for seq in json.loads(line)])
    assert len(told[0]) == len(told[1]) == 450
    assert not set(told[0]) & set(told[1])
    memory = await open_embedded(db_path)
    try:
        events = await memory.recall("shared")
        info = await memory.get_session("shared")
    finally:
        await memory.close()
    seqs = [e.seq for e in events]
    assert seqs == list(range(1, 901))
    assert sorted(told[0] + told[1]) == seqs
    assert (info.events, info.last_seq) == (900, 900)
    # Each process's save points are contiguous runs: a batch is one transaction.
    for seq_list in told:
        for i in range(0, len(seq_list), 3):
            assert seq_list[i : i + 3] == list(range(seq_list[i], seq_list[i] + 3))
