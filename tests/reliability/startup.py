"""Scenario 4: start-up races and migrators killed while holding yoyo's lock.

* Several processes open a fresh database at the same moment (released by a go file),
  on an embedded file and on a fresh sqld: each migration is applied exactly once (one
  ``apply`` in yoyo's log, one process reports it), and every process opens cleanly.
* A migrator is killed with SIGKILL while it holds yoyo's lock (in a slow, test-only
  migration): the next ``turnkeep db migrate`` breaks the stale lock, says so, and
  finishes; the killed migration left nothing behind; the data is intact. On sqld,
  where a lock's owner cannot be checked, the lock is broken once it is old enough
  (its age is moved back to simulate the wait).
* A migrator killed before yoyo's own tables existed (only its lock row is left): the
  next start breaks that lock too, rather than waiting for it and failing.
* ``turnkeep db migrate`` on a fresh file killed at random moments around the lock:
  the next start applies what is missing, each migration once.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import libsql_client

from memory.schema.migrate import migrations_dir
from memory.schema.yoyo_sqlite import sqlite_backend
from tests.reliability.checks import integrity
from tests.reliability.procs import Running, child_env, run_cli, start
from tests.reliability.report import Outcome, Scale
from tests.support.sqld import JwtKeys, SqldServer

__all__ = ["run"]

#: Above the default pid_max (2**22): no process can have it.
DEAD_PID = 2**22 + 1

#: A test-only migration slow enough to be killed in the middle (a few seconds).
SLOW_MIGRATION = (
    "CREATE TABLE slow_partial (n INTEGER);\n"
    "CREATE TABLE slow_marker AS WITH RECURSIVE c(x) AS "
    "(SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000000) SELECT count(*) AS n FROM c;\n"
)


def project_ids() -> list[str]:
    return sorted(
        p.name[: -len(".sql")] for p in migrations_dir().glob("*.sql") if ".rollback" not in p.name
    )


def _messages(running: Running) -> list[dict[str, Any]]:
    out = []
    for line in running.out_lines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def _race(
    env: dict[str, str], workdir: Path, label: str, count: int, outcome: Outcome
) -> Counter[str]:
    """Start ``count`` openers at once; return how often each migration was reported applied."""
    go = workdir / f"go-{label}"
    cwd = workdir / "cwd"
    cwd.mkdir(parents=True, exist_ok=True)
    runs = [
        start(["-m", "tests.support.opener", "--go", str(go)], env=env, cwd=cwd)
        for _ in range(count)
    ]
    for running in runs:
        running.wait_for(lambda r: bool(r.stdout), 120)
    go.touch()
    applied: Counter[str] = Counter()
    for i, running in enumerate(runs):
        code = running.finish(timeout=300)
        messages = _messages(running)
        result = next((m for m in messages if "applied" in m or "error" in m), {})
        outcome.expect(
            code == 0 and "applied" in result,
            f"{label}: opener {i} failed ({code}): {result or running.err_text()[-300:]}",
        )
        applied.update(result.get("applied", []))
    return applied


def _log_counts_file(db: Path, table: str = "_yoyo_log") -> Counter[str]:
    """Migration ids in yoyo's log (applies) or its record; empty when unreadable."""
    where = " WHERE operation = 'apply'" if table == "_yoyo_log" else ""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=rw", uri=True, timeout=30)
    except sqlite3.Error:
        return Counter()
    try:
        rows = conn.execute(f"SELECT migration_id FROM {table}{where}").fetchall()
    except sqlite3.Error:
        return Counter()
    finally:
        conn.close()
    return Counter(str(r[0]) for r in rows)


async def _remote_rows(url: str, token: str, sql: str) -> list[tuple[Any, ...]]:
    async with libsql_client.create_client(url, auth_token=token) as client:
        result = await client.execute(sql)
        return [tuple(r) for r in result.rows]


