"""Opening a memory backend deterministically: open, migrate, verify, then ready.

:func:`open_embedded` is the default (a local file); :func:`memory.open_server.open_remote`
is opt-in; :class:`~memory.ephemeral.EphemeralMemory` is used when memory is disabled.
There is no fallback between them: a failure is raised, typed, and nothing is written
anywhere else.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from memory.drivers.sqlite_errors import sqlite_error
from memory.drivers.sqlite_file import SqliteFileDriver, Synchronous, preflight
from memory.errors import MigrationError, NotADatabaseError
from memory.schema.migrate import (
    MigrationOutcome,
    SchemaState,
    load_migrations,
    missing_schema,
    read_schema_state,
)
from memory.schema.on_open import settle_schema
from memory.sql.store import Clock, LibsqlMemory, utc_now

__all__ = ["open_embedded"]

#: Files larger than this skip the full ``quick_check`` at open (it reads every page);
#: the header and schema are still read, and ``turnkeep db status`` offers a full check.
QUICK_CHECK_MAX_BYTES = 64 * 1024 * 1024


def _migrate_file(path: Path, migrations_dir: Path | None) -> MigrationOutcome:
    from memory.schema.yoyo_sqlite import apply_pending, sqlite_backend  # only to migrate

    migrations = load_migrations(migrations_dir)
    try:
        backend = sqlite_backend(path)
    except sqlite3.Error as exc:
        raise sqlite_error(exc, where=str(path), action="open") from exc
    try:
        outcome = apply_pending(backend, migrations, local=True)
        cursor = backend.connection.cursor()
        missing = missing_schema(lambda sql: cursor.execute(sql).fetchall())
    except sqlite3.Error as exc:  # e.g. taking or releasing yoyo's lock on a full disk
        raise sqlite_error(exc, where=str(path), action="open") from exc
    finally:
        backend.connection.close()
    if missing:
        raise MigrationError(
            f"the schema is incomplete after migrating: missing {', '.join(missing)}",
            hint="The database may have been edited by hand; restore it from a backup.",
        )
    return outcome


def _quick_check(conn: sqlite3.Connection) -> list[str]:
    return [str(row[0]) for row in conn.execute("PRAGMA quick_check").fetchall()]


async def open_embedded(
    path: Path,
    *,
    synchronous: Synchronous = "full",
    busy_timeout: float = 5.0,
    migrate: bool = True,
    verify: bool = True,
    migrations_dir: Path | None = None,
    clock: Clock = utc_now,
) -> LibsqlMemory:
    """Open (creating it owner-only if needed) and migrate a local database file.

    Args:
        path: the database file; its directory must exist.
        synchronous: SQLite ``synchronous`` level (WAL is always used).
        busy_timeout: seconds to wait for another writer's lock per attempt.
        migrate: apply pending migrations.
        verify: without ``migrate``, still require a complete schema.
        migrations_dir: migrations to use instead of the project's (tests).
        clock: timestamps source.

    Returns:
        A ready backend; close it with ``await memory.close()``.

    Raises:
        StoreConnectionError: the directory is missing or the file cannot be opened.
        ReadOnlyError: the file or directory is not writable.
        NotADatabaseError: the file is not a SQLite database, is corrupt, or belongs to
            another application; it is left untouched.
        MigrationError: a migration failed (the database is as it was before it).
    """
    where = str(path)
    await asyncio.to_thread(preflight, path, create=True)
    driver = SqliteFileDriver(path, synchronous=synchronous, busy_timeout=busy_timeout)
    try:
        try:
            size = os.stat(path).st_size
        except OSError as exc:
            raise sqlite_error(exc, where=where, action="open") from exc
        if size and size <= QUICK_CHECK_MAX_BYTES:
            problems = await driver.run(_quick_check, action="open")
            if problems != ["ok"]:
                raise NotADatabaseError(
                    f"{where} is not a readable SQLite database: database disk image is "
                    f"malformed: {problems[0]}"
                )
        else:
            await driver.run(lambda conn: conn.execute("SELECT 1").fetchone(), action="open")

        async def read_state() -> SchemaState:
            return await driver.run(
                lambda conn: read_schema_state(lambda sql: conn.execute(sql).fetchall()),
                action="open",
            )

        async def apply(_pending: Sequence[str]) -> MigrationOutcome:
            return await driver.run(
                lambda _conn: _migrate_file(path, migrations_dir), action="open"
            )

        settled = await settle_schema(
            where=where,
            read_state=read_state,
            # A file also goes through yoyo for its first bookkeeping and for a dead
            # migrator's lock, not only for pending migrations.
            pending_of=lambda state, migrations: (
                state.pending(migrations) or ["(yoyo bookkeeping)"]
                if state.needs_migrator(migrations)
                else []
            ),
            apply=apply,
            migrate=migrate,
            verify=verify,
            migrations_dir=migrations_dir,
        )
    except BaseException:
        await driver.close()
        raise
    return LibsqlMemory(
        driver,
        mode="embedded",
        where=where,
        clock=clock,
        migration_ids=settled.migration_ids,
        path=path,
        migration_outcome=settled.outcome,
    )
