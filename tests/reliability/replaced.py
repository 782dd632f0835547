"""Scenario 10: the database file replaced or deleted under a running writer.

People restore a backup with ``cp backup.db new.db && mv new.db turnkeep.db`` and sync
tools write files the same way; an ``rm`` happens too. A writer (the app's persistence
worker on the embedded file) saves turns; a backup is taken; more turns are saved; then
the file is replaced by the backup (or deleted) and more turns are submitted.

Expected: those turns are refused with an error naming the cause and stay queued (the
worker returns them on stop: nothing silently dropped); the file now at the path holds
exactly the backup and passes ``integrity_check``, with no WAL of the old file beside
it; a new ``turnkeep sessions list`` opens it (exit 0); a deleted file is not recreated.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from pathlib import Path

from memory import EventDraft, open_embedded
from memory.backup import backup_embedded
from runtime import PersistenceWorker
from tests.reliability.procs import child_env, start
from tests.reliability.report import Outcome, Scale

__all__ = ["run"]


def _turn(n: int) -> list[EventDraft]:
    return [
        EventDraft("user", {"role": "user", "content": f"question {n}"}, n),
        EventDraft("assistant", {"role": "assistant", "content": f"answer {n}"}, n),
    ]


def _rows(path: Path) -> tuple[list[str], list[tuple[str, int, str]]]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        check = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
        rows = conn.execute(
            "SELECT session_id, seq, payload FROM conversation_events ORDER BY session_id, seq"
        ).fetchall()
        return check, rows
    finally:
        conn.close()


async def _round(
    db: Path, work: Path, delete: bool, outcome: Outcome
) -> list[tuple[str, int, str]]:
    memory = await open_embedded(db)
    worker = PersistenceWorker(memory, retry_initial=0.01, retry_max=0.05)
    await worker.start()
    try:
        for n in range(1, 6):
            worker.submit("s", _turn(n))
        outcome.expect(await worker.flush(timeout=30), "the first turns were not saved")
        backup = work / "backup.db"
        await backup_embedded(memory, backup)
        _, expected = _rows(backup)
        for n in range(6, 9):
            worker.submit("s", _turn(n))
        outcome.expect(await worker.flush(timeout=30), "the turns after the backup were not saved")
        if delete:
            db.unlink()
        else:
            staged = work / "staged.db"
            shutil.copyfile(backup, staged)
            os.replace(staged, db)
        outcome.faults += 1
        for n in range(9, 11):
            worker.submit("s", _turn(n))
        for _ in range(500):
            if worker.state.status == "retrying":
                break
            await asyncio.sleep(0.01)
        cause = "deleted" if delete else "replaced"
        outcome.expect(
            cause in (worker.state.last_error or ""),
            f"the writer did not say the file was {cause}: {worker.state.last_error!r}",
        )
    finally:
        unsaved = await worker.stop(timeout=0.3)
        await memory.close()
    contents = sorted(d.payload["content"] for _, drafts in unsaved for d in drafts)
    wanted = sorted(f"{what} {n}" for n in (9, 10) for what in ("question", "answer"))
    if contents != wanted:
        outcome.lost += max(0, len(wanted) - len(contents))
        outcome.problem(f"the turns refused after the {cause} were not all kept: {contents}")
    return expected


def run(scale: Scale, workdir: Path) -> Outcome:
    outcome = Outcome("10 replaced/deleted file")
    rounds = max(2, scale.corrupt_rounds * 2)
    env = child_env(workdir / "home")
    with outcome.timed():
        for index in range(rounds):
            work = workdir / f"round-{index}"
            work.mkdir(parents=True, exist_ok=True)
            db = work / "turnkeep.db"
            delete = index % 2 == 1
            expected = asyncio.run(_round(db, work, delete, outcome))
            if delete:
                if db.exists():
                    outcome.corrupted += 1
                    outcome.problem(f"round {index}: the deleted database was recreated")
                continue
            check, rows = _rows(db)
            if check != ["ok"] or rows != expected:
                outcome.corrupted += 1
                outcome.problem(
                    f"round {index}: the restored file changed (integrity {check[:2]}, "
                    f"{len(rows)} rows vs {len(expected)} in the backup)"
                )
            wal = Path(f"{db}-wal")
            outcome.expect(
                not wal.exists() or wal.stat().st_size == 0,
                f"round {index}: a WAL of the old file was left beside the restored one",
            )
            listing = start(
                ["-m", "tui", "sessions", "list"],
                env={**env, "TURNKEEP_DB__PATH": str(db)},
                cwd=work,
            )
            code = listing.finish(timeout=120)
            outcome.expect(
                code == 0, f"round {index}: the restored file does not open: {listing.err_text()}"
            )
        outcome.load = f"{rounds} writers saving 10 turns; the file replaced by a backup or deleted"
    return outcome