def _exactly_once(
    label: str, applied: Counter[str], logged: Counter[str], outcome: Outcome
) -> None:
    wanted = Counter(project_ids())
    outcome.expect(
        applied == wanted, f"{label}: reported applied {dict(applied)}, wanted each once"
    )
    outcome.expect(logged == wanted, f"{label}: yoyo's log has {dict(logged)}, wanted each once")
    if applied != wanted or logged != wanted:
        outcome.corrupted += 1


def _slow_migrations(workdir: Path, *, fast: bool = False) -> Path:
    """The project's migrations plus a test-only 0099: slow, or (``fast``) its quick form."""
    target = workdir / ("migrations-fast" if fast else "migrations-slow")
    if not target.exists():
        shutil.copytree(migrations_dir(), target)
        body = "CREATE TABLE slow_marker (n INTEGER);\n" if fast else SLOW_MIGRATION
        (target / "0099.slow-test-only.sql").write_text(body)
        (target / "0099.slow-test-only.rollback.sql").write_text("DROP TABLE slow_marker;\n")
    return target


def _wait_lock_file(db: Path, running: Running, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and running.process.poll() is None:
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
                row = conn.execute("SELECT pid FROM yoyo_lock").fetchone()
            if row is not None:
                return int(row[0])
        except sqlite3.Error:
            pass
        time.sleep(0.001)
    return None


def _seed(env: dict[str, str], cwd: Path, outcome: Outcome) -> None:
    done = run_cli(["ask", "--provider", "scripted", "kept across the kill"], env=env, cwd=cwd)
    outcome.expect(done.returncode == 0, f"seeding failed: {done.stderr[-300:]}")


def _killed_migrator_file(workdir: Path, outcome: Outcome) -> int:
    db = workdir / "killed-migrator.db"
    env = child_env(workdir / "home", {"TURNKEEP_DB__PATH": str(db)})
    cwd = workdir / "cwd"
    _seed(env, cwd, outcome)
    before = sqlite3.connect(db).execute("SELECT count(*) FROM conversation_events").fetchone()
    slow = _slow_migrations(workdir)
    running = start(["-m", "tests.support.opener", "--migrations", str(slow)], env=env, cwd=cwd)
    pid = _wait_lock_file(db, running, 60)
    time.sleep(0.2)  # well inside the slow migration now
    killed = running.kill()
    running.finish()
    if not outcome.expect(
        pid is not None and killed, "the slow migrator was not killed holding the lock"
    ):
        return 0
    done = run_cli(["db", "migrate"], env=env, cwd=cwd, timeout=120)
    outcome.expect(
        done.returncode == 0,
        f"db migrate after the kill exited {done.returncode}: {done.stderr[-300:]}",
    )
    outcome.expect(
        f"stale migration lock left by process {pid}" in done.stderr,
        f"the broken stale lock was not reported: {done.stderr[-300:]}",
    )
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        after = conn.execute("SELECT count(*) FROM conversation_events").fetchone()
        locks = conn.execute("SELECT count(*) FROM yoyo_lock").fetchone()[0]
    outcome.expect("slow_partial" not in tables, "the killed migration left a table behind")
    outcome.expect(locks == 0, "the stale lock is still there")
    if after != before:
        outcome.lost += 1
        outcome.problem(f"events before the kill {before}, after {after}")
    checked = integrity(db)
    if not outcome.expect(checked == ["ok"], f"integrity after the killed migrator: {checked[:3]}"):
        outcome.corrupted += 1
    return 1


def _stale_lock_on_a_fresh_file(workdir: Path, outcome: Outcome) -> int:
    """What a migrator killed in its first milliseconds leaves: yoyo's lock table holding
    the lock of a dead process, and none of yoyo's other tables yet. The next start must
    break the lock (yoyo takes it to create its tables) instead of timing out."""
    db = workdir / "fresh-stale-lock.db"
    db.touch(mode=0o600)
    backend = sqlite_backend(db)  # yoyo creates its lock table first
    try:
        backend.execute(
            f"INSERT INTO {backend.lock_table_quoted} (locked, ctime, pid) "
            "VALUES (1, '2026-01-01', :pid)",
            {"pid": DEAD_PID},
        )
        backend.connection.commit()
    finally:
        backend.connection.close()
    env = child_env(workdir / "home", {"TURNKEEP_DB__PATH": str(db)})
    done = run_cli(["db", "migrate"], env=env, cwd=workdir, timeout=120)
    outcome.expect(
        done.returncode == 0 and f"left by process {DEAD_PID}" in done.stderr,
        f"db migrate after a migrator died on a fresh file: {done.returncode} {done.stderr}",
    )
    wanted = Counter(project_ids())
    if not outcome.expect(_log_counts_file(db) == wanted, "migrations not applied exactly once"):
        outcome.corrupted += 1
    return 1


def _random_kills(scale: Scale, workdir: Path, rng: random.Random, outcome: Outcome) -> int:
    kills = 0
    for i in range(scale.startup_kills):
        db = workdir / f"kill-{i}.db"
        env = child_env(workdir / "home", {"TURNKEEP_DB__PATH": str(db)})
        cwd = workdir / "cwd"
        running = start(["-m", "tui", "db", "migrate"], env=env, cwd=cwd)
        if rng.random() < 0.5:
            _wait_lock_file(db, running, 60)
            time.sleep(rng.uniform(0, 0.03))
        else:
            time.sleep(rng.uniform(0.2, 0.9))
        kills += running.kill()
        running.finish()
        done = run_cli(["db", "migrate"], env=env, cwd=cwd, timeout=120)
        outcome.expect(
            done.returncode == 0,
            f"db migrate after kill {i} exited {done.returncode}: {done.stderr[-300:]}",
        )
        logged = _log_counts_file(db)
        recorded = _log_counts_file(db, "_yoyo_migration")
        wanted = Counter(project_ids())
        if not outcome.expect(
            logged == wanted and recorded == wanted,
            f"kill {i}: applied {dict(logged)}, recorded {dict(recorded)}; wanted each once",
        ):
            outcome.corrupted += 1
    return kills


def _killed_migrator_remote(workdir: Path, keys: JwtKeys, outcome: Outcome) -> int:
    with SqldServer(workdir / "sqld-killed", keys) as server:
        token = server.token()
        env = child_env(
            workdir / "home",
            {
                "TURNKEEP_DB__URL": server.ws_url,
                "TURNKEEP_DB__AUTH_TOKEN": token,
                "TURNKEEP_DB__TIMEOUT": "60",
            },
        )
        cwd = workdir / "cwd"
        _seed(env, cwd, outcome)
        slow = _slow_migrations(workdir)
        running = start(["-m", "tests.support.opener", "--migrations", str(slow)], env=env, cwd=cwd)
        pid = None
        deadline = time.monotonic() + 60
        while pid is None and time.monotonic() < deadline and running.process.poll() is None:
            rows = asyncio.run(
                _remote_rows(
                    server.ws_url, token, "SELECT name FROM sqlite_master WHERE name = 'yoyo_lock'"
                )
            )
            if rows:
                locks = asyncio.run(_remote_rows(server.ws_url, token, "SELECT pid FROM yoyo_lock"))
                pid = locks[0][0] if locks else None
            time.sleep(0.005)
        killed = running.kill()
        running.finish()
        if not outcome.expect(
            pid is not None and killed, "the remote migrator was not killed holding the lock"
        ):
            return 0
        # The owner of a remote lock cannot be checked: it is stale once old enough.
        asyncio.run(
            _remote_rows(
                server.ws_url, token, "UPDATE yoyo_lock SET ctime = datetime('now', '-1 hour')"
            )
        )
        # The next start still has the killed migration pending (here in a quick form).
        quick = _slow_migrations(workdir, fast=True)
        nxt = start(["-m", "tests.support.opener", "--migrations", str(quick)], env=env, cwd=cwd)
        code = nxt.finish(timeout=180)
        result = next((m for m in _messages(nxt) if "applied" in m or "error" in m), {})
        outcome.expect(code == 0, f"remote start after the kill: {code} {result}")
        outcome.expect(
            any("stale migration lock" in note for note in result.get("notes", [])),
            f"remote stale lock not reported: {result}",
        )
        outcome.expect(
            result.get("applied") == ["0099.slow-test-only"],
            f"remote start after the kill applied {result.get('applied')}",
        )
        tables = asyncio.run(
            _remote_rows(
                server.ws_url, token, "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        )
        outcome.expect(
            ("slow_partial",) not in tables, "the killed remote migration left a table behind"
        )
        events = asyncio.run(
            _remote_rows(server.ws_url, token, "SELECT count(*) FROM conversation_events")
        )
        if not outcome.expect(events[0][0] > 0, "the seeded remote events are gone"):
            outcome.lost += 1
    return 1


def run(scale: Scale, workdir: Path) -> Outcome:
    """Run the start-up races scenario (see the module docstring)."""
    outcome = Outcome("4 start-up races")
    with outcome.timed():
        rng = random.Random(scale.seed)
        keys = JwtKeys.generate(workdir)
        processes = 0
        for r in range(scale.startup_rounds):
            db = workdir / f"race-{r}.db"
            env = child_env(workdir / "home", {"TURNKEEP_DB__PATH": str(db)})
            applied = _race(env, workdir, f"file round {r}", scale.startup_processes, outcome)
            _exactly_once(f"file round {r}", applied, _log_counts_file(db), outcome)
            processes += scale.startup_processes
        remote_rounds = max(1, scale.startup_rounds // 2)
        for r in range(remote_rounds):
            with SqldServer(workdir / f"sqld-race-{r}", keys) as server:
                token = server.token()
                envs = [
                    child_env(
                        workdir / "home",
                        {"TURNKEEP_DB__URL": server.url(kind), "TURNKEEP_DB__AUTH_TOKEN": token},
                    )
                    for kind in ("ws", "http")
                ]
                applied = Counter[str]()
                half = max(1, scale.startup_processes // 2)
                # ws and http openers race together: start both groups before the go file.
                go = workdir / f"go-sqld-{r}"
                cwd = workdir / "cwd"
                runs = [
                    start(["-m", "tests.support.opener", "--go", str(go)], env=envs[i % 2], cwd=cwd)
                    for i in range(2 * half)
                ]
                for running in runs:
                    running.wait_for(lambda r: bool(r.stdout), 120)
                go.touch()
                for i, running in enumerate(runs):
                    code = running.finish(timeout=300)
                    result = next(
                        (m for m in _messages(running) if "applied" in m or "error" in m), {}
                    )
                    outcome.expect(
                        code == 0 and "applied" in result, f"sqld round {r}: opener {i}: {result}"
                    )
                    applied.update(result.get("applied", []))
                rows = asyncio.run(
                    _remote_rows(
                        server.ws_url,
                        token,
                        "SELECT migration_id FROM _yoyo_log WHERE operation = 'apply'",
                    )
                )
                _exactly_once(
                    f"sqld round {r}", applied, Counter(str(row[0]) for row in rows), outcome
                )
                processes += 2 * half
        faults = _killed_migrator_file(workdir, outcome)
        faults += _killed_migrator_remote(workdir, keys, outcome)
        faults += _stale_lock_on_a_fresh_file(workdir, outcome)
        faults += _random_kills(scale, workdir, rng, outcome)
        outcome.faults = faults
        outcome.load = (
            f"{processes} processes racing on {scale.startup_rounds} fresh files and "
            f"{remote_rounds} fresh sqld; {scale.startup_kills + 3} migrators killed"
        )
    return outcome
