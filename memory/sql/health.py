"""What ``db status`` reads besides the engine version: row counts and applied migrations.

Row counts come from ``row_counts`` (migration ``0008.counts``), kept exact by triggers,
so a status call reads three rows whatever the database's size. A database that has
not applied 0008 yet (``db status`` opens without migrating) is counted the slow way,
with ``count(*)``, which is exact too. Everything is read in one read batch: one
snapshot, one round trip to a remote server.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any, Final

from memory.drivers.base import Result, Statement

__all__ = ["COUNTED_TABLES", "read_counts_and_migrations"]

#: The tables ``db status`` reports a row count for, in report order.
COUNTED_TABLES: Final = ("sessions", "conversation_events", "session_state")

ReadBatch = Callable[[Sequence[Statement]], Awaitable[list[Result]]]


async def read_counts_and_migrations(
    read_batch: ReadBatch, tables: Collection[str]
) -> tuple[dict[str, int], tuple[str, ...]]:
    """Row counts of :data:`COUNTED_TABLES` and the applied migration ids, in one batch.

    Args:
        read_batch: the backend's read batch (one snapshot, one round trip).
        tables: the tables the database has (``sqlite_master``).

    Returns:
        ``(counts, applied)``: counts of the tables that exist; migration ids in the
        order they were applied (empty when yoyo's table is missing).
    """
    present = [table for table in COUNTED_TABLES if table in tables]
    stmts: list[tuple[str, list[Any]]] = []
    if "row_counts" in tables:
        stmts.append(("SELECT name, rows FROM row_counts", []))
    else:
        stmts += [(f"SELECT '{table}', count(*) FROM {table}", []) for table in present]
    migrations = "_yoyo_migration" in tables
    if migrations:
        stmts.append(("SELECT migration_id FROM _yoyo_migration ORDER BY applied_at_utc", []))
    if not stmts:
        return {}, ()
    results = await read_batch(stmts)
    applied: tuple[str, ...] = ()
    if migrations:
        applied = tuple(str(row[0]) for row in results[-1].rows)
        results = results[:-1]
    found = {str(row[0]): int(row[1]) for result in results for row in result.rows}
    return {table: found[table] for table in present if table in found}, applied
