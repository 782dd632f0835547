"""The import's checkpoints beside its batches (``memory.drivers.wal_checkpointer``): the
log stays near its bound, everything written is in the file, SQLite's own checkpoints
come back afterwards, and a checkpointer that cannot work never holds the writer up."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from memory import open_embedded
from memory.drivers.wal_checkpointer import WalCheckpointer
from memory.sql.store import LibsqlMemory
from tests.conftest import FrozenClock
from tests.memory.test_imported_batch import _create

#: Each append: 5 events of 10 KB (with their index rows, about 45 pages of the log).
TEXT = "checkpoint me " * 700
BOUND = 512 * 1024


async def test_the_log_stays_bounded_and_everything_reaches_the_file(
    tmp_path: Path, clock: FrozenClock
) -> None:
    db = tmp_path / "bulk.db"
    memory = await open_embedded(db, clock=clock)
    assert isinstance(memory, LibsqlMemory)
    try:
        assert await memory.begin_bulk_write(max_log_bytes=BOUND)
        checkpointer = memory._bulk_checkpointer
        assert checkpointer is not None
        assert await memory.begin_bulk_write() is False  # one at a time
        assert await memory.driver.rows("PRAGMA wal_autocheckpoint") == [(0,)]
        largest = 0
        for n in range(120):
            assert await memory.append_imported_many([_create(f"s{n}", [TEXT] * 5)]) == {}
            largest = max(largest, (tmp_path / "bulk.db-wal").stat().st_size)
        await memory.end_bulk_write()
        assert checkpointer.error is None
        # (One checkpoint covers every commit made while it was busy with another.)
        assert 1 <= checkpointer.runs <= 120
        # The last commits' pages are in the file itself too (read without the log).
        alone = tmp_path / "alone.db"
        shutil.copyfile(db, alone)
        conn = sqlite3.connect(alone)
        try:
            assert conn.execute("SELECT count(*) FROM conversation_events").fetchone() == (600,)
        finally:
            conn.close()
        assert checkpointer.waits >= 1  # the log passed its bound and started over
        # The -wal file keeps the largest extent the log reached: the bound, the appends
        # committed before a checkpoint reported it, and a transaction that merged the
        # index's segments (a burst of pages). Far less than was written through it.
        assert largest < 4 * 1024 * 1024
        assert db.stat().st_size > 4 * largest
        assert await memory.driver.rows("PRAGMA wal_autocheckpoint") == [(1000,)]
        assert len(await memory.recall("s119")) == 5
    finally:
        await memory.close()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("SELECT count(*) FROM conversation_events").fetchone() == (600,)
    finally:
        conn.close()


def test_a_checkpointer_that_cannot_open_its_file_never_blocks(tmp_path: Path) -> None:
    checkpointer = WalCheckpointer(tmp_path / "missing" / "x.db", max_log_bytes=0)
    checkpointer.start()
    checkpointer.committed()
    checkpointer.stop()
    assert isinstance(checkpointer.error, sqlite3.Error)
    checkpointer.committed()
    checkpointer._log_pages = 10  # as if the log were past its bound
    checkpointer.before_write()  # returns: nobody is checkpointing
    assert checkpointer.runs == 0
