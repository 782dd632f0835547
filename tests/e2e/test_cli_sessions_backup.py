"""``turnkeep db backup PATH``: a consistent embedded copy while another process writes,
and a JSON export of a remote database that restores into an embedded one."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.cli_support import ROOT, SEEDED, Target, make_target
from tests.support.sqld import free_port

#: Generous bound on waiting for the writer to get going (not a timing assertion).
WRITER_START_DEADLINE = 120.0


@pytest.fixture
def embedded(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Target:
    return make_target("embedded", request, tmp_path, monkeypatch)


def _lines(path: Path) -> int:
    return path.read_text().count("\n")


def _wait_for_saves(writer: subprocess.Popen[bytes], log: Path, count: int) -> None:
    deadline = time.monotonic() + WRITER_START_DEADLINE
    while _lines(log) < count:
        assert writer.poll() is None, "the writer process died"
        assert time.monotonic() < deadline, "the writer saved nothing"
        time.sleep(0.05)


def _check_copy(path: Path) -> int:
    """The copy is a valid database with whole save points; returns the writer's events."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        seqs = [r[0] for r in conn.execute(
            "SELECT seq FROM conversation_events WHERE session_id = 'busy' ORDER BY seq"
        )]  # fmt: skip
        last_seq, count = conn.execute(
            "SELECT last_seq, event_count FROM sessions WHERE id = 'busy'"
        ).fetchone()
        ids = {r[0] for r in conn.execute("SELECT id FROM sessions")}
    finally:
        conn.close()
    assert seqs == list(range(1, len(seqs) + 1))  # contiguous
    assert len(seqs) % 3 == 0  # only whole save points (the writer stores 3 at a time)
    assert (last_seq, count) == (len(seqs), len(seqs))  # counters agree with the rows
    assert set(SEEDED) <= ids
    return len(seqs)


def test_backup_while_another_process_keeps_writing_is_valid(embedded: Target, tmp_path: Path):
    embedded.seed()
    assert embedded.db_path is not None
    log = tmp_path / "writer.log"
    with open(log, "wb") as out:
        writer = subprocess.Popen(
            [sys.executable, "-m", "tests.support.writer", str(embedded.db_path), "busy",
             "100000000", "3"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.PIPE,
        )  # fmt: skip
    try:
        _wait_for_saves(writer, log, 5)
        copied: list[int] = []
        for i in range(3):
            backup = tmp_path / f"backup-{i}.db"
            done = embedded.run("db", "backup", str(backup))
            assert done.returncode == 0, done.stderr
            assert done.stdout.startswith(f"backed up {embedded.db_path} to {backup}")
            assert "integrity ok" in done.stdout
            assert writer.poll() is None  # it kept writing through the backup
            assert backup.stat().st_mode & 0o777 == 0o600
            copied.append(_check_copy(backup))
            _wait_for_saves(writer, log, _lines(log) + 3)
    finally:
        writer.terminate()
        _, err = writer.communicate(timeout=60)
    assert writer.returncode in (0, -15), err
    assert all(n >= 15 for n in copied)
    assert list(tmp_path.glob(".backup-*")) == []  # no temporary file left behind
    # turnkeep itself opens the copy and finds every session.
    env = {**os.environ, "TURNKEEP_DB__PATH": str(tmp_path / "backup-2.db")}
    done = subprocess.run(
        [sys.executable, "-m", "tui", "sessions", "list", "--all", "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert {"busy", *SEEDED} <= {item["id"] for item in json.loads(done.stdout)}


def test_backup_refuses_what_it_must_not_overwrite(embedded: Target, tmp_path: Path):
    embedded.seed()
    existing = tmp_path / "existing.db"
    existing.write_bytes(b"precious")
    done = embedded.run("db", "backup", str(existing))
    assert done.returncode == 2 and "already exists" in done.stderr and "--force" in done.stderr
    assert existing.read_bytes() == b"precious"
    done = embedded.run("db", "backup", str(existing), "--force")
    assert done.returncode == 0, done.stderr
    assert existing.read_bytes().startswith(b"SQLite format 3\x00")
    assert embedded.db_path is not None
    before = embedded.db_path.read_bytes()
    done = embedded.run("db", "backup", str(embedded.db_path), "--force")
    assert done.returncode == 2 and "is the database itself" in done.stderr
    assert embedded.db_path.read_bytes() == before
    done = embedded.run("db", "backup", str(tmp_path / "no-such-dir" / "b.db"))
    assert done.returncode == 2 and "does not exist" in done.stderr
    env = {"TURNKEEP_MEMORY__ENABLED": "false"}
    off = subprocess.run(
        [sys.executable, "-m", "tui", "db", "backup", str(tmp_path / "off2.db")],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert off.returncode == 2 and "memory is disabled" in off.stderr
    assert not (tmp_path / "off2.db").exists()


@pytest.mark.parametrize("kind", ["remote-ws", "remote-http"])
def test_remote_backup_is_a_json_export_that_restores_into_an_embedded_file(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    remote = make_target(kind, request, tmp_path, monkeypatch)
    remote.seed()
    backup = tmp_path / "remote-backup.json"
    done = remote.run("db", "backup", str(backup))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"exported 3 sessions from {remote.url} to {backup}\n"
    assert remote.token is not None and remote.token not in done.stdout + done.stderr
    assert remote.token not in backup.read_text()
    assert backup.read_text() == remote.export_all()
    # Restore into a local file and export it again: the same bytes.
    local = {k: v for k, v in os.environ.items() if not k.startswith("TURNKEEP_DB__")}
    local["TURNKEEP_DB__PATH"] = str(tmp_path / "restored.db")
    for argv in (["sessions", "import", str(backup)], ["sessions", "export", "--all"]):
        restored = subprocess.run(
            [sys.executable, "-m", "tui", *argv],
            env=local, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert restored.returncode == 0, restored.stderr
    assert restored.stdout == backup.read_text()


def test_an_unreachable_server_is_exit_3_and_never_prints_the_token(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    remote = make_target("remote-ws", request, tmp_path, monkeypatch)
    assert remote.token is not None
    remote.env["TURNKEEP_DB__URL"] = f"ws://127.0.0.1:{free_port()}"
    for argv in (["sessions", "list"], ["sessions", "export", "--all"], ["db", "backup", "x"]):
        done = remote.run(*argv)
        assert done.returncode == 3, (argv, done.stderr)
        assert done.stderr.count("\n") == 1 and "127.0.0.1" in done.stderr
        assert remote.token not in done.stdout + done.stderr
    assert not (tmp_path / "work" / "x").exists()


def test_export_never_replaces_the_database_itself(embedded: Target, tmp_path: Path):
    """Review finding: `sessions export -o DB --force` wrote JSON over the database."""
    embedded.seed()
    assert embedded.db_path is not None
    before = embedded.db_path.read_bytes()
    link = tmp_path / "link.db"
    link.symlink_to(embedded.db_path)
    for target in (
        embedded.db_path,
        link,
        embedded.db_path.parent / ".." / embedded.db_path.parent.name / embedded.db_path.name,
        Path(f"{embedded.db_path}-wal"),
    ):
        done = embedded.run("sessions", "export", "--all", "-o", str(target), "--force")
        assert done.returncode == 2, (target, done.stderr)
        assert "is the database itself" in done.stderr
    assert embedded.db_path.read_bytes() == before
    done = embedded.run("sessions", "list", "--all", "--json")
    assert done.returncode == 0 and set(SEEDED) <= {s["id"] for s in json.loads(done.stdout)}
