"""Scenario 5: corrupt and foreign files, a WAL removed while the app runs, no permission.

Each case builds a file, hashes every file in its directory, then opens it in-process
(``open_embedded``: the typed error it must raise) and through the command line
(``db status``, ``sessions list``, ``ask``: one line on stderr, no traceback, the
documented exit code), and hashes again: nothing may be modified or created.

Read-only files and directories bind root through ``chattr +i``; "no permission" runs
as ``nobody`` in a forked child (see ``tests/support/unprivileged.py``).

A WAL removed while the app runs: turns saved before are kept, a save after it is
refused with a typed error (never written where nobody will find it) and the database
file is not touched; the persistence worker keeps the refused turns and reports them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from memory import (
    EventDraft,
    MemoryLayerError,
    NotADatabaseError,
    ReadOnlyError,
    StoreConnectionError,
    open_embedded,
)
from memory.drivers.sqlite_file import SQLITE_HEADER
from runtime.persistence import PersistenceWorker
from tests.reliability.checks import file_hashes, integrity
from tests.reliability.procs import child_env, run_cli
from tests.reliability.report import Outcome, Scale
from tests.support.unprivileged import can_chattr, immutable, open_dir, run_as_nobody
from tui.cli import exit_code_for, main

__all__ = ["run"]

COMMANDS = (["db", "status"], ["sessions", "list"], ["ask", "--provider", "scripted", "hello"])


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path], Path]  # builds the case in a directory, returns the db path
    expected: type[MemoryLayerError]
    as_nobody: bool = False
    immutable: str | None = None  # "file" or "dir": chattr +i on it


def good_db(path: Path) -> Path:
    """A real turnkeep database with a few events, closed cleanly (no WAL left)."""

    async def build() -> None:
        memory = await open_embedded(path)
        try:
            await memory.store("kept", [EventDraft("user", {"content": f"n{i}"}) for i in range(5)])
        finally:
            await memory.close()

    asyncio.run(build())
    return path


def _truncated(fraction: float | None, size: int | None = None) -> Callable[[Path], Path]:
    def make(directory: Path) -> Path:
        db = good_db(directory / "turnkeep.db")
        data = db.read_bytes()
        db.write_bytes(data[: size if size is not None else int(len(data) * (fraction or 0))])
        return db

    return make


def _bytes(content: Callable[[], bytes]) -> Callable[[Path], Path]:
    def make(directory: Path) -> Path:
        db = directory / "turnkeep.db"
        db.write_bytes(content())
        return db

    return make


def _good_in(directory: Path) -> Path:
    return good_db(directory / "turnkeep.db")


def _foreign(directory: Path) -> Path:
    db = directory / "turnkeep.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.executemany("INSERT INTO customers (name) VALUES (?)", [("ada",), ("grace",)])
    return db


def _in_private_dir(mode: int, file_mode: int | None = None) -> Callable[[Path], Path]:
    def make(directory: Path) -> Path:
        inner = directory / "inner"
        inner.mkdir()
        db = good_db(inner / "turnkeep.db")
        if file_mode is not None:
            db.chmod(file_mode)
        inner.chmod(mode)
        return db

    return make


def _new_in_dir(mode: int) -> Callable[[Path], Path]:
    def make(directory: Path) -> Path:
        inner = directory / "inner"
        inner.mkdir()
        inner.chmod(mode)
        return inner / "turnkeep.db"

    return make


CASES = (
    Case("truncated to half", _truncated(0.5), NotADatabaseError),
    Case("truncated after the header", _truncated(None, 100), NotADatabaseError),
    Case("random bytes", _bytes(lambda: os.urandom(64 * 1024)), NotADatabaseError),
    Case(
        "a SQLite header, then random bytes",
        _bytes(lambda: SQLITE_HEADER + os.urandom(64 * 1024)),
        NotADatabaseError,
    ),
    Case("a text file", _bytes(lambda: b"my notes\n" * 2000), NotADatabaseError),
    Case("another application's database", _foreign, NotADatabaseError),
    Case("read-only file (chattr +i)", _good_in, ReadOnlyError, immutable="file"),
    Case("read-only directory (chattr +i)", _good_in, ReadOnlyError, immutable="dir"),
    Case("directory without permission", _in_private_dir(0o700), ReadOnlyError, as_nobody=True),
    Case(
        "read-only file (mode 0444)", _in_private_dir(0o777, 0o444), ReadOnlyError, as_nobody=True
    ),
    Case(
        "directory without write permission",
        _in_private_dir(0o755, 0o666),
        ReadOnlyError,
        as_nobody=True,
    ),
    Case(
        "new database in a directory without permission",
        _new_in_dir(0o555),
        ReadOnlyError,
        as_nobody=True,
    ),
)


def _open_in_process(db: Path) -> str:
    """The name of the error ``open_embedded`` raises, or ``opened``."""

    async def attempt() -> str:
        try:
            memory = await open_embedded(db)
        except MemoryLayerError as exc:
            return type(exc).__name__
        await memory.close()
        return "opened"

    return asyncio.run(attempt())


def _check_cli(case: Case, label: str, code: int, stderr: str, db: Path, outcome: Outcome) -> None:
    wanted = exit_code_for(case.expected("x"))
    lines = [line for line in stderr.splitlines() if line.strip()]
    outcome.expect(code == wanted, f"{label}: exit {code}, wanted {wanted}: {stderr[-200:]}")
    outcome.expect("Traceback" not in stderr, f"{label}: a traceback reached the user")
    outcome.expect(
        len(lines) == 1 and lines[0].startswith("turnkeep: "),
        f"{label}: the error is not one line: {lines[:3]}",
    )
    outcome.expect(str(db.parent) in stderr, f"{label}: the error does not name the file: {stderr}")


def _run_case(case: Case, directory: Path, workdir: Path, outcome: Outcome) -> None:
    db = case.make(directory)
    env = child_env(
        directory / "home" if not case.as_nobody else workdir / "home",
        {"TURNKEEP_DB__PATH": str(db)},
    )
    target = db if case.immutable == "file" else db.parent
    with immutable(target) if case.immutable else contextlib.nullcontext():
        before = file_hashes(db.parent)
        if case.as_nobody:
            _run_as_nobody(case, db, directory, outcome)
        else:
            got = _open_in_process(db)
            outcome.expect(got == case.expected.__name__, f"{case.name}: open raised {got}")
            for argv in COMMANDS:
                done = run_cli(argv, env=env, cwd=directory)
                _check_cli(
                    case,
                    f"{case.name}: {' '.join(argv)}",
                    done.returncode,
                    done.stderr,
                    db,
                    outcome,
                )
        after = file_hashes(db.parent)
    if after != before:
        outcome.corrupted += 1
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        outcome.problem(f"{case.name}: files changed or appeared: {changed}")


def _run_as_nobody(case: Case, db: Path, directory: Path, outcome: Outcome) -> None:
    home = directory / "nobody-home"
    for name in ("data", "config"):
        (home / name).mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o777)
    for name in ("data", "config"):
        os.chmod(home / name, 0o777)
    env = {
        "TURNKEEP_DB__PATH": str(db),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "HOME": str(home),
    }

    def in_child(argv: list[str] | None) -> Callable[[], int]:
        def body() -> int:
            for name in [n for n in os.environ if n.startswith(("TURNKEEP_", "TURSO_", "OPENAI_"))]:
                del os.environ[name]
            os.environ.update(env)
            os.chdir(home)
            if argv is None:
                print(_open_in_process(db))
                return 0
            sys.argv = ["turnkeep", *argv]
            return main(argv)

        return body

    result = run_as_nobody(in_child(None))
    got = result.stdout.strip()
    outcome.expect(
        got == case.expected.__name__,
        f"{case.name}: open as nobody raised {got} {result.stderr[-300:]}",
    )
    for argv in COMMANDS:
        result = run_as_nobody(in_child(argv))
        _check_cli(
            case,
            f"{case.name}: {' '.join(argv)} (as nobody)",
            result.code,
            result.stderr,
            db,
            outcome,
        )


async def _wal_removed(directory: Path, outcome: Outcome) -> None:
    """Remove the WAL while the app writes; see the module docstring."""
    db = directory / "turnkeep.db"
    memory = await open_embedded(db)
    worker = PersistenceWorker(memory, retry_initial=0.01, retry_max=0.05)
    await worker.start()
    try:
        saved = await memory.store(
            "s", [EventDraft("user", {"content": f"before {i}"}) for i in range(3)]
        )
        wal = Path(f"{db}-wal")
        outcome.expect(wal.exists(), "no WAL file to remove")
        wal.unlink()
        main_before = hashlib.sha256(db.read_bytes()).hexdigest()
        try:
            await memory.store("s", [EventDraft("user", {"content": "after"})])
            outcome.problem("a save after the WAL was removed reported success (it went nowhere)")
        except StoreConnectionError:
            pass
        except MemoryLayerError as exc:
            outcome.problem(f"a save after the WAL was removed raised {type(exc).__name__}: {exc}")
        worker.submit("s", [EventDraft("user", {"content": "queued after"})])
        await worker.flush(0.5)
        state = worker.state
        outcome.expect(
            state.status == "retrying" and bool(state.last_error),
            f"the worker did not report the removed WAL: {state}",
        )
        env = child_env(directory / "home", {"TURNKEEP_DB__PATH": str(db)})
        other = await asyncio.to_thread(run_cli, ["sessions", "list"], env=env, cwd=directory)
        outcome.expect(
            other.returncode == 3 and other.stderr.startswith("turnkeep: "),
            f"another process with the WAL removed: {other.returncode} {other.stderr[-200:]}",
        )
        outcome.expect(
            hashlib.sha256(db.read_bytes()).hexdigest() == main_before,
            "the database file changed after its WAL was removed",
        )
        unsaved = await worker.stop(1)
        outcome.expect(len(unsaved) == 1, f"the refused save point was not returned: {unsaved}")
    finally:
        await memory.close()
    checked = integrity(db)
    if not outcome.expect(checked == ["ok"], f"integrity after the WAL was removed: {checked[:3]}"):
        outcome.corrupted += 1
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT seq FROM conversation_events WHERE session_id = 's'").fetchall()
    kept = [r[0] for r in rows]
    if not set(saved) <= set(kept):
        outcome.lost += len(set(saved) - set(kept))
        outcome.problem(f"turns saved before the WAL was removed are gone: {saved} vs {kept}")


def run(scale: Scale, workdir: Path) -> Outcome:
    """Run the corrupt-and-foreign-files scenario (see the module docstring)."""
    outcome = Outcome("5 corrupt/foreign files")
    with outcome.timed():
        chattr = can_chattr(workdir)
        root_ok = os.geteuid() == 0
        cases = [c for c in CASES if (chattr or not c.immutable) and (root_ok or not c.as_nobody)]
        for left_out in sorted(set(c.name for c in CASES) - {c.name for c in cases}):
            outcome.notes.append(f"left out here: {left_out} (needs root and chattr)")
        tried = 0
        for round_ in range(scale.corrupt_rounds):
            for i, case in enumerate(cases):
                directory = (
                    open_dir(f"tk-corrupt-{round_}-{i}-")
                    if case.as_nobody
                    else workdir / f"{round_}-{i}"
                )
                directory.mkdir(exist_ok=True)
                try:
                    _run_case(case, directory, workdir, outcome)
                finally:
                    if case.as_nobody:
                        _remove_tree(directory)
                tried += 1
            wal_dir = workdir / f"wal-{round_}"
            wal_dir.mkdir()
            asyncio.run(_wal_removed(wal_dir, outcome))
            tried += 1
        outcome.faults = tried
        outcome.load = (
            f"{len(cases) + 1} kinds of bad file x {scale.corrupt_rounds}, each opened 4 ways"
        )
    return outcome


def _remove_tree(directory: Path) -> None:
    for root, dirs, _files in os.walk(directory):
        for name in dirs:
            os.chmod(Path(root) / name, 0o755)
    import shutil

    shutil.rmtree(directory, ignore_errors=True)
