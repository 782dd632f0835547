"""``turnkeep db status`` / ``db migrate`` driven as a user would: a subprocess."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from memory.schema.migrate import load_migrations

#: Every migration of the project, in order.
ALL_MIGRATIONS = [m.id for m in load_migrations()]

ROOT = Path(__file__).resolve().parents[2]


def turnkeep(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        cwd=os.getcwd(),
        env={**full_env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_status_on_a_fresh_machine_reports_pending_then_migrate_applies(
    isolated_env: Path,
) -> None:
    status = turnkeep("db", "status", "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert set(report) >= {
        "mode",
        "location",
        "reachable",
        "latency_ms",
        "engine_version",
        "applied_migrations",
        "pending_migrations",
        "row_counts",
        "file_size",
        "wal_size",
    }
    assert report["mode"] == "embedded"
    assert report["location"] == str(isolated_env / "data" / "turnkeep" / "turnkeep.db")
    # Issue 11: status creates nothing; it says what the first use will do.
    assert (report["reachable"], report["exists"]) == (False, False)
    assert report["pending_migrations"] == ALL_MIGRATIONS
    assert not (isolated_env / "data" / "turnkeep").exists()

    migrate = turnkeep("db", "migrate")
    assert migrate.returncode == 0, migrate.stderr
    assert "\n".join(f"applied {m}" for m in ALL_MIGRATIONS) in migrate.stdout
    again = turnkeep("db", "migrate")
    assert again.returncode == 0
    assert "nothing to apply" in again.stdout

    human = turnkeep("db", "status")
    assert human.returncode == 0
    assert "0 pending" in human.stdout and "reachable     yes" in human.stdout
    assert "journal mode  wal" in human.stdout
    report = json.loads(turnkeep("db", "status", "--json").stdout)
    assert (report["reachable"], report["exists"]) == (True, True)
    assert report["applied_migrations"] == ALL_MIGRATIONS
    assert report["row_counts"] == {"sessions": 0, "conversation_events": 0, "session_state": 0}


def test_not_a_database_exits_3_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("my notes\n")
    result = turnkeep("db", "status", env={"TURNKEEP_DB__PATH": str(target)})
    assert result.returncode == 3
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert "not a SQLite database" in result.stderr
    assert target.read_text() == "my notes\n"


def test_missing_directory_exits_3(tmp_path: Path) -> None:
    result = turnkeep("db", "migrate", env={"TURNKEEP_DB__PATH": str(tmp_path / "a" / "b.db")})
    assert result.returncode == 3
    assert "does not exist" in result.stderr


def test_invalid_setting_and_usage_errors_exit_2() -> None:
    bad = turnkeep("db", "status", env={"TURNKEEP_DB__TIMEOUT": "soon"})
    assert bad.returncode == 2
    assert "TURNKEEP_DB__TIMEOUT" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    usage = turnkeep("db", "frobnicate")
    assert usage.returncode == 2
    assert "Traceback" not in usage.stderr


def test_failed_migration_exits_4_names_it_and_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    assert turnkeep("db", "migrate", env={"TURNKEEP_DB__PATH": str(db)}).returncode == 0
    with sqlite3.connect(db) as conn:  # forget that 0001 was applied: re-applying must fail
        conn.execute("DELETE FROM _yoyo_migration")
    conn.close()
    before = sorted(sqlite3.connect(db).iterdump())
    result = turnkeep("db", "migrate", env={"TURNKEEP_DB__PATH": str(db)})
    assert result.returncode == 4
    assert "0001.initial-schema" in result.stderr
    assert "Traceback" not in result.stderr
    after = [line for line in sorted(sqlite3.connect(db).iterdump()) if "yoyo_lock" not in line]
    assert after == [line for line in before if "yoyo_lock" not in line]


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("x")
    result = turnkeep("--debug", "db", "status", env={"TURNKEEP_DB__PATH": str(target)})
    assert result.returncode != 0
    assert "Traceback" in result.stderr


def test_disabled_memory_status(tmp_path: Path) -> None:
    result = turnkeep("db", "status", "--json", env={"TURNKEEP_MEMORY__ENABLED": "0"})
    assert result.returncode == 0
    assert json.loads(result.stdout)["mode"] == "disabled"


def test_help_has_examples() -> None:
    for args in (
        ("--help",),
        ("db", "--help"),
        ("db", "status", "--help"),
        ("db", "migrate", "--help"),
    ):
        result = turnkeep(*args)
        assert result.returncode == 0
        assert "Example" in result.stdout
