"""Search for the in-process backend: the same index and SQL as the database.

:class:`SearchMirror` keeps a private in-memory SQLite database holding what search
reads (session ids, titles, event keys and kinds) and the full-text tables created by
the very migrations the database uses (``0004.search``, ``0010.search-words``,
``0015.search-pending``: its pending rows stay empty here, every row is written whole), and
runs the same statements from :mod:`memory.sql.search_statements`, so both backends
rank, fold and snippet identically.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from memory.records import Event
from memory.schema.migrate import migrations_dir
from memory.sql.search_statements import (
    SearchHit,
    TextOf,
    generic_text,
    hit_from_row,
    index_values,
    search_statement,
    title_statements,
)
from memory.sql.search_words import with_words

__all__ = ["SearchMirror"]

_MIRROR_SCHEMA = """
CREATE TABLE sessions (id TEXT PRIMARY KEY, title TEXT, updated_at TEXT NOT NULL);
CREATE TABLE conversation_events (
    id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, seq INTEGER NOT NULL,
    kind TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (session_id, seq)
);
"""


class SearchMirror:
    """The searchable part of an in-process backend's sessions, in in-memory SQLite."""

    def __init__(self) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.executescript(_MIRROR_SCHEMA)
        for name in ("0004.search.sql", "0010.search-words.sql", "0015.search-pending.sql"):
            self._db.executescript((migrations_dir() / name).read_text(encoding="utf-8"))
        self._db.commit()
        self.text_of: TextOf = generic_text

    @property
    def connection(self) -> sqlite3.Connection:
        """The mirror's database (the semantic index lives there too)."""
        return self._db

    def upsert_session(self, session_id: str, title: str | None, updated_at: str) -> None:
        """Record a session's title and last activity (and index a changed title)."""
        with self._db:
            self._db.execute(
                "INSERT INTO sessions (id, title, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET title = excluded.title, "
                "updated_at = excluded.updated_at",
                (session_id, title, updated_at),
            )
            if title is not None:
                for sql, args in title_statements(session_id, title):
                    self._db.execute(sql, args)

    def add_events(self, events: Iterable[Event]) -> None:
        """Index stored events (their session must be recorded)."""
        with self._db:
            for event in events:
                cursor = self._db.execute(
                    "INSERT INTO conversation_events (session_id, seq, kind, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    (event.session_id, event.seq, event.kind, event.created_at),
                )
                values = index_values(self.text_of, event.kind, event.payload_json)
                for sql, args in with_words(
                    [
                        (
                            "INSERT INTO search_events (rowid, mine, reply, tool) "
                            "VALUES (?, ?, ?, ?)",
                            [cursor.lastrowid, *values],
                        )
                    ]
                ):
                    self._db.execute(sql, args)

    def forget(self, session_id: str) -> None:
        """Drop a session and its index rows (the migration's triggers delete them)."""
        with self._db:
            self._db.execute("DELETE FROM conversation_events WHERE session_id = ?", (session_id,))
            self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def search(
        self,
        query: str,
        *,
        limit: int,
        session_id: str | None,
        kinds: tuple[str, ...],
        since: str | None,
    ) -> list[SearchHit]:
        """Run the database's search statement on the mirror."""
        plan = search_statement(query, limit=limit, session_id=session_id, kinds=kinds, since=since)
        if plan is None:
            return []
        rows = self._db.execute(plan.sql, plan.args).fetchall()
        return [hit_from_row(tuple(row), plan.scan_terms) for row in rows]

    def close(self) -> None:
        """Release the in-memory database."""
        self._db.close()
