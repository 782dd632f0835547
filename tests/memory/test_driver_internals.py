"""The driver seam, and the private dependency internals behind it that must not drift.

libsql-client is archived upstream at 0.3.1 and yoyo's SQLite backend is extended, not
wrapped. The few private names turnkeep relies on live in one module each
(:mod:`memory.drivers.hrana`, :mod:`memory.schema.hrana_dbapi`,
:mod:`memory.schema.migrate`); these tests fail loudly, naming the module to fix, when a
dependency update changes them.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from memory import open_embedded
from memory.drivers.base import Driver, Result
from memory.drivers.hrana import HranaDriver, create_client
from memory.drivers.sqlite_file import SPILL_PAGES, SqliteFileDriver
from memory.errors import ConnectionLostError, NotADatabaseError, QueryError, StoreBusyError


def _parameters(func: object) -> list[str]:
    return list(inspect.signature(func).parameters)  # type: ignore[arg-type]


def test_libsql_client_is_the_version_the_hrana_driver_was_verified_against() -> None:
    version = importlib.metadata.version("libsql-client")
    assert version == "0.3.1", (
        f"libsql-client {version}: re-verify memory/drivers/hrana.py (_Conn, _WsClient, "
        "create_client) and memory/schema/hrana_dbapi.py against it, then update this test"
    )


def test_the_private_hrana_names_memory_drivers_hrana_uses_are_unchanged() -> None:
    from libsql_client.config import _expand_config
    from libsql_client.hrana.client import HranaClient, _config_to_url
    from libsql_client.hrana.conn import HranaConn

    assert _parameters(_expand_config) == ["url", "auth_token", "tls"]
    assert _parameters(_config_to_url) == ["config"]
    assert _parameters(HranaClient.__init__) == ["self", "url", "auth_token"]
    assert _parameters(HranaClient._open_conn) == ["self"]
    assert _parameters(HranaConn.__init__)[:4] == ["self", "session", "url", "auth_token"]
    assert _parameters(HranaConn._do_connect) == ["self", "session", "url"]
    # _WsClient._open_conn reads these attributes HranaClient.__init__ sets.
    assert {"_session", "_url", "_auth_token"} <= set(
        inspect.getsource(HranaClient.__init__).replace("self.", " ").split()
    )


async def test_create_client_raises_the_websocket_read_limit() -> None:
    client = create_client("ws://127.0.0.1:9", auth_token=None)
    try:
        assert type(client).__name__ == "_WsClient"
    finally:
        await client.close()


def test_the_dbapi2_internals_memory_schema_hrana_dbapi_overrides_are_unchanged() -> None:
    from libsql_client.dbapi2 import DatabaseError, OperationalError
    from libsql_client.dbapi2.hrana import ConnectionHrana, CursorHrana

    # yoyo treats these as database errors only because they are sqlite3's own classes.
    assert OperationalError is sqlite3.OperationalError
    assert DatabaseError is sqlite3.DatabaseError
    assert hasattr(CursorHrana, "_query_execute")
    assert hasattr(ConnectionHrana, "_raw_init")
    # HranaConnection.timeout reads the request bound dbapi2's Connection keeps.
    assert "self._timeout = timeout" in inspect.getsource(ConnectionHrana.__mro__[1])


def test_yoyos_sqlite_backend_still_has_what_memory_schema_migrate_extends() -> None:
    from yoyo.backends.core.sqlite3 import SQLiteBackend

    for name in ("connect", "transaction", "apply_one", "mark_one", "log_migration"):
        assert hasattr(SQLiteBackend, name), f"yoyo's SQLiteBackend lost {name}"


def test_both_drivers_implement_the_seam() -> None:
    members = {"execute", "rows", "page_rows", "batch", "read_batch", "close", "closed"}
    for driver in (SqliteFileDriver, HranaDriver):
        assert members <= set(dir(driver)), driver
    file_driver: Driver = SqliteFileDriver(Path("unused.db"))  # mypy checks the protocol
    assert file_driver.where == "unused.db"


def test_the_sql_layer_and_the_embedded_open_import_no_server_stack(tmp_path: Path) -> None:
    """Opening a local file imports neither libsql-client nor aiohttp (start-up time)."""
    code = (
        "import asyncio, sys, pathlib\n"
        "import memory\n"
        "async def main():\n"
        f"    m = await memory.open_embedded(pathlib.Path({str(tmp_path / 'x.db')!r}))\n"
        "    await m.store('s', [memory.EventDraft('user', {'content': 'hi'})])\n"
        "    await m.close()\n"
        "asyncio.run(main())\n"
        "print(sorted(n for n in ('libsql_client', 'aiohttp', 'yoyo') if n in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert out.strip().splitlines()[-1] == "['yoyo']"  # yoyo migrates the new file


async def test_the_file_driver_returns_plain_tuples_and_counts(tmp_path: Path) -> None:
    memory = await open_embedded(tmp_path / "t.db")
    driver = memory.driver
    try:
        results = await driver.batch(
            [
                ("CREATE TEMP TABLE t (x INTEGER)", ()),
                ("INSERT INTO t VALUES (?), (?)", (1, 2)),
                ("SELECT x FROM t ORDER BY x", ()),
            ]
        )
        assert results[1] == Result([], 2, results[1].last_insert_rowid)
        assert results[2].rows == [(1,), (2,)]
        assert await driver.rows("SELECT x FROM t WHERE x > ?", (1,)) == [(2,)]
    finally:
        await memory.close()


async def test_the_file_driver_raises_turnkeep_errors_only(tmp_path: Path) -> None:
    memory = await open_embedded(tmp_path / "t.db")
    driver = memory.driver
    with pytest.raises(QueryError) as failed:
        await driver.execute("SELECT * FROM no_such_table")
    assert "no such table" in str(failed.value) and str(tmp_path) in str(failed.value)
    assert not isinstance(failed.value.__cause__, QueryError)  # the sqlite3 error is kept
    await memory.close()
    with pytest.raises(ConnectionLostError):
        await driver.execute("SELECT 1")


async def test_a_foreign_database_is_refused_with_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.close()
    with pytest.raises(NotADatabaseError, match="another application"):
        await open_embedded(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("invoices",)]
    conn.close()


def test_busy_is_a_typed_error_not_a_code() -> None:
    from memory.drivers.sqlite_errors import sqlite_error

    exc = sqlite3.OperationalError("database is locked")
    exc.sqlite_errorname = "SQLITE_BUSY"  # type: ignore[attr-defined]
    assert isinstance(sqlite_error(exc, where="/x.db"), StoreBusyError)


def test_migrations_are_listed_without_yoyo_exactly_as_yoyo_reads_them() -> None:
    """Opening an up-to-date database decides "nothing pending" without importing yoyo."""
    from memory.schema.migrate import list_migrations, load_migrations

    ours = [(m.id, m.hash) for m in list_migrations()]
    yoyos = [(m.id, m.hash) for m in load_migrations()]
    assert ours == yoyos and len(ours) >= 8


async def test_dirty_pages_are_not_spilled_before_a_bulk_transaction_commits(
    tmp_path: Path,
) -> None:
    """A transaction's dirty pages stay in memory up to SPILL_PAGES: an import's
    multi-megabyte batch is written to the WAL once, at its commit (a spilled page that
    changes again is rewritten, and the commit re-reads every frame after it)."""
    path = tmp_path / "spill.db"
    await (await open_embedded(path)).close()  # a turnkeep database
    driver = SqliteFileDriver(path)
    try:
        spill = await driver.run(lambda conn: conn.execute("PRAGMA cache_spill").fetchone()[0])
        cache = await driver.run(lambda conn: conn.execute("PRAGMA cache_size").fetchone()[0])
    finally:
        await driver.close()
    pages_in_default_cache = -cache * 1024 // 4096 if cache < 0 else cache
    assert spill == SPILL_PAGES > pages_in_default_cache
