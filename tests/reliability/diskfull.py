"""Scenario 6: the disk fills up while turns are saved, then space returns.

Two ways to fill a disk, both real:

* a file-size limit (``RLIMIT_FSIZE``, what ``ulimit -f`` sets; SIGXFSZ ignored so a
  write fails with EFBIG) on the writer process, lifted later from inside it;
* where this machine lets us mount one (root), a small tmpfs filled with a ballast
  file (writes fail with ENOSPC), which is deleted later.

The writer saves turns the way the app does (``tests/support/turn_writer.py``) and keeps
submitting while the disk is full. Expected: the failure is surfaced (the worker's state
is ``retrying`` with the error), turns saved before are intact, and once space returns
every queued turn is saved, in order, exactly once. ``turnkeep ask`` under the limit
exits non-zero and says what was not saved; the next ``ask`` works.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.reliability.checks import integrity, read_file
from tests.reliability.procs import Running, child_env, run_cli, start
from tests.reliability.report import Outcome, Scale
from tests.reliability.writers import verify_turns

__all__ = ["run"]

SEED_TURNS = 5


def _messages(running: Running) -> list[dict[str, Any]]:
    out = []
    for line in running.out_lines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def _failures(running: Running) -> list[str]:
    return [
        str(m.get("error"))
        for m in _messages(running)
        if m.get("state") == "retrying" and m.get("error")
    ]


def _writer(
    env: dict[str, str], cwd: Path, name: str, turns: int, *extra: str, stdin: int | None = None
) -> Running:
    args = ["--writer", name, "--session", "disk", "--turns", str(turns), *extra]
    return start(["-m", "tests.support.turn_writer", *args], env=env, cwd=cwd, stdin=stdin)


def _file_limit(limit: int) -> Callable[[], None]:
    def set_limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))

    return set_limit


def _fill_and_free(
    scale: Scale,
    db: Path,
    env: dict[str, str],
    cwd: Path,
    label: str,
    outcome: Outcome,
    make_full: Callable[[], Path] | None,
) -> None:
    """Seed, fill the disk under a running writer, free it; check everything.

    ``make_full`` fills the disk and returns a ballast file to delete later; without it
    the writer gets a file-size limit just above what is on disk, lifted by ``grow``.
    """
    seed = _writer(env, cwd, "seed", SEED_TURNS)
    code = seed.finish(timeout=120)
    outcome.expect(code == 0, f"{label}: seeding failed: {seed.err_text()[-300:]}")
    before = read_file(db)
    go = db.parent / f"go-{label.replace(' ', '-')}"
    extra = ["--pace", "0.05", "--go", str(go), "--filler", str(16 * 1024)]
    if make_full is None:  # room for about two turns of 16 KB each
        extra += ["--fsize-limit", str(db.stat().st_size + 40 * 1024)]
    running = _writer(env, cwd, "full", scale.disk_turns, *extra, stdin=subprocess.PIPE)
    ready = running.wait_for(lambda r: any('"ready"' in line for line in r.out_lines()), 120)
    outcome.expect(ready, f"{label}: the writer did not open the database: {running.err_text()}")
    ballast = make_full() if make_full is not None else None  # it fills while the app runs
    go.touch()
    surfaced = running.wait_for(lambda r: bool(_failures(r)), timeout=60)
    outcome.expect(
        surfaced, f"{label}: the full disk was never reported: {running.err_text()[-300:]}"
    )
    running.wait_for(lambda r: False, timeout=1.0)  # stay full while more turns queue
    other = run_cli(["sessions", "list"], env=env, cwd=cwd)
    outcome.expect(
        other.returncode == 0
        or (other.stderr.startswith("turnkeep: ") and "internal error" not in other.stderr),
        f"{label}: another turnkeep while the disk is full: {other.returncode} {other.stderr}",
    )
    kept = read_file(db).events.get("disk", [])
    for seq, event in enumerate(before.events.get("disk", []), start=1):
        if seq > len(kept) or kept[seq - 1] != event:
            outcome.lost += 1
            outcome.problem(
                f"{label}: seq {seq}, saved before the disk filled, changed or vanished"
            )
    if ballast is not None:
        ballast.unlink()
    assert running.process.stdin is not None
    with contextlib.suppress(BrokenPipeError):  # a writer with no limit has nothing to lift
        if ballast is None:
            running.process.stdin.write(b"grow\n")
        running.process.stdin.close()
    code = running.finish(timeout=300)
    messages = _messages(running)
    done = next((m for m in messages if m.get("done")), {})
    outcome.expect(code == 0 and done.get("unsaved") == 0, f"{label}: writer ended {code} {done}")
    failures = _failures(running)
    if failures:
        outcome.expect("disk" in failures[0].lower(), f"{label}: unclear error: {failures[0]}")
        outcome.notes.append(f"{label}: the worker reported: {failures[0][:200]}")
    told = {"full": {int(m["saved"]): list(m["seqs"]) for m in messages if "saved" in m}}
    lost, corrupted, problems = verify_turns(
        read_file(db), {"disk": {"seed": SEED_TURNS, "full": scale.disk_turns}}, told
    )
    outcome.lost += lost
    outcome.corrupted += corrupted
    for text in problems:
        outcome.problem(f"{label}: {text}")
    checked = integrity(db)
    if not outcome.expect(checked == ["ok"], f"{label}: integrity {checked[:3]}"):
        outcome.corrupted += 1


def _ask_under_limit(db: Path, env: dict[str, str], cwd: Path, outcome: Outcome) -> None:
    """``turnkeep ask`` with no room to write: a non-zero exit that says what was not saved."""
    first = run_cli(["ask", "--provider", "scripted", "room to spare"], env=env, cwd=cwd)
    outcome.expect(first.returncode == 0, f"ask before the limit: {first.stderr[-300:]}")
    before = read_file(db)
    limit = max(db.stat().st_size, 4096)
    env = {**env, "TURNKEEP_AGENT__SAVE_TIMEOUT": "3"}
    args = ["-m", "tui", "ask", "--provider", "scripted", "no room"]
    running = start(args, env=env, cwd=cwd, preexec_fn=_file_limit(limit))
    code = running.finish(timeout=120)
    err = running.err_text()
    outcome.expect(code != 0, "ask reported success with no room to save")
    outcome.expect("Traceback" not in err, "a traceback reached the user of ask")
    outcome.expect("not saved" in err.lower(), f"ask did not say what was not saved: {err[-300:]}")
    after = read_file(db)
    for sid, events in before.events.items():
        if after.events.get(sid, [])[: len(events)] != events:
            outcome.lost += 1
            outcome.problem(f"ask under the limit: earlier events of {sid} changed")
    # Opening takes yoyo's lock (a write): with no room at all, a typed error, one line.
    running = start(["-m", "tui", "sessions", "list"], env=env, cwd=cwd, preexec_fn=_file_limit(0))
    code = running.finish(timeout=120)
    err = running.err_text().strip()
    outcome.expect(
        code == 0
        or (
            len(err.splitlines()) == 1
            and err.startswith("turnkeep: ")
            and "internal error" not in err
        ),
        f"sessions list with no room to write: exit {code}: {err[-300:]}",
    )
    again = run_cli(["ask", "--provider", "scripted", "room again"], env=env, cwd=cwd)
    outcome.expect(again.returncode == 0, f"ask after space returned: {again.stderr[-300:]}")


@contextlib.contextmanager
def _small_tmpfs(size_kb: int) -> Iterator[Path | None]:
    """A tmpfs of ``size_kb`` mounted on a new temporary directory, or None if not allowed."""
    mount_point = Path(tempfile.mkdtemp(prefix="tk-tmpfs-"))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        mount_point.rmdir()
        yield None
        return
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, check=False)
        with contextlib.suppress(OSError):
            mount_point.rmdir()


def _fill(directory: Path, leave: int) -> Path:
    """Fill the filesystem of ``directory`` until about ``leave`` bytes are free."""
    ballast = directory / "ballast"
    stats = os.statvfs(directory)
    free = stats.f_bavail * stats.f_frsize
    with open(ballast, "wb") as handle:
        with contextlib.suppress(OSError):
            handle.write(b"\0" * max(0, free - leave))
        handle.flush()
        os.fsync(handle.fileno())
    return ballast


def run(scale: Scale, workdir: Path) -> Outcome:
    """Run the full-disk scenario (see the module docstring)."""
    outcome = Outcome("6 full disk")
    with outcome.timed():
        cwd = workdir / "cwd"
        cwd.mkdir(parents=True, exist_ok=True)
        db = workdir / "limited.db"
        env = child_env(workdir / "home", {"TURNKEEP_DB__PATH": str(db)})
        _fill_and_free(scale, db, env, cwd, "file-size limit", outcome, None)
        faults = 1
        ask_db = workdir / "ask.db"
        _ask_under_limit(ask_db, {**env, "TURNKEEP_DB__PATH": str(ask_db)}, cwd, outcome)
        faults += 1
        # Room for 40 turns with their search index rows once the ballast is gone (each
        # save point writes a few FTS pages; the WAL grows to ~1,000 pages before a checkpoint).
        with _small_tmpfs(16384) as mount:
            if mount is None:
                outcome.notes.append("no tmpfs can be mounted here: the ENOSPC case was left out")
            else:
                tdb = mount / "full.db"
                tenv = {**env, "TURNKEEP_DB__PATH": str(tdb)}
                _fill_and_free(
                    scale, tdb, tenv, cwd, "tmpfs full", outcome, lambda: _fill(mount, 48 * 1024)
                )
                faults += 1
        outcome.faults = faults
        outcome.load = (
            f"{SEED_TURNS} + {scale.disk_turns} turns through each full disk, "
            "and turnkeep ask with no room"
        )
    return outcome
