"""The seam between turnkeep's SQL and a database: what every driver offers.

Everything above this seam (:mod:`memory.sql`, :mod:`memory.open_file`,
:mod:`memory.open_server`, :mod:`memory.backup`) sends SQL text with positional
arguments and reads plain tuples back; it knows no driver. A driver turns every failure
into an error of :mod:`memory.errors` itself, before it crosses this seam, so nothing
above it ever sees ``sqlite3.Error``, ``libsql_client.LibsqlError`` or ``aiohttp``
exceptions, and no error travels as a string code.

Two drivers: :class:`memory.drivers.sqlite_file.SqliteFileDriver` (a local file on a
dedicated thread) and :class:`memory.drivers.hrana.HranaDriver` (a libSQL server over
Hrana, through libsql-client).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = ["Action", "Driver", "Result", "Statement"]

#: One statement: SQL text and its positional arguments.
Statement = tuple[str, Sequence[Any]]
#: What a failing call was doing; chooses between "cannot open" and "lost" errors.
Action = Literal["open", "query"]


@dataclass(frozen=True, slots=True)
class Result:
    """What one statement returned.

    Attributes:
        rows: the rows, as plain tuples of SQLite values.
        rows_affected: rows changed by an INSERT, UPDATE or DELETE (0 for a read).
        last_insert_rowid: the rowid of the last insert, when the driver reports one.
    """

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    rows_affected: int = 0
    last_insert_rowid: int | None = None


@runtime_checkable
class Driver(Protocol):
    """How statements reach one database. Every method raises only :mod:`memory.errors` types.

    Attributes:
        where: the database, as error messages name it (a path, or a URL without
            credentials).
    """

    where: str

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> Result:
        """Run one statement on its own (autocommit)."""
        ...

    async def rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read and return its rows."""
        ...

    async def page_rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one short, bounded read (a page of a list) and return its rows; a local
        file may answer it on the calling thread when its connection is idle."""
        ...

    async def batch(self, stmts: Sequence[Statement]) -> list[Result]:
        """Run statements in one write transaction (and one round trip): all or nothing."""
        ...

    async def read_batch(self, stmts: Sequence[Statement]) -> list[Result]:
        """Run reads in one consistent snapshot; a local file takes no write lock for them."""
        ...

    async def close(self) -> None:
        """Release the connection. Safe to call twice."""
        ...

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        ...
