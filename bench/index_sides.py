"""The sides a save point's search-index cost is measured with, from one batch of statements.

A save point's batch (``LibsqlMemory._store_statements``) writes its events and, in the
same transaction, one row per event into the word index ``search_words`` (FTS5,
migration 0010) and one into ``search_pending`` (a plain table, 0015), whose rows idle
time later moves into the trigram index ``search_events`` (``settle_search``). The sides:

* :func:`without_index`: no index row (the baseline of the "<= 1.3x" target);
* :func:`only_index`: the rows of one table only (what each costs alone);
* :func:`in_transaction`: the save point as it was before 0015, writing both FTS5 indexes
  (``search_words`` and ``search_events``) in its own transaction;
* :func:`one_token`: index rows with each text column cut to one three-letter token
  (``abc``); on :func:`in_transaction`'s batch, the floor of two FTS5 tables written per
  transaction, whatever the text.

FTS5 writes a new segment for each table at every commit in which a row was added to it
(its in-memory terms are flushed when the transaction commits), plus the table's
structure and averages records; the floor keeps that work and drops only the per-token
part. That floor (1.38x) is why the trigram rows left the save point's transaction.

:func:`count_index_rows` checks afterwards that each side wrote what it claims.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Final, Literal

__all__ = [
    "FLOOR_TOKEN",
    "INDEX_TABLES",
    "count_index_rows",
    "in_transaction",
    "one_token",
    "only_index",
    "without_index",
]

Statements = list[tuple[str, list[Any]]]
IndexTable = Literal["search_words", "search_pending", "search_events"]

#: The tables a save point writes a row into per event.
INDEX_TABLES: Final[tuple[IndexTable, ...]] = ("search_words", "search_pending")
#: Every table an index side may write (the trigram index: :func:`in_transaction`).
_ALL_TABLES: Final[tuple[IndexTable, ...]] = (*INDEX_TABLES, "search_events")
_PENDING_INSERT: Final = "INSERT INTO search_pending (id, "
#: A pending row's case-folded copy (text with non-ASCII cased letters only).
_PENDING_FOLD: Final = "UPDATE search_pending "
_TRIGRAM_INSERT: Final = "INSERT INTO search_events (rowid, "
#: The text of every non-empty index column on the :func:`one_token` side.
FLOOR_TOKEN: Final = "abc"
_ROW_MARKS: Final = "(?, ?, ?, ?)"


def _table_of(sql: str) -> IndexTable | None:
    for table in _ALL_TABLES:
        if sql.startswith(f"INSERT INTO {table} "):
            return table
    return "search_pending" if sql.startswith(_PENDING_FOLD) else None


def without_index(stmts: Statements) -> Statements:
    """``stmts`` without any statement inserting index rows."""
    return [(sql, args) for sql, args in stmts if _table_of(sql) is None]


def only_index(stmts: Statements, table: IndexTable) -> Statements:
    """``stmts`` keeping the index rows of ``table`` only."""
    return [(sql, args) for sql, args in stmts if _table_of(sql) in (None, table)]


def in_transaction(stmts: Statements) -> Statements:
    """``stmts`` writing each pending row straight into the trigram index instead (the
    save point before migration 0015: both FTS5 indexes in its transaction)."""
    return [
        (_TRIGRAM_INSERT + sql[len(_PENDING_INSERT) :], args)
        if sql.startswith(_PENDING_INSERT)
        else (sql, args)
        for sql, args in stmts
        if not sql.startswith(_PENDING_FOLD)
    ]


def one_token(stmts: Statements) -> Statements:
    """``stmts`` with every non-empty text column of every index row set to :data:`FLOOR_TOKEN`.

    An index statement's arguments start with ``(offset, mine, reply, tool)`` per row,
    one ``(?, ?, ?, ?)`` each (``memory.sql.search_statements.event_rows_statements``);
    the rest (session id, claim-check arguments) are kept.
    """
    out: Statements = []
    for sql, args in stmts:
        if _table_of(sql) is None:
            out.append((sql, args))
            continue
        if sql.startswith(_PENDING_FOLD):
            continue  # the token needs no case-folded copy
        rows = sql.count(_ROW_MARKS)
        if rows == 0 or len(args) < 4 * rows:
            raise ValueError(f"not an index statement of (offset, mine, reply, tool): {sql[:80]}")
        cut = list(args)
        for i in range(4 * rows):
            if i % 4 and cut[i]:
                cut[i] = FLOOR_TOKEN
        out.append((sql, cut))
    return out


def count_index_rows(conn: sqlite3.Connection, session_id: str, word: str) -> dict[str, int]:
    """How many events of ``session_id`` have a row in each index table (the FTS5 tables'
    ``%_docsize`` rows, the pending rows), and how many of them hold ``word`` as a word
    (``search_words``)."""
    found: dict[str, int] = {}
    for table in _ALL_TABLES:
        rows = f"{table}_docsize d ON d.id" if table != "search_pending" else f"{table} d ON d.id"
        found[table] = int(
            conn.execute(
                f"SELECT count(*) FROM conversation_events e JOIN {rows} = e.id "
                "WHERE e.session_id = ?",
                (session_id,),
            ).fetchone()[0]
        )
    found["matching"] = int(
        conn.execute(
            "SELECT count(*) FROM search_words w JOIN conversation_events e ON e.id = w.rowid "
            "WHERE search_words MATCH ? AND e.session_id = ?",
            (f'"{word}"', session_id),
        ).fetchone()[0]
    )
    return found
