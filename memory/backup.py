"""A consistent copy of an embedded database, taken while other processes may write.

``VACUUM INTO`` runs on the backend's own database thread (through
:meth:`~memory.drivers.sqlite_file.EmbeddedClient.run`) inside one read transaction, so the copy is
a snapshot of one moment even while another process appends turns: in WAL mode readers
and writers do not block each other. The copy is written to a private temporary file
beside the target, synced, checked with ``PRAGMA integrity_check``, and only then
renamed into place, so a failed backup never leaves a half-written file at the target.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from memory.drivers.sqlite_file import SqliteFileDriver
from memory.errors import QueryError, StoreConfigError
from memory.sql.store import LibsqlMemory

__all__ = ["BackupResult", "backup_embedded"]

_TARGET_CODES = ("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL", "SQLITE_READONLY", "SQLITE_PERM")


@dataclass(frozen=True, slots=True)
class BackupResult:
    """A finished backup.

    Attributes:
        path: the backup file.
        size: its size in bytes.
        integrity: the result of ``PRAGMA integrity_check`` on the copy (``["ok"]``).
    """

    path: Path
    size: int
    integrity: tuple[str, ...]


def _checked_target(source: Path, target: Path) -> Path:
    target = target.expanduser().absolute()
    resolved = source.resolve()
    own = {resolved, *(Path(f"{resolved}{suffix}") for suffix in ("-wal", "-shm", "-journal"))}
    if target.resolve() in own:
        raise StoreConfigError(
            f"{target} is the database itself", hint="Give the backup another file name."
        )
    return target


def _discard(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def _check_copy(path: Path) -> list[str]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return [str(row[0]) for row in conn.execute("PRAGMA integrity_check").fetchall()]
    finally:
        conn.close()


def _sync_and_rename(tmp: Path, target: Path) -> int:
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, target)
    with contextlib.suppress(OSError):  # some filesystems cannot sync a directory
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return target.stat().st_size


async def backup_embedded(memory: LibsqlMemory, target: Path) -> BackupResult:
    """Copy an embedded database to ``target`` (replaced atomically if it exists).

    Args:
        memory: an open embedded backend.
        target: the backup file; its directory must exist. It must not be the database.

    Returns:
        What was written.

    Raises:
        StoreConfigError: ``memory`` is not an embedded file, or ``target`` is the
            database itself (or one of its ``-wal``/``-shm`` files).
        QueryError: the copy cannot be written (permissions, disk full) or failed its
            integrity check; nothing is left at ``target``.
        StoreConnectionError / NotADatabaseError: the database cannot be read.
    """
    driver = memory.driver
    source = memory.path
    if not isinstance(driver, SqliteFileDriver) or source is None:
        raise StoreConfigError(f"{memory.where} is not an embedded database file")
    target = await asyncio.to_thread(_checked_target, source, target)
    try:
        fd, name = await asyncio.to_thread(
            tempfile.mkstemp, dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as exc:
        raise QueryError(
            f"cannot write the backup in {target.parent}: {exc.strerror}",
            hint="Choose a writable directory with enough free space.",
        ) from exc
    os.close(fd)
    tmp = Path(name)
    try:

        def vacuum_into(conn: sqlite3.Connection) -> None:
            try:
                conn.execute("VACUUM INTO ?", (str(tmp),)).fetchall()
            except sqlite3.Error as exc:  # the copy's side failed: say so, not "database"
                code = getattr(exc, "sqlite_errorname", "") or ""
                if code.startswith(_TARGET_CODES):
                    raise QueryError(
                        f"cannot write the backup to {target}: {exc}",
                        hint="Choose a writable directory with enough free space.",
                    ) from exc
                raise

        await driver.run(vacuum_into)
        try:
            problems = await asyncio.to_thread(_check_copy, tmp)
        except sqlite3.Error as exc:
            raise QueryError(f"the backup copy cannot be read back: {exc}") from exc
        if problems != ["ok"]:
            raise QueryError(
                f"the backup copy failed its integrity check: {'; '.join(problems[:3])}",
                hint="Run `turnkeep db status` and check the disk; nothing was written.",
            )
        try:
            size = await asyncio.to_thread(_sync_and_rename, tmp, target)
        except OSError as exc:
            raise QueryError(f"cannot write the backup to {target}: {exc.strerror}") from exc
    except BaseException:
        _discard(tmp)
        raise
    return BackupResult(path=target, size=size, integrity=tuple(problems))
