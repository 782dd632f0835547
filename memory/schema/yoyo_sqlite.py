"""yoyo on a local file: atomic apply, deciding under the lock, breaking a dead lock.

Two things yoyo does not do by itself, and this module adds:

* **Atomic apply.** yoyo applies a migration's steps in one transaction and records it
  as applied in a second one; a crash in between leaves an applied but unrecorded
  migration. :class:`AtomicApplyMixin` does both in one transaction.
* **Decide under the lock.** ``backend.to_apply()`` reads the applied set before
  ``backend.lock()`` is taken, so two processes starting at once can both decide to
  apply the same migration. :func:`apply_pending` computes the pending set only while
  holding the lock. A lock left by a process that died (``kill -9`` mid-migration) is
  detected and broken safely: locally by checking that its pid is gone, remotely by
  its age.

Everything here is synchronous (yoyo is); the backend runs it off the event loop.
Imported only when something must be migrated.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from yoyo.backends.core.sqlite3 import SQLiteBackend
from yoyo.connections import parse_uri
from yoyo.exceptions import LockTimeout

from memory.errors import MigrationError
from memory.schema.migrate import MIGRATION_TABLE, REMOTE_LOCK_STALE_AFTER, MigrationOutcome

__all__ = [
    "AtomicApplyMixin",
    "TurnkeepSQLiteBackend",
    "apply_pending",
    "break_stale_lock",
    "sqlite_backend",
]


class AtomicApplyMixin:
    """Apply a migration and record it in the same transaction."""

    def apply_one(self, migration: Any, force: bool = False, mark: bool = True) -> None:
        backend: Any = self
        backend.ensure_internal_schema_updated()
        with backend.transaction():
            migration.process_steps(backend, "apply", force=force)
            if mark:
                backend.mark_one(migration, log=False)
            backend.log_migration(migration, "apply")


class TurnkeepSQLiteBackend(AtomicApplyMixin, SQLiteBackend):  # type: ignore[misc]
    """yoyo's SQLite backend with atomic apply and a proper file URI."""

    def connect(self, dburi: Any) -> sqlite3.Connection:
        uri = Path(dburi.database).resolve().as_uri() + "?mode=rw"
        conn = sqlite3.connect(uri, uri=True, timeout=10.0, detect_types=sqlite3.PARSE_DECLTYPES)
        conn.isolation_level = None
        return conn


def sqlite_backend(path: Path) -> Any:
    """Open a yoyo backend on a local database file (which must already exist).

    Raises:
        sqlite3.Error: the file cannot be opened (translated by the caller).
    """
    backend = TurnkeepSQLiteBackend(parse_uri(f"sqlite:///{path}"), MIGRATION_TABLE)
    backend.init_database()
    return backend


def _lock_pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def break_stale_lock(backend: Any, *, local: bool) -> str | None:
    """Remove yoyo's lock row if its owner is gone; return a note saying so.

    Locally the lock's pid is checked (``kill(pid, 0)``); a lock held by a live process
    is left alone. Remotely the pid belongs to another host, so only a lock older than
    :data:`REMOTE_LOCK_STALE_AFTER` is broken (migrations here take well under a second).
    """
    rows = backend.execute(
        f"SELECT pid, CAST(ctime AS TEXT) FROM {backend.lock_table_quoted}"
    ).fetchall()
    if not rows:
        return None
    pid, ctime = int(rows[0][0]), rows[0][1]
    if local:
        stale = pid != os.getpid() and not _lock_pid_alive(pid)
    else:
        stale = _lock_age(ctime) > REMOTE_LOCK_STALE_AFTER
    if not stale:
        return None
    with backend.transaction():
        backend.execute(f"DELETE FROM {backend.lock_table_quoted} WHERE pid = :pid", {"pid": pid})
    return f"broke a stale migration lock left by process {pid} (started {ctime})"


def _lock_age(ctime: Any) -> timedelta:
    if isinstance(ctime, datetime):
        moment = ctime
    else:
        try:
            moment = datetime.fromisoformat(str(ctime))
        except ValueError:
            return timedelta(0)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return datetime.now(UTC) - moment


@contextlib.contextmanager
def _locked(backend: Any, timeout: float) -> Iterator[None]:
    try:
        with backend.lock(timeout=timeout):
            yield
    except LockTimeout as exc:
        raise MigrationError(
            f"another process held the migration lock for more than {timeout:.0f}s",
            hint="Wait for the other turnkeep to finish starting, then retry.",
        ) from exc


def apply_pending(
    backend: Any, migrations: Any, *, local: bool, lock_timeout: float = 30.0
) -> MigrationOutcome:
    """Apply pending migrations, deciding what is pending under yoyo's lock.

    Each migration is applied and recorded in one transaction; the first failure stops
    the run, leaving the database as it was before that migration.

    Raises:
        MigrationError: a migration failed (``error.migration`` names it), or the lock
            could not be taken.
    """
    notes: list[str] = []
    try:
        # Stale lock first: yoyo takes its lock to create its own tables, so a migrator
        # killed on a fresh database would otherwise block that step.
        note = break_stale_lock(backend, local=local)
        backend.ensure_internal_schema_updated()
    except LockTimeout as exc:
        raise MigrationError(
            "another process held the migration lock while yoyo's tables were created",
            hint="Wait for the other turnkeep to finish starting, then retry.",
        ) from exc
    except backend.DatabaseError as exc:
        raise MigrationError(f"cannot prepare migrations: {exc}") from exc
    if note:
        notes.append(note)
    applied: list[str] = []
    with _locked(backend, lock_timeout):
        try:
            pending = backend.to_apply(migrations)
        except backend.DatabaseError as exc:
            raise MigrationError(f"cannot read applied migrations: {exc}") from exc
        for migration in pending:
            try:
                backend.apply_one(migration)
            except Exception as exc:
                raise MigrationError(
                    f"migration {migration.id} failed: {' '.join(str(exc).split())}",
                    migration=migration.id,
                ) from exc
            applied.append(migration.id)
    return MigrationOutcome(applied=tuple(applied), notes=tuple(notes))
