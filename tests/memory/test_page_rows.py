"""A page's read skips the database thread's hop only when that cannot reorder or block.

``DatabaseThread.call_now`` runs a call on the caller's thread when nothing is queued
or running; ``SqliteFileDriver.page_rows`` uses it for list pages, and sends the read
through the thread whenever a call is pending or a lock is met.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from memory import open_embedded
from memory.drivers.db_thread import DatabaseThread
from memory.drivers.sqlite_file import SqliteFileDriver
from memory.errors import QueryError, StoreConnectionError


async def test_call_now_runs_on_the_calling_thread_when_nothing_is_pending() -> None:
    thread = DatabaseThread("test-db")
    try:
        assert await thread.submit(threading.get_ident) != threading.get_ident()
        assert thread.call_now(threading.get_ident) == (True, threading.get_ident())
    finally:
        thread.stop()


async def test_call_now_declines_while_a_submitted_call_is_queued_or_running() -> None:
    thread = DatabaseThread("test-db")
    release = threading.Event()
    started = threading.Event()
    ran: list[str] = []

    def slow() -> str:
        started.set()
        release.wait(30)
        ran.append("slow")
        return "slow"

    try:
        running = thread.submit(slow)
        queued = thread.submit(lambda: ran.append("queued"))
        assert thread.call_now(lambda: ran.append("now")) == (False, None)  # maybe not started
        assert started.wait(30)
        assert thread.call_now(lambda: ran.append("now")) == (False, None)  # running
        release.set()
        assert await running == "slow"
        await queued
        assert ran == ["slow", "queued"]  # the declined calls never ran
        assert thread.call_now(lambda: ran.append("now")) == (True, None)
        assert ran == ["slow", "queued", "now"]
    finally:
        release.set()
        thread.stop()


async def test_call_now_lets_the_callers_exception_through_and_stays_usable() -> None:
    thread = DatabaseThread("test-db")

    def broken() -> None:
        raise ValueError("broken call")

    try:
        with pytest.raises(ValueError, match="broken call"):
            thread.call_now(broken)
        assert thread.call_now(lambda: 7) == (True, 7)
        assert await thread.submit(lambda: 8) == 8
    finally:
        thread.stop()


async def test_a_page_read_after_an_unawaited_write_sees_that_write(tmp_path: Path) -> None:
    memory = await open_embedded(tmp_path / "t.db")
    driver = memory.driver
    assert isinstance(driver, SqliteFileDriver)
    try:
        await driver.execute("CREATE TABLE t (x INTEGER)")
        writes = [
            asyncio.ensure_future(driver.batch([("INSERT INTO t VALUES (?)", (i,))]))
            for i in range(50)
        ]
        await asyncio.sleep(0)  # every write submitted, most still queued
        counts = await driver.page_rows("SELECT count(*) FROM t")
        await asyncio.gather(*writes)
        assert counts == [(50,)]
        assert await driver.page_rows("SELECT count(*) FROM t") == [(50,)]
    finally:
        await memory.close()


async def test_a_page_read_here_never_waits_for_a_lock(tmp_path: Path) -> None:
    """Read here, the busy handler is off (a lock fails at once instead of sleeping on
    the event loop); it is back on for everything else."""
    memory = await open_embedded(tmp_path / "t.db")
    driver = memory.driver
    assert isinstance(driver, SqliteFileDriver)
    try:
        assert await driver.page_rows("PRAGMA busy_timeout") == [(0,)]
        assert await driver.rows("PRAGMA busy_timeout") == [(int(driver.busy_timeout * 1000),)]
    finally:
        await memory.close()


class LockedHereDouble:
    """Test double: the read here always meets SQLITE_BUSY. A real reader in WAL mode
    meets a lock only in states no test can hold still (WAL recovery, or another
    connection in exclusive locking mode, which cannot start while this one is open)."""

    def __init__(self) -> None:
        self.threads: list[int] = []

    def __call__(self, conn: sqlite3.Connection, func: object) -> object:
        self.threads.append(threading.get_ident())
        error = sqlite3.OperationalError("database is locked")
        error.sqlite_errorname = "SQLITE_BUSY"
        raise error


async def test_a_page_read_meeting_a_lock_is_read_again_on_the_database_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory = await open_embedded(tmp_path / "t.db")
    driver = memory.driver
    assert isinstance(driver, SqliteFileDriver)
    try:
        await driver.execute("CREATE TABLE t (x INTEGER)")
        await driver.execute("INSERT INTO t VALUES (1)")
        locked = LockedHereDouble()
        monkeypatch.setattr(driver, "_now", locked)
        rows = await driver.page_rows("SELECT x, (SELECT 1) FROM t")
        assert rows == [(1, 1)]
        assert locked.threads == [threading.get_ident()]  # tried here once, then the thread
    finally:
        await memory.close()


async def test_a_driver_not_connected_yet_connects_on_its_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connecting may wait for locks (busy retries): never on the calling thread."""
    path = tmp_path / "t.db"
    memory = await open_embedded(path)
    await memory.close()
    driver = SqliteFileDriver(path)
    connected_on: list[int] = []
    real_connect = driver._connect

    def spied_connect() -> sqlite3.Connection:
        connected_on.append(threading.get_ident())
        return real_connect()

    monkeypatch.setattr(driver, "_connect", spied_connect)
    try:
        assert await driver.page_rows("SELECT 1") == [(1,)]
        assert await driver.page_rows("SELECT 2") == [(2,)]
        assert len(connected_on) == 1 and connected_on[0] != threading.get_ident()
    finally:
        await driver.close()


async def test_a_page_read_raises_turnkeep_errors(tmp_path: Path) -> None:
    memory = await open_embedded(tmp_path / "t.db")
    try:
        with pytest.raises(QueryError, match="no such table"):
            await memory.driver.page_rows("SELECT * FROM no_such_table")
        assert await memory.driver.page_rows("SELECT 1") == [(1,)]
    finally:
        await memory.close()


async def test_a_replaced_database_file_is_left_to_the_database_thread(tmp_path: Path) -> None:
    """Releasing the connection to a replaced file checkpoints, which may wait for other
    connections' locks for the whole busy timeout: never on the caller's thread."""
    path = tmp_path / "t.db"
    memory = await open_embedded(path)
    try:
        driver = memory.driver
        assert isinstance(driver, SqliteFileDriver)
        assert await driver.page_rows("SELECT 1") == [(1,)]  # connected, checked once
        restored = tmp_path / "backup.db"
        shutil.copy(path, restored)
        restored.replace(path)  # a backup restored with mv while the app runs
        done, _ = driver.run_now(lambda conn: conn.execute("SELECT 1").fetchall())
        assert not done
        assert driver._lost is None  # not noticed, nor released, on this thread
        with pytest.raises(StoreConnectionError, match="replaced by another file"):
            await driver.page_rows("SELECT 1")  # through the database thread
        assert driver._lost is not None
    finally:
        await memory.close()
