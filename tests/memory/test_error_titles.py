"""Errors say what happened in words that fit the moment (issue 11, item 10).

Each driver translates its own exceptions (``sqlite_error`` for the local file,
``hrana_error`` for a server); these cases feed them the exact exceptions sqlite3 and
libsql-client raise in those situations.
"""

from __future__ import annotations

import sqlite3

from libsql_client import LibsqlError

from memory import ConnectionLostError, StoreConnectionError
from memory.drivers.hrana_errors import hrana_error
from memory.drivers.sqlite_errors import sqlite_error


def test_a_connection_closed_under_a_save_is_not_called_cannot_open() -> None:
    error = hrana_error(
        LibsqlError("Client was manually closed", "CLIENT_CLOSED"),
        where="ws://127.0.0.1:8080",
        action="query",
    )
    assert isinstance(error, ConnectionLostError)
    assert error.title == "Lost the database connection"
    assert "CLIENT_CLOSED" not in str(error) and "manually" not in str(error)
    assert "retries" in error.hint


def test_a_full_disk_at_start_up_says_so_and_names_no_server() -> None:
    exc = sqlite3.OperationalError("disk I/O error")
    exc.sqlite_errorname = "SQLITE_IOERR_SHMSIZE"
    error = sqlite_error(exc, where="/data/turnkeep.db", action="open")
    assert type(error) is StoreConnectionError
    assert "disk may be full" in str(error)
    assert "server" not in error.hint and "disk space" in error.hint


def test_a_file_that_cannot_be_opened_gets_a_file_hint() -> None:
    exc = sqlite3.OperationalError("unable to open database file")
    exc.sqlite_errorname = "SQLITE_CANTOPEN"
    error = sqlite_error(exc, where="/data/turnkeep.db", action="open")
    assert "server" not in error.hint
    remote = hrana_error(
        LibsqlError("unable to open", "SQLITE_CANTOPEN"), where="wss://db.example", action="open"
    )
    assert "server" in remote.hint
