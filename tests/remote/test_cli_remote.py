"""The command line in remote mode, as a user runs it: ``turnkeep db ...`` and plain yoyo.

A recognisable canary token is used throughout: it must never appear in any output.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from memory import open_remote
from tests.remote.conftest import ROOT, data_home_files, query
from tests.support.migration_ids import ALL_MIGRATIONS
from tests.support.sqld import SqldServer, free_port

CANARY = "canary-7f3a9c"


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=os.getcwd(),
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def turnkeep(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "tui", *args], env)


def yoyo(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run([str(Path(sys.executable).parent / "yoyo"), *args], env)


def assert_never_shown(token: str, *results: subprocess.CompletedProcess[str]) -> None:
    pieces = [token, *(part for part in token.split(".") if len(part) > 8)]
    for result in results:
        for piece in pieces:
            assert piece not in result.stdout
            assert piece not in result.stderr


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("turnkeep: ")
    return lines[0]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A socket whose backlog completes TCP handshakes and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize("kind", ["ws", "http"])
def test_db_status_shows_the_server_and_migrations_but_never_the_token(
    fresh_sqld: SqldServer, kind: str
) -> None:
    token = fresh_sqld.token("rw", canary=CANARY)
    env = {"TURNKEEP_DB__URL": fresh_sqld.url(kind), "TURNKEEP_DB__AUTH_TOKEN": token}

    before = turnkeep("db", "status", "--json", env=env)
    assert before.returncode == 0, before.stderr
    report = json.loads(before.stdout)
    assert report["mode"] == "remote"
    assert report["location"] == fresh_sqld.url(kind)
    assert report["reachable"] is True
    assert isinstance(report["latency_ms"], float)
    assert report["server_version"].startswith("sqld 0.24")
    assert report["engine_version"]  # the SQLite version libSQL reports
    assert (report["applied_migrations"], report["pending_migrations"]) == (
        [],
        list(ALL_MIGRATIONS),
    )

    migrate = turnkeep("db", "migrate", env=env)
    assert migrate.returncode == 0, migrate.stderr
    assert "applied 0001.initial-schema" in migrate.stdout

    after = turnkeep("db", "status", "--json", env=env)
    assert after.returncode == 0, after.stderr
    report = json.loads(after.stdout)
    assert (report["applied_migrations"], report["pending_migrations"]) == (
        list(ALL_MIGRATIONS),
        [],
    )
    assert report["row_counts"] == {"sessions": 0, "conversation_events": 0, "session_state": 0}

    human = turnkeep("db", "status", env=env)
    assert human.returncode == 0, human.stderr
    rows = dict(line.split(None, 1) for line in human.stdout.splitlines() if line[:1].isalpha())
    assert rows["location"] == fresh_sqld.url(kind)
    assert rows["reachable"].startswith("yes (")
    assert rows["server"].startswith("sqld 0.24")
    assert rows["version"].startswith("SQLite ")
    assert rows["migrations"] == f"{len(ALL_MIGRATIONS)} applied, 0 pending"
    assert_never_shown(token, before, migrate, after, human)
    assert data_home_files() == []


def test_db_status_with_a_refused_token_exits_3(sqld: SqldServer) -> None:
    token = f"{CANARY}.not.a-valid-jwt"
    for url in (sqld.ws_url, sqld.http_url):
        result = turnkeep(
            "db",
            "status",
            "--json",
            env={"TURNKEEP_DB__URL": url, "TURNKEEP_DB__AUTH_TOKEN": token},
        )
        assert result.returncode == 3
        # --json still prints its object (reachable false, why), and the error line.
        doc = json.loads(result.stdout)
        assert doc["reachable"] is False
        assert f"the server refused the auth token for {url}" in doc["error"]
        line = one_error_line(
            subprocess.CompletedProcess(result.args, result.returncode, "", result.stderr)
        )
        assert f"the server refused the auth token for {url}" in line
        assert_never_shown(token, result)
    assert data_home_files() == []


def test_db_status_of_an_unreachable_or_silent_server_exits_3(silent_port: int) -> None:
    token = f"{CANARY}-unreachable"
    down = f"ws://127.0.0.1:{free_port()}"
    silent = f"http://127.0.0.1:{silent_port}"
    for url, expected in ((down, f"cannot reach {down}"), (silent, f"{silent} did not answer")):
        result = turnkeep(
            "db",
            "status",
            env={
                "TURNKEEP_DB__URL": url,
                "TURNKEEP_DB__AUTH_TOKEN": token,
                "TURNKEEP_DB__TIMEOUT": "0.5",
            },
        )
        assert result.returncode == 3
        assert expected in one_error_line(result)
        assert_never_shown(token, result)
    assert data_home_files() == []


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TURNKEEP_DB__URL": "libsql://db.example.invalid"}, "an auth token is required"),
        (
            {"TURNKEEP_DB__URL": "ws://db.example.invalid", "TURNKEEP_DB__AUTH_TOKEN": CANARY},
            "refusing to use unencrypted ws://",
        ),
        (
            {"TURNKEEP_DB__URL": "http://10.1.2.3:8080", "TURNKEEP_DB__AUTH_TOKEN": CANARY},
            "refusing to use unencrypted http://",
        ),
        ({"TURSO_DATABASE_URL": f"libsql://user:{CANARY}@db.example.invalid"}, "credentials"),
        ({"TURNKEEP_DB__URL": f"libsql://db.example.invalid?authToken={CANARY}"}, "credentials"),
    ],
    ids=["no-token", "plain-ws", "plain-http", "password-in-url", "token-in-query"],
)
def test_configuration_errors_exit_2_before_connecting(env: dict[str, str], expected: str) -> None:
    # A connection attempt to these hosts would end in exit 3, never 2.
    result = turnkeep("db", "status", env=env)
    assert result.returncode == 2
    line = one_error_line(result)
    assert "Invalid database configuration" in line
    assert expected in line
    assert_never_shown(CANARY, result)
    assert data_home_files() == []


def test_yoyo_apply_from_the_command_line_applies_the_project_migrations(
    fresh_sqld: SqldServer,
) -> None:
    token = fresh_sqld.token("rw", canary=CANARY)
    args = ["apply", "--batch", "--no-config-file", "--database", fresh_sqld.yoyo_url]
    first = yoyo(*args, str(ROOT / "migrations"), env={"LIBSQL_AUTH_TOKEN": token})
    assert first.returncode == 0, first.stderr
    again = yoyo(*args, str(ROOT / "migrations"), env={"TURSO_AUTH_TOKEN": token})
    assert again.returncode == 0, again.stderr
    assert_never_shown(token, first, again)

    url = fresh_sqld.ws_url
    tables = asyncio.run(query(url, token, "SELECT name FROM sqlite_master WHERE type = 'table'"))
    assert {"sessions", "conversation_events", "session_state", "save_points"} <= {
        t[0] for t in tables
    }
    log = asyncio.run(
        query(url, token, "SELECT migration_id, operation FROM _yoyo_log ORDER BY migration_id")
    )
    assert log == [(m, "apply") for m in ALL_MIGRATIONS]

    async def open_it() -> tuple[str, ...]:
        memory = await open_remote(fresh_sqld.http_url, auth_token=token)
        await memory.close()
        assert memory.migration_outcome is not None
        return memory.migration_outcome.applied

    assert asyncio.run(open_it()) == ()  # turnkeep sees yoyo's records as its own


def test_yoyo_with_a_refused_token_fails_fast_and_never_prints_it(fresh_sqld: SqldServer) -> None:
    token = fresh_sqld.keys.foreign_token()
    result = yoyo(
        "apply",
        "--batch",
        "--no-config-file",
        "--database",
        fresh_sqld.yoyo_url,
        str(ROOT / "migrations"),
        env={"LIBSQL_AUTH_TOKEN": token},
    )
    assert result.returncode != 0
    # sqld answers with AUTH_JWT_INVALID, or drops the socket (then asked over HTTP).
    assert re.search(r"AUTH_(JWT_INVALID|FAILED)", result.stderr), result.stderr
    assert_never_shown(token, result)
    names = asyncio.run(
        query(fresh_sqld.ws_url, fresh_sqld.token(), "SELECT name FROM sqlite_master")
    )
    assert names == []
