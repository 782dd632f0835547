"""Busy contention on the embedded file: waited out and retried, or a typed error."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from memory import EventDraft, StoreBusyError, open_embedded
from memory.drivers.sqlite_file import SqliteFileDriver


def hold_write_lock(path: Path, release: threading.Event) -> threading.Thread:
    """Hold the database's write lock from another connection until ``release``."""
    locked = threading.Event()

    def run() -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(30)
        conn.execute("ROLLBACK")
        conn.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert locked.wait(10)
    return thread


async def test_store_waits_for_another_writer_and_succeeds(db_path: Path) -> None:
    memory = await open_embedded(db_path, busy_timeout=0.05)  # retries beyond the handler
    try:
        release = threading.Event()
        holder = hold_write_lock(db_path, release)
        task = asyncio.create_task(memory.store("s", [EventDraft("user", {"content": "x"})]))
        await asyncio.sleep(0.3)
        assert not task.done()  # it is waiting for the lock, not failing
        release.set()
        assert await task == [1]
        holder.join(10)
    finally:
        await memory.close()


async def test_contention_beyond_the_retry_budget_is_a_busy_error(db_path: Path) -> None:
    memory = await open_embedded(db_path)
    await memory.close()
    client = SqliteFileDriver(db_path, busy_timeout=0.01, retry_budget=0.2)
    release = threading.Event()
    holder = hold_write_lock(db_path, release)
    try:
        from memory.sql.store import LibsqlMemory

        blocked = LibsqlMemory(client, mode="embedded", where=str(db_path))
        with pytest.raises(StoreBusyError):
            await blocked.store("s", [EventDraft("user", {"content": "x"})])
    finally:
        release.set()
        holder.join(10)
        await client.close()
    reopened = await open_embedded(db_path)
    try:
        assert await reopened.find_session("s") is None  # nothing half-stored
    finally:
        await reopened.close()
