"""Opening bad targets: each gives a typed error and leaves the file as it was."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from memory import (
    EventDraft,
    MemoryLayerError,
    NotADatabaseError,
    ReadOnlyError,
    StoreConnectionError,
    open_embedded,
)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_missing_directory_is_a_connection_error(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir" / "t.db"
    with pytest.raises(StoreConnectionError) as info:
        await open_embedded(target)
    assert "does not exist" in str(info.value)
    assert not (tmp_path / "no").exists()


async def test_parent_that_is_a_file_is_a_connection_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(StoreConnectionError):
        await open_embedded(blocker / "t.db")
    assert blocker.read_text() == "x"


async def test_unwritable_location_is_a_typed_error() -> None:
    # /proc refuses new files even for root, so this holds in CI (which runs as root).
    with pytest.raises(MemoryLayerError) as info:
        await open_embedded(Path("/proc/turnkeep-test.db"))
    assert isinstance(info.value, (ReadOnlyError, StoreConnectionError))


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
async def test_read_only_file_is_refused_and_untouched(db_path: Path) -> None:
    memory = await open_embedded(db_path)
    await memory.store("s", [EventDraft("user", {"content": "x"})])
    await memory.close()
    before = digest(db_path)
    db_path.chmod(0o400)
    with pytest.raises(ReadOnlyError):
        await open_embedded(db_path)
    assert digest(db_path) == before


async def test_directory_path_is_a_connection_error(tmp_path: Path) -> None:
    with pytest.raises(StoreConnectionError):
        await open_embedded(tmp_path)


@pytest.mark.parametrize(
    "content",
    [
        b"hello, I am a text file\n" * 100,
        os.urandom(8192),
        b"SQLite format 2\x00" + b"\x00" * 4080,
    ],
    ids=["text", "random-bytes", "wrong-header"],
)
async def test_non_database_file_is_refused_byte_identical(db_path: Path, content: bytes) -> None:
    db_path.write_bytes(content)
    before = digest(db_path)
    with pytest.raises(NotADatabaseError) as info:
        await open_embedded(db_path)
    assert str(db_path) in str(info.value)
    assert digest(db_path) == before
    assert not Path(f"{db_path}-wal").exists()


async def test_truncated_database_is_refused_untouched(db_path: Path) -> None:
    memory = await open_embedded(db_path)
    await memory.store("s", [EventDraft("user", {"content": "x" * 5000}) for _ in range(50)])
    await memory.close()
    data = db_path.read_bytes()
    db_path.write_bytes(data[: len(data) // 3])
    before = digest(db_path)
    with pytest.raises(NotADatabaseError):
        await open_embedded(db_path)
    assert digest(db_path) == before


async def test_database_of_another_application_is_refused_untouched(db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        conn.execute("INSERT INTO invoices (total) VALUES (9.5)")
    conn.close()
    before = digest(db_path)
    with pytest.raises(NotADatabaseError) as info:
        await open_embedded(db_path)
    assert "another application" in str(info.value)
    assert digest(db_path) == before


async def test_new_database_is_readable_only_by_its_owner(db_path: Path) -> None:
    memory = await open_embedded(db_path)
    await memory.store("s", [EventDraft("user", {"content": "x"})])
    await memory.close()
    assert db_path.stat().st_mode & 0o777 == 0o600


async def test_empty_file_is_initialised(db_path: Path) -> None:
    db_path.touch()
    memory = await open_embedded(db_path)
    try:
        assert await memory.store("s", [EventDraft("user", {"content": "x"})]) == [1]
    finally:
        await memory.close()


async def test_corrupt_page_is_detected_at_open_and_untouched(db_path: Path) -> None:
    memory = await open_embedded(db_path)
    await memory.store("s", [EventDraft("user", {"content": "y" * 3000}) for _ in range(40)])
    await memory.close()
    with sqlite3.connect(db_path) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(db_path.read_bytes())
    start = page_size * 4  # a b-tree page well inside the file
    data[start : start + 64] = os.urandom(64)
    db_path.write_bytes(bytes(data))
    before = digest(db_path)
    with pytest.raises(NotADatabaseError):
        await open_embedded(db_path)
    assert digest(db_path) == before
