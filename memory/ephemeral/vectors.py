"""The semantic index of the in-process backend: the database's SQL on the search mirror.

The search mirror (:mod:`memory.ephemeral.search`) is an in-memory SQLite database with
the events' keys, sessions and full-text rows; this applies the very migration the
database uses (``0006.vectors``) to it and runs :class:`~memory.sql.vectors.LibsqlVectors`
there, ranking in numpy as the embedded file does. The mirror keeps no payloads, so the
events to embed get theirs from the backend (``payload_of``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from memory.drivers.base import Result, Statement
from memory.errors import QueryError
from memory.schema.migrate import migrations_dir
from memory.search_records import SearchHit
from memory.sql.vectors import LibsqlVectors
from memory.vector_records import PendingEvent, VectorProgress, VectorSpace

__all__ = ["EphemeralVectorIndex", "EphemeralVectors"]

#: ``(session_id, seq) -> payload JSON`` (``None`` when the event is gone).
PayloadOf = Callable[[str, int], "str | None"]


class EphemeralVectors(LibsqlVectors):
    """Vectors of an in-process backend, in its search mirror.

    Args:
        db: the search mirror's connection (migration 0006 is applied to it here).
        payload_of: an event's payload JSON by session and seq.
    """

    mode = "embedded"

    def __init__(self, db: sqlite3.Connection, payload_of: PayloadOf) -> None:
        self._db = db
        self._payload_of = payload_of
        schema = (migrations_dir() / "0006.vectors.sql").read_text(encoding="utf-8")
        self._db.executescript(schema)
        self._db.commit()

    async def _rows(self, sql: str, args: list[Any]) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._db.execute(sql, args).fetchall()]

    async def _batch(self, stmts: Sequence[Statement]) -> list[Result]:
        with self._db:
            for sql, args in stmts:
                self._db.execute(sql, args)
        return []

    async def _batch_then_read(self, stmts: list[tuple[str, list[Any]]]) -> list[tuple[Any, ...]]:
        with self._db:
            for sql, args in stmts[:-1]:
                self._db.execute(sql, args)
            sql, args = stmts[-1]
            return [tuple(row) for row in self._db.execute(sql, args).fetchall()]

    async def pending_vector_events(self, limit: int) -> tuple[tuple[int, int], list[PendingEvent]]:
        """See :meth:`memory.vector_records.EventVectors.pending_vector_events`."""
        state = self._db.execute(
            "SELECT indexed_upto, deletions FROM vector_state WHERE id = 1"
        ).fetchone()
        if state is None:
            raise QueryError("the semantic index's state row is missing (migration 0006)")
        rows = self._db.execute(
            "SELECT e.id, e.session_id, e.seq, e.kind, "
            "EXISTS (SELECT 1 FROM event_vectors x WHERE x.event_id = e.id) "
            "FROM conversation_events e WHERE e.id > ? ORDER BY e.id LIMIT ?",
            [state[0], max(1, limit)],
        ).fetchall()
        events = []
        for eid, sid, seq, kind, done in rows:
            payload = self._payload_of(str(sid), int(seq))
            events.append(PendingEvent(int(eid), str(kind), payload or "{}", bool(done)))
        return (int(state[0]), int(state[1])), events


class EphemeralVectorIndex:
    """The EventVectors capability of :class:`~memory.ephemeral.store.EphemeralMemory`
    (a mixin delegating to its :class:`EphemeralVectors`)."""

    _vectors: EphemeralVectors

    async def vector_progress(self) -> VectorProgress:
        """See :meth:`memory.vector_records.EventVectors.vector_progress`."""
        return await self._vectors.vector_progress()

    async def use_vector_space(self, space: VectorSpace) -> bool:
        """See :meth:`memory.vector_records.EventVectors.use_vector_space`."""
        return await self._vectors.use_vector_space(space)

    async def pending_vector_events(self, limit: int) -> tuple[tuple[int, int], list[PendingEvent]]:
        """See :meth:`memory.vector_records.EventVectors.pending_vector_events`."""
        return await self._vectors.pending_vector_events(limit)

    async def store_vectors(
        self,
        space: VectorSpace,
        cursor: tuple[int, int],
        upto: int,
        vectors: Sequence[tuple[int, bytes]],
    ) -> bool:
        """See :meth:`memory.vector_records.EventVectors.store_vectors`."""
        return await self._vectors.store_vectors(space, cursor, upto, vectors)

    async def vector_search(
        self,
        space: VectorSpace,
        query: bytes,
        *,
        limit: int = 20,
        session_id: str | None = None,
        kinds: tuple[str, ...] = (),
        since: str | None = None,
    ) -> list[SearchHit]:
        """See :meth:`memory.vector_records.EventVectors.vector_search`."""
        return await self._vectors.vector_search(
            space, query, limit=limit, session_id=session_id, kinds=kinds, since=since
        )
