"""The local file driver: one thread-confined ``sqlite3`` connection (:class:`SqliteFileDriver`).

It implements :class:`memory.drivers.base.Driver` with the standard library only: no
libsql-client and no HTTP stack are imported for the embedded mode. (libsql-client's own
``file:`` mode opens a new connection per call with ``timeout=0``, runs SQLite on the
calling event loop, and accepts a file that is not a database; this driver replaced it.)
Every failure leaves it as an error of :mod:`memory.errors` (see
:func:`memory.drivers.sqlite_errors.sqlite_error`). Its design:

* one persistent connection, owned by one dedicated thread: the event loop never runs
  SQLite, and per-connection settings (WAL, ``synchronous``, ``busy_timeout``) stick;
* a batch is ``BEGIN IMMEDIATE`` ... ``COMMIT``, so writers queue on the busy handler
  instead of failing on lock upgrade; remaining ``SQLITE_BUSY`` is retried with bounded
  exponential backoff;
* the file is checked before it is opened (see :func:`preflight`), so a non-database
  file is reported and never modified;
* a database file replaced or removed while the connection uses it (a backup restored
  with ``mv``, a sync tool's atomic write, an ``rm``) and a WAL file removed under it
  are noticed before the next write, which is refused: SQLite would go on committing
  into the old inode or into a WAL that then sits beside a file it does not belong to
  (corrupting it for every later open). The connection is closed at once (SQLite
  checkpoints into the old inode and removes its own WAL), nothing more is written,
  and every later call says why until turnkeep is restarted.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import time
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypeVar

from memory.busy import BUSY_RETRY_BUDGET, busy_pauses, is_busy_code
from memory.drivers.base import Action, Result, Statement
from memory.drivers.db_thread import DatabaseThread
from memory.drivers.sqlite_errors import sqlite_error
from memory.errors import (
    ConnectionLostError,
    MemoryLayerError,
    NotADatabaseError,
    ReadOnlyError,
    StoreConnectionError,
)

__all__ = ["SQLITE_HEADER", "SqliteFileDriver", "Synchronous", "preflight"]

T = TypeVar("T")
Synchronous = Literal["off", "normal", "full", "extra"]
SQLITE_HEADER = b"SQLite format 3\x00"
#: A directory changed this recently is checked in full: a coarse file timestamp (one
#: clock tick) could hide a second change made in the same tick.
_RECENT_NS = 100_000_000

#: Dirty pages a transaction may hold in memory before SQLite spills them to the WAL
#: (about 16 MiB of 4 KiB pages): a bulk write such as an import's is committed, not
#: spilled. (Not 4096: SQLite reads the number as a boolean too, and 4096 as a byte is 0,
#: which would turn spilling off altogether and let a huge transaction grow in memory.)
SPILL_PAGES = 4000


def preflight(path: Path, *, create: bool) -> bool:
    """Check a database path before SQLite touches it; create it owner-only if asked.

    Args:
        path: the database file.
        create: create the file (mode 0600) when it does not exist.

    Returns:
        True when the file was created by this call.

    Raises:
        StoreConnectionError: the directory does not exist, or the path is not a file.
        ReadOnlyError: the file or its directory cannot be written.
        NotADatabaseError: the file exists and is not a SQLite database.
    """
    parent = path.parent
    if not parent.exists():
        raise StoreConnectionError(
            f"the directory {parent} does not exist",
            hint="Create it, or point TURNKEEP_DB__PATH at an existing directory.",
        )
    if not parent.is_dir():
        raise StoreConnectionError(f"{parent} is not a directory")
    try:
        st = path.stat()
    except FileNotFoundError:
        st = None
    except PermissionError as exc:
        raise ReadOnlyError(f"no permission to access {path}") from exc
    if st is None:
        if not create:
            raise StoreConnectionError(f"the database {path} does not exist")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise ReadOnlyError(f"cannot create a database in {parent}: permission denied")
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return preflight(path, create=False)
        except OSError as exc:
            raise ReadOnlyError(f"cannot create {path}: {exc.strerror}") from exc
        os.close(fd)
        return True
    if not stat.S_ISREG(st.st_mode):
        raise StoreConnectionError(f"{path} is not a regular file")
    if not os.access(path, os.R_OK):
        raise ReadOnlyError(f"no permission to read {path}")
    if st.st_size > 0:
        try:
            with open(path, "rb") as handle:
                header = handle.read(len(SQLITE_HEADER))
        except OSError as exc:
            raise StoreConnectionError(f"cannot read {path}: {exc.strerror}") from exc
        if header != SQLITE_HEADER:
            raise NotADatabaseError(f"{path} is not a SQLite database (its header is wrong)")
    if not os.access(path, os.W_OK) or not os.access(parent, os.W_OK | os.X_OK):
        raise ReadOnlyError(
            f"{path} (or its directory) is not writable",
            hint="turnkeep needs to write the database and its -wal/-shm files beside it.",
        )
    return False


class _Declined(Exception):
    """:meth:`SqliteFileDriver.run_now` leaves the call to the database thread."""


class SqliteFileDriver:
    """The :class:`~memory.drivers.base.Driver` for a local file, on a dedicated thread.

    Args:
        path: the database file (checked by :func:`preflight` beforehand).
        where: how error messages name it (default: the path).
        synchronous: SQLite ``synchronous`` level (WAL mode is always set).
        busy_timeout: seconds SQLite's busy handler waits for a lock per attempt.
        retry_budget: total seconds a busy batch is retried before it is reported as a
            :class:`~memory.errors.StoreBusyError`.
    """

    def __init__(
        self,
        path: Path,
        *,
        where: str | None = None,
        synchronous: Synchronous = "full",
        busy_timeout: float = 5.0,
        retry_budget: float = BUSY_RETRY_BUDGET,
    ) -> None:
        self._path = path
        self.where = where if where is not None else str(path)
        self._synchronous = synchronous
        self._busy_timeout = busy_timeout
        self._retry_budget = retry_budget
        self._thread = DatabaseThread("turnkeep-db")
        self._conn: sqlite3.Connection | None = None
        self._closed = False
        self._wal_id: tuple[int, int] | None = None
        self._wal_dir_mtime: int | None = None
        self._db_id: tuple[int, int] | None = None
        self._db_dir_mtime: int | None = None
        self._shm_id: tuple[int, int] | None = None
        #: Why this driver refuses every call (the database file went away under it).
        self._lost: StoreConnectionError | None = None

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def synchronous(self) -> Synchronous:
        """The connection's SQLite ``synchronous`` level."""
        return self._synchronous

    @property
    def busy_timeout(self) -> float:
        """Seconds SQLite's busy handler waits for a lock per attempt."""
        return self._busy_timeout

    # -- running work on the database thread ---------------------------------------

    async def run(
        self,
        func: Callable[[sqlite3.Connection], T],
        *,
        action: Action = "query",
    ) -> T:
        """Run ``func(connection)`` on the database thread and return its result.

        Whatever ``func`` raises (``sqlite3`` or the operating system) arrives as an
        error of :mod:`memory.errors`; ``action`` says whether the database was being opened.
        """
        if self._closed:
            raise ConnectionLostError(
                f"the connection to {self.where} was closed",
                hint="This happens when turnkeep is shutting down; start it again.",
            )
        try:
            return await self._thread.submit(lambda: self._call(func))
        except (sqlite3.Error, OSError, UnicodeEncodeError) as exc:
            raise sqlite_error(exc, where=self.where, action=action) from exc

    def _call(self, func: Callable[[sqlite3.Connection], T]) -> T:
        if self._lost is not None:
            raise self._lost
        if self._conn is not None:
            self._check_database()
        return func(self._connection())

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def _connect(self) -> sqlite3.Connection:
        uri = f"{self._path.resolve().as_uri()}?mode=rw"
        conn = sqlite3.connect(
            uri,
            uri=True,
            isolation_level=None,
            check_same_thread=False,
            timeout=self._busy_timeout,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            # Inspect before anything that writes (journal_mode rewrites the header).
            self._retry_busy(lambda: inspect_foreign(conn, self.where))
            mode = self._retry_busy(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone())
            if mode is None or str(mode[0]).lower() != "wal":
                raise ReadOnlyError(f"{self.where}: could not enable WAL (got {mode!r})")
            conn.execute(f"PRAGMA synchronous = {self._synchronous.upper()}")
            # Dirty pages go to the WAL before the commit only past SPILL_PAGES (SQLite's
            # default: the cache size, 2 MiB). A spilled page changed again is rewritten
            # in place, and the commit then re-reads and re-checksums every WAL frame
            # after it: for an import's 4 MiB transactions that doubled the WAL writes.
            conn.execute(f"PRAGMA cache_spill = {SPILL_PAGES}")
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()  # opens the WAL
            self._wal_id = _file_id(self._wal_path)
            self._db_id = _file_id(self._db_path)
            self._shm_id = _file_id(Path(f"{self._db_path}-shm"))
        except BaseException:
            conn.close()
            raise
        return conn

    def _retry_busy(self, func: Callable[[], T]) -> T:
        """Call ``func``, retrying SQLITE_BUSY with the shared backoff (:mod:`memory.busy`)."""
        pauses = busy_pauses(self._retry_budget)
        while True:
            try:
                return func()
            except sqlite3.OperationalError as exc:
                code = getattr(exc, "sqlite_errorname", "")
                if not is_busy_code(code) or (pause := next(pauses, None)) is None:
                    raise
            time.sleep(pause)

    # -- Driver -----------------------------------------------------------------------

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> Result:
        """Run one statement (autocommit)."""
        return await self.run(lambda conn: self._retry_busy(lambda: _execute(conn, sql, args)))

    async def rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read and return its rows (the hot path for recall and listing)."""
        return await self.run(
            lambda conn: self._retry_busy(lambda: conn.execute(sql, args).fetchall())
        )

    async def page_rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one short, bounded read (a page of a list) and return its rows.

        Read at once on this thread when the database thread is idle
        (:meth:`run_now`), else through :meth:`rows`.
        """
        done, rows = self.run_now(lambda conn: conn.execute(sql, args).fetchall())
        if done and rows is not None:
            return rows
        return await self.rows(sql, args)

    def run_now(self, func: Callable[[sqlite3.Connection], T]) -> tuple[bool, T | None]:
        """Run ``func(connection)`` at once on the calling thread, if that is safe.

        Only when the connection is open and the database thread idle
        (:meth:`DatabaseThread.call_now`: a call submitted earlier still runs first), so
        order is kept; the caller blocks for ``func`` itself, which must be short. The
        busy handler is off meanwhile: a reader in WAL mode takes no lock a writer
        holds, and this connection being open keeps any other from taking the
        exclusive lock of a last close, but should a lock be met anyway (another
        connection in exclusive locking mode) SQLITE_BUSY comes back at once instead of
        sleeping here.

        Returns:
            ``(True, result)``; ``(False, None)`` when not run, or when it met a lock:
            the caller then goes through the database thread, where a lock is waited
            for.

        Raises:
            MemoryLayerError: any other failure, translated as :meth:`run` does.
        """
        if self._closed or self._conn is None:  # connecting may wait for locks
            return False, None
        try:
            return self._thread.call_now(lambda: self._call_now(func))
        except _Declined:
            return False, None
        except sqlite3.OperationalError as exc:
            if is_busy_code(getattr(exc, "sqlite_errorname", "")):
                return False, None
            raise sqlite_error(exc, where=self.where, action="query") from exc
        except (sqlite3.Error, OSError, UnicodeEncodeError) as exc:
            raise sqlite_error(exc, where=self.where, action="query") from exc

    def _call_now(self, func: Callable[[sqlite3.Connection], T]) -> T:
        """:meth:`_call` for :meth:`run_now`: a replaced database file is left to the
        database thread, where releasing this connection may wait for other
        connections' locks (:meth:`_release` checkpoints)."""
        if self._lost is not None:
            raise self._lost
        if self._replaced():
            raise _Declined
        return self._now(self._connection(), func)

    def _now(self, conn: sqlite3.Connection, func: Callable[[sqlite3.Connection], T]) -> T:
        """``func(conn)`` with the busy handler off (a lock fails at once)."""
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            return func(conn)
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")

    async def batch(self, stmts: Sequence[Statement]) -> list[Result]:
        """Run statements in one ``BEGIN IMMEDIATE`` transaction; all or nothing.

        Raises:
            StoreConnectionError: the WAL file was removed while this driver had it open
                (nothing is written: a commit would only reach the removed file).
        """

        def write(conn: sqlite3.Connection) -> list[Result]:
            self._check_files()
            results = self._retry_busy(lambda: _run_batch(conn, stmts))
            if self._wal_id is None:
                self._wal_id = _file_id(self._wal_path)
            return results

        return await self.run(write)

    async def batch_each(
        self, groups: Sequence[tuple[Sequence[Statement], Callable[[list[Result]], None]]]
    ) -> list[list[Result] | MemoryLayerError]:
        """Run groups of statements in one ``BEGIN IMMEDIATE`` transaction, each group
        inside its own ``SAVEPOINT``: a group that fails is rolled back alone.

        Each group comes with a check, called (on the database thread) with the group's
        results before its savepoint is released; whatever error of
        :mod:`memory.errors` it raises rolls the group back too. A constraint that a
        statement violates does the same. Any other failure (the disk, a lock, the
        connection) rolls the whole transaction back and is raised.

        Returns:
            For each group, its results, or the error that rolled it back.
        """

        def write(conn: sqlite3.Connection) -> list[list[Result] | MemoryLayerError]:
            self._check_files()
            outcomes = self._retry_busy(lambda: _run_groups(conn, groups, self.where))
            if self._wal_id is None:
                self._wal_id = _file_id(self._wal_path)
            return outcomes

        return await self.run(write)

    @cached_property
    def _db_path(self) -> Path:
        # Resolved once: every save point checks it, and resolve() costs a system call
        # per path component; SQLite keeps using the file it opened anyway.
        return self._path.resolve()

    @cached_property
    def _db_dir(self) -> str:
        # As a string: a Path's parent is a new object to build and format at every call.
        return str(self._db_path.parent)

    @cached_property
    def _wal_path(self) -> Path:
        return Path(f"{self._db_path}-wal")

    def _replaced(self) -> bool:
        """Whether the path no longer names the file this connection opened (one
        ``stat`` of the directory unless its entries changed)."""
        if self._db_id is None:
            return False
        changed = os.stat(self._db_dir).st_mtime_ns
        if changed == self._db_dir_mtime and time.time_ns() - changed > _RECENT_NS:
            return False
        if _file_id(self._db_path) == self._db_id:
            self._db_dir_mtime = changed
            return False
        return True

    def _check_database(self) -> None:
        """Refuse every call once the path no longer names the file this connection opened.

        Checked before each call, reads included, so an idle app that polls notices a
        restored backup within one poll and removes its WAL from beside the new file.
        Costs one ``stat`` of the directory unless its entries changed.
        """
        if not self._replaced():
            return
        gone = not self._db_path.exists()
        self._lost = StoreConnectionError(
            f"the database file {self._path} was "
            + ("deleted" if gone else "replaced by another file")
            + " while turnkeep was running; nothing more is written to it, and "
            "unsaved turns stay queued",
            hint="Quit and start turnkeep again to use the file now at that path "
            "(unsaved turns are reported when you quit). Replace or delete a "
            "database only while turnkeep is not running.",
        )
        self._release()
        raise self._lost

    def _check_files(self) -> None:
        """Refuse to write once the database or WAL this connection uses left its path.

        SQLite keeps writing to a file that was deleted or replaced under it: the
        commits look saved, no other process can see them, and a crash loses them; a
        replaced database gets this connection's WAL beside it, which corrupts it. While
        this connection is open SQLite never removes or replaces these files itself.

        The WAL itself is stat'ed only when its directory changed: querying a file's
        timestamps makes the next write to it take a fine-grained time (Linux multigrain
        timestamps), and on ext4 each save point's fsync then also journals the WAL's
        inode, about 50 us a save point (``bash scripts/bench``, scenario 1). A WAL can
        only vanish or be replaced through a change to its directory's entries.
        """
        if self._wal_id is None:
            return
        changed = os.stat(self._wal_path.parent).st_mtime_ns
        if changed == self._wal_dir_mtime and time.time_ns() - changed > _RECENT_NS:
            return
        if _file_id(self._wal_path) != self._wal_id:
            raise StoreConnectionError(
                f"the write-ahead log {self._wal_path} was removed while turnkeep was "
                "running; nothing more is written to the database until turnkeep restarts",
                hint="Restart turnkeep (turns saved so far are kept; unsaved ones are "
                "reported). Never delete the -wal file of a database in use.",
            )
        self._wal_dir_mtime = changed

    async def read_batch(self, stmts: Sequence[Statement]) -> list[Result]:
        """Run reads in one deferred transaction: one consistent snapshot, no write lock.

        In WAL mode a reader never blocks a writer, so an export or backup of many
        sessions does not stall the persistence worker of a running app.
        """
        return await self.run(
            lambda conn: self._retry_busy(lambda: _run_batch(conn, stmts, begin="BEGIN"))
        )

    async def close(self) -> None:
        """Close the connection and stop the thread. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._thread.submit(self._close_conn)
        finally:
            self._thread.stop()

    def _release(self) -> None:
        """Close the connection (on the database thread) after its file went away.

        SQLite does not remove the WAL of a database file that was moved or unlinked
        (it sees ``SQLITE_READONLY_DBMOVED``), and a WAL left at ``<path>-wal`` would be
        replayed into whatever file is now at the path, corrupting it. So the WAL and
        shared-memory files *this connection opened* (same device and inode) are
        checkpointed into the old file where SQLite allows it, then removed; files
        another process created at those paths are left alone.
        """
        wal_ours = self._wal_id is not None and _file_id(self._wal_path) == self._wal_id
        shm_path = Path(f"{self._db_path}-shm")
        shm_ours = self._shm_id is not None and _file_id(shm_path) == self._shm_id
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        try:
            self._close_conn()
        except sqlite3.Error:
            self._conn = None
        for path, ours, expected in (
            (self._wal_path, wal_ours, self._wal_id),
            (shm_path, shm_ours, self._shm_id),
        ):
            if ours and _file_id(path) == expected:
                with contextlib.suppress(OSError):
                    path.unlink()

    def _close_conn(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed


def _execute(conn: sqlite3.Connection, sql: str, args: Sequence[Any]) -> Result:
    cursor = conn.execute(sql, args)
    rows = cursor.fetchall()
    affected = cursor.rowcount
    return Result(rows, affected if affected > 0 else 0, cursor.lastrowid)


def _run_batch(
    conn: sqlite3.Connection, stmts: Sequence[Statement], *, begin: str = "BEGIN IMMEDIATE"
) -> list[Result]:
    conn.execute(begin)
    try:
        results = [_execute(conn, sql, args) for sql, args in stmts]
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return results


def _run_groups(
    conn: sqlite3.Connection,
    groups: Sequence[tuple[Sequence[Statement], Callable[[list[Result]], None]]],
    where: str,
) -> list[list[Result] | MemoryLayerError]:
    conn.execute("BEGIN IMMEDIATE")
    outcomes: list[list[Result] | MemoryLayerError] = []
    try:
        for stmts, check in groups:
            conn.execute("SAVEPOINT import_group")
            try:
                results = [_execute(conn, sql, args) for sql, args in stmts]
                check(results)
            except (sqlite3.IntegrityError, MemoryLayerError) as exc:
                conn.execute("ROLLBACK TO import_group")
                error = sqlite_error(exc, where=where)
                if error is not exc:
                    error.__cause__ = exc
                outcomes.append(error)
            else:
                outcomes.append(results)
            conn.execute("RELEASE import_group")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return outcomes


def _file_id(path: Path) -> tuple[int, int] | None:
    """(device, inode) of a file, or ``None`` when it does not exist."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


#: Tables a turnkeep database may hold besides its own and SQLite's internals.
_OWN_TABLES = frozenset(
    {
        "sessions",
        "conversation_events",
        "session_state",
        "save_points",
        # the search index (0004, with the word index of 0009) and its FTS5 shadow tables
        "search_progress",
        "search_title_keys",
        # organize (0005), vectors (0006), row counts (0008)
        "session_tags",
        "session_tags_recent",
        "event_vectors",
        "vector_state",
        "row_counts",
        *(
            f"search_{t}{s}"
            for t in ("events", "titles", "words")
            for s in ("", "_config", "_content", "_data", "_docsize", "_idx")
        ),
        "_yoyo_migration",
        "_yoyo_log",
        "_yoyo_version",
        "yoyo_lock",
    }
)


def inspect_foreign(conn: sqlite3.Connection, where: str) -> None:
    """Refuse a database that belongs to another application.

    Reading ``sqlite_master`` also detects a corrupt or non-database file before
    anything is written to it.

    Raises:
        NotADatabaseError: the file has tables but none of turnkeep's bookkeeping.
        sqlite3.Error: the file cannot be read (the caller translates it).
    """
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    names = {row[0] for row in rows}
    if names and "_yoyo_migration" not in names and not names <= _OWN_TABLES:
        shown = ", ".join(sorted(names)[:5])
        raise NotADatabaseError(
            f"{where}: the file is a SQLite database of another application (tables: {shown})"
        )
