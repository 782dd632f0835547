"""Remote mode against a real sqld: round trips, persistence, migrations, restarts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from memory import EventDraft, MigrationError, StoreConnectionError, new_session_id, open_remote
from memory.schema.migrate import migrations_dir
from tests.conftest import FrozenClock
from tests.remote.conftest import ROOT, query, schema
from tests.support.sqld import SqldServer

KINDS = ["ws", "http"]
BASELINE = "0001.initial-schema"


def drafts(label: str, n: int, turn: int = 1) -> list[EventDraft]:
    return [EventDraft("user", {"content": f"{label} {i}"}, turn) for i in range(n)]


HEAD = tuple(
    sorted(
        p.name.split(".sql")[0]
        for p in migrations_dir().glob("*.sql")
        if not p.name.endswith(".rollback.sql")
    )
)


def project_migrations(tmp_path: Path, name: str) -> Path:
    """A copy of the project's v1 baseline migration, to add test-only ones beside it."""
    target = tmp_path / name
    target.mkdir()
    for path in migrations_dir().glob(f"{BASELINE}.*"):
        shutil.copy(path, target / path.name)
    return target


@pytest.mark.parametrize("kind", KINDS)
async def test_a_save_point_is_one_round_trip(sqld: SqldServer, kind: str) -> None:
    memory = await open_remote(sqld.url(kind), auth_token=sqld.token())
    session = new_session_id()
    try:
        for turn in range(1, 4):
            before = memory.round_trips
            seqs = await memory.store(session, drafts("turn", 3, turn))
            assert memory.round_trips - before == 1
            assert seqs == [3 * turn - 2, 3 * turn - 1, 3 * turn]
    finally:
        await memory.close()


async def test_data_survives_reopen_and_server_restart(
    fresh_sqld: SqldServer, clock: FrozenClock
) -> None:
    first = await open_remote(fresh_sqld.ws_url, auth_token=fresh_sqld.token(), clock=clock)
    assert first.migration_outcome is not None
    assert first.migration_outcome.applied == HEAD
    await first.store("kept", drafts("kept", 3))
    await first.save_state("kept", {"model": "m"})
    await first.close()

    fresh_sqld.restart()

    again = await open_remote(fresh_sqld.http_url, auth_token=fresh_sqld.token(), clock=clock)
    try:
        assert again.migration_outcome is not None
        assert again.migration_outcome.applied == ()  # second run: a no-op
        events = await again.recall("kept")
        assert [(e.seq, e.payload["content"]) for e in events] == [
            (1, "kept 0"),
            (2, "kept 1"),
            (3, "kept 2"),
        ]
        state = await again.load_state("kept")
        assert state is not None
        assert (state.seq, state.state) == (3, {"model": "m"})
    finally:
        await again.close()


async def test_migrations_go_forward_from_the_baseline_to_head_once(
    fresh_sqld: SqldServer, tmp_path: Path
) -> None:
    url, token = fresh_sqld.ws_url, fresh_sqld.token()
    baseline = project_migrations(tmp_path, "baseline")
    memory = await open_remote(url, auth_token=token, migrations_dir=baseline)
    # Rows as a baseline turnkeep wrote them (today's code writes columns it lacks).
    stamp = "2026-11-25T12:00:00.000000Z"
    await memory.driver.batch(
        [
            (
                "INSERT INTO sessions (id, created_at, updated_at, last_seq, event_count, "
                "turn_count) VALUES ('s1', ?, ?, 2, 2, 1)",
                [stamp, stamp],
            ),
            *(
                (
                    "INSERT INTO conversation_events VALUES ('s1', ?, 1, 'user', ?, ?)",
                    [seq, f'{{"content":"before {seq - 1}"}}', stamp],
                )
                for seq in (1, 2)
            ),
        ]
    )
    await memory.close()

    head = project_migrations(tmp_path, "head")
    (head / "0002.event-kinds.sql").write_text(
        "CREATE INDEX events_by_kind ON conversation_events (kind);\n"
        "CREATE TABLE notes (session_id TEXT NOT NULL, body TEXT NOT NULL);\n"
    )
    (head / "0002.event-kinds.rollback.sql").write_text(
        "DROP TABLE notes;\nDROP INDEX events_by_kind;\n"
    )
    memory = await open_remote(url, auth_token=token, migrations_dir=head)
    try:
        assert memory.migration_outcome is not None
        assert memory.migration_outcome.applied == ("0002.event-kinds",)
        assert [e.payload["content"] for e in await memory.recall("s1")] == [
            "before 0",
            "before 1",
        ]
        report = await memory.health()
        assert report.applied_migrations == (BASELINE, "0002.event-kinds")
        assert report.pending_migrations == ()
    finally:
        await memory.close()

    before = await schema(url, token)
    again = await open_remote(url, auth_token=token, migrations_dir=head)
    await again.close()
    assert again.migration_outcome is not None
    assert again.migration_outcome.applied == ()
    assert await schema(url, token) == before
    applies = await query(
        url,
        token,
        "SELECT migration_id, count(*) FROM _yoyo_log WHERE operation = 'apply' "
        "GROUP BY migration_id ORDER BY migration_id",
    )
    assert applies == [(BASELINE, 1), ("0002.event-kinds", 1)]


