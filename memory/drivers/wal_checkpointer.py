"""Checkpointing the write-ahead log beside a bulk write, on a thread and connection of its own.

In WAL mode each commit appends pages to the ``-wal`` file; a *checkpoint* copies them
into the database file. SQLite runs one inside the commit that takes the log past
``wal_autocheckpoint`` pages, so a bulk write (``turnkeep import``: hundreds of MB)
spends about a third of its time copying its own earlier transactions: reading the log
and writing the database file, one system call per 4 KiB page, on the writer's thread.

:class:`WalCheckpointer` turns that off for the writing connection and runs the same
``PASSIVE`` checkpoint (it never blocks the writer nor waits for it) from another
connection on its own thread after each commit, so copying overlaps writing. The log
can only start over from its beginning when a write transaction begins while every
frame of it has been copied; :meth:`WalCheckpointer.before_write` (called on the
writer's thread, before its next transaction) waits for that once the log holds more
than ``max_log_bytes``, so the ``-wal`` file stays about that size, as it would with
SQLite's own checkpoints. A crash at any point leaves an ordinary WAL database: every
committed transaction is in the log or the file, and the next open recovers the log.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Final

__all__ = ["MAX_LOG_BYTES", "WalCheckpointer"]

#: The log size past which the writer lets the checkpoint catch up before its next
#: transaction (SQLite's own default is 1,000 pages, about 4 MiB).
MAX_LOG_BYTES: Final = 64 * 1024 * 1024


class WalCheckpointer:
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` on its own connection after each commit.

    Args:
        path: the database file (in WAL mode already).
        synchronous: the ``synchronous`` level the writer uses (a checkpoint syncs the
            log and the file as the writer's own would).
        busy_timeout: seconds its connection waits for a lock (a checkpoint needs none
            but the checkpoint lock, which only another checkpoint holds).
        max_log_bytes: see the module docstring.

    Errors of its connection (opening it, a checkpoint failing) are kept in
    :attr:`error` and stop it; the writer then goes on without waiting for it, and
    whoever turns it on turns SQLite's own checkpoints back on after :meth:`stop`.
    """

    def __init__(
        self,
        path: Path,
        *,
        synchronous: str = "full",
        busy_timeout: float = 5.0,
        max_log_bytes: int = MAX_LOG_BYTES,
    ) -> None:
        self._path = path
        self._synchronous = synchronous
        self._busy_timeout = busy_timeout
        self._max_log_bytes = max_log_bytes
        self._changed = threading.Condition()
        self._wanted = 0  # commits asked to be checkpointed
        self._done = 0  # ... and checkpointed
        self._stopping = False
        self._log_pages = 0  # pages in the log at the last checkpoint
        self._page_size = 4096
        self.error: BaseException | None = None
        #: Checkpoints run, and the times the writer waited for one.
        self.runs = 0
        self.waits = 0
        self._thread = threading.Thread(target=self._serve, name="turnkeep-wal", daemon=True)

    def start(self) -> None:
        """Open the connection (on its thread) and start waiting for commits."""
        self._thread.start()

    def committed(self) -> None:
        """Ask for a checkpoint of what was just committed (returns at once)."""
        with self._changed:
            self._wanted += 1
            self._changed.notify_all()

    def before_write(self) -> None:
        """Before a write transaction: if the log is large, wait until all of it is
        copied, so this transaction starts it over (call on the writer's thread)."""
        with self._changed:
            if self._log_pages * self._page_size <= self._max_log_bytes:
                return
            self.waits += 1
            while self._done < self._wanted and self.error is None and not self._stopping:
                self._changed.wait()

    def stop(self) -> None:
        """Checkpoint what is still asked for, then close the connection and end."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread.is_alive():
            self._thread.join()

    def _serve(self) -> None:
        try:
            conn = sqlite3.connect(
                f"{self._path.resolve().as_uri()}?mode=rw",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
                timeout=self._busy_timeout,
            )
        except sqlite3.Error as exc:
            self._fail(exc)
            return
        try:
            conn.execute(f"PRAGMA synchronous = {self._synchronous.upper()}")
            self._page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
            while True:
                with self._changed:
                    while self._done == self._wanted and not self._stopping:
                        self._changed.wait()
                    if self._done == self._wanted:
                        return
                    wanted = self._wanted
                rows = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                row = rows[0] if rows else None
                with self._changed:
                    self.runs += 1
                    self._log_pages = int(row[1]) if row is not None else 0
                    self._done = wanted
                    self._changed.notify_all()
        except sqlite3.Error as exc:
            self._fail(exc)
        finally:
            conn.close()

    def _fail(self, exc: BaseException) -> None:
        with self._changed:
            self.error = exc
            self._changed.notify_all()