async def test_a_failed_migration_leaves_the_database_as_it_was(
    fresh_sqld: SqldServer, tmp_path: Path
) -> None:
    url, token = fresh_sqld.ws_url, fresh_sqld.token()
    memory = await open_remote(url, auth_token=token)
    await memory.store("s1", drafts("kept", 2))
    await memory.close()
    schema_before = await schema(url, token)
    rows_before = await query(
        url, token, "SELECT session_id, seq, payload FROM conversation_events"
    )

    broken = project_migrations(tmp_path, "broken")
    (broken / "0002.half-done.sql").write_text(
        "CREATE TABLE notes (body TEXT);\n"
        "INSERT INTO notes VALUES ('written by a migration that fails');\n"
        "DELETE FROM conversation_events;\n"
        "UPDATE no_such_table SET x = 1;\n"
    )
    with pytest.raises(MigrationError) as info:
        await open_remote(url, auth_token=token, migrations_dir=broken)
    assert info.value.migration == "0002.half-done"
    assert "no_such_table" in str(info.value)

    assert await schema(url, token) == schema_before
    assert (
        await query(url, token, "SELECT session_id, seq, payload FROM conversation_events")
        == rows_before
    )
    applied = await query(url, token, "SELECT migration_id FROM _yoyo_migration ORDER BY 1")
    assert applied == [(m,) for m in HEAD]
    assert await query(url, token, "SELECT * FROM yoyo_lock") == []  # the lock was released
    reopened = await open_remote(url, auth_token=token)  # the project's head still opens
    await reopened.close()


@pytest.mark.parametrize("kind", KINDS)
async def test_server_restart_between_save_points_loses_and_duplicates_nothing(
    fresh_sqld: SqldServer, kind: str
) -> None:
    memory = await open_remote(fresh_sqld.url(kind), auth_token=fresh_sqld.token(), timeout=5)
    try:
        assert await memory.store("s1", drafts("first", 2)) == [1, 2]
        fresh_sqld.stop()
        with pytest.raises(StoreConnectionError) as info:
            await memory.store("s1", drafts("second", 2, turn=2))
        assert f"127.0.0.1:{fresh_sqld.port}" in str(info.value)
        fresh_sqld.start()
        # The caller retries the save point it was told had failed.
        assert await memory.store("s1", drafts("second", 2, turn=2)) == [3, 4]
        assert await memory.store("s1", drafts("third", 1, turn=3)) == [5]
    finally:
        await memory.close()

    check = await open_remote(fresh_sqld.ws_url, auth_token=fresh_sqld.token())
    try:
        events = await check.recall("s1")
        assert [(e.seq, e.turn, e.payload["content"]) for e in events] == [
            (1, 1, "first 0"),
            (2, 1, "first 1"),
            (3, 2, "second 0"),
            (4, 2, "second 1"),
            (5, 3, "third 0"),
        ]
        info_row = await check.get_session("s1")
        assert (info_row.events, info_row.last_seq, info_row.turns) == (5, 5, 3)
    finally:
        await check.close()


async def test_processes_starting_at_once_apply_each_migration_exactly_once(
    fresh_sqld: SqldServer, tmp_path: Path
) -> None:
    migrations = project_migrations(tmp_path, "head")
    for number in (2, 3):
        (migrations / f"000{number}.extra-{number}.sql").write_text(
            f"CREATE TABLE extra_{number} (x INTEGER);\n"
        )
    go = tmp_path / "go"
    command = [sys.executable, "-m", "tests.remote.migrator", fresh_sqld.ws_url]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [*command, fresh_sqld.token(), str(go), str(migrations)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
        go.touch()
        outputs = [proc.communicate(timeout=120) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert [proc.returncode for proc in procs] == [0, 0, 0], [err for _, err in outputs]
    applied = [json.loads(out) for out, _ in outputs]
    everything = [BASELINE, "0002.extra-2", "0003.extra-3"]
    assert sorted(m for ids in applied for m in ids) == everything  # each exactly once
    url, token = fresh_sqld.ws_url, fresh_sqld.token()
    log = await query(
        url, token, "SELECT migration_id FROM _yoyo_log WHERE operation = 'apply' ORDER BY 1"
    )
    assert log == [(m,) for m in everything]
    assert await query(url, token, "SELECT * FROM yoyo_lock") == []
