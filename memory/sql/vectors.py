"""The semantic index for :class:`~memory.sql.store.LibsqlMemory` (migration ``0006.vectors``).

Vectors are little-endian float32 blobs in ``event_vectors`` keyed by the stable event
id. Ranking:

* **remote (sqld)**: one statement, ``vector_distance_cos(vector, vector32(?))`` ordered
  on the server, joined to the events and their indexed text (one round trip);
* **embedded (stdlib SQLite, no vector functions)**: brute force in numpy over a matrix
  cached in this process (vectors are stored at unit length, so cosine distance is
  ``1 - dot``). The cache is refreshed from ``vector_state`` (one small
  read): while nothing was deleted and the space is the same, only vectors with a
  larger id than the cached ones are read (the indexer adds them in id order).

numpy is imported only when vectors are ranked here (the ``semantic`` extra).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from memory.drivers.base import Result, Statement
from memory.errors import QueryError
from memory.search_records import SearchHit
from memory.sql.search_pending import PENDING, row_text
from memory.sql.search_statements import event_filters, hit_from_row
from memory.vector_records import PendingEvent, VectorProgress, VectorSpace

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["LibsqlVectors", "kind_filter"]

#: Characters of an event's indexed text shown as a semantic hit's snippet.
SNIPPET_CHARS = 240

_STATE = (
    "SELECT fingerprint, model, dimension, embedded, indexed_upto, deletions, "
    "(SELECT count(*) FROM conversation_events WHERE id > vector_state.indexed_upto) "
    "FROM vector_state WHERE id = 1"
)
_TEXT = (
    f"coalesce((SELECT substr({row_text('f')}, 1, {SNIPPET_CHARS}) "
    "FROM search_events f WHERE f.rowid = e.id), "
    f"(SELECT substr({row_text('p')}, 1, {SNIPPET_CHARS}) "
    f"FROM {PENDING} p WHERE p.id = e.id))"
)


def kind_filter(kinds: tuple[str, ...], alias: str = "e") -> str:
    """SQL keeping events of the given search kinds (``user``/``assistant``/``tool``)."""
    parts = []
    for kind in sorted(set(kinds)):
        if kind == "user":
            parts.append(f"{alias}.kind = 'user'")
        elif kind == "tool":
            parts.append(f"{alias}.kind LIKE 'tool%'")
        elif kind == "assistant":
            parts.append(f"({alias}.kind <> 'user' AND {alias}.kind NOT LIKE 'tool%')")
    return f" AND ({' OR '.join(parts)})" if parts else ""


def _filters(
    session_id: str | None, kinds: tuple[str, ...], since: str | None
) -> tuple[str, list[Any]]:
    sql, args = event_filters(session_id, since)
    return kind_filter(kinds) + sql, args


@dataclass(slots=True)
class _Cache:
    """Vectors of one space held in this process (embedded ranking)."""

    fingerprint: str
    deletions: int
    max_id: int
    ids: npt.NDArray[np.int64]
    matrix: npt.NDArray[np.float32]


class LibsqlVectors:
    """The semantic index capability, written once for both modes."""

    mode: str
    _vector_cache: _Cache | None = None

    async def _rows(self, sql: str, args: list[Any]) -> list[tuple[Any, ...]]:
        raise NotImplementedError  # provided by LibsqlMemory

    async def _batch(self, stmts: Sequence[Statement]) -> list[Result]:
        raise NotImplementedError  # provided by LibsqlMemory

    async def _batch_then_read(self, stmts: list[tuple[str, list[Any]]]) -> list[tuple[Any, ...]]:
        """Run ``stmts`` in one transaction; the rows of the last one (a read)."""
        results = await self._batch(stmts)
        return [tuple(row) for row in results[-1].rows]

    async def vector_progress(self) -> VectorProgress:
        """See :meth:`memory.vector_records.EventVectors.vector_progress`."""
        rows = await self._rows(_STATE, [])
        if not rows:
            raise QueryError("the semantic index's state row is missing (migration 0006)")
        fingerprint, model, dimension, embedded, upto, _deletions, pending = rows[0]
        return VectorProgress(
            None if fingerprint is None else str(fingerprint),
            None if model is None else str(model),
            None if dimension is None else int(dimension),
            int(embedded),
            int(pending),
            int(upto),
        )

    async def use_vector_space(self, space: VectorSpace) -> bool:
        """See :meth:`memory.vector_records.EventVectors.use_vector_space`."""
        rows = await self._rows("SELECT fingerprint FROM vector_state WHERE id = 1", [])
        if rows and rows[0][0] == space.fingerprint:
            return False
        # One transaction: the old space's vectors go with the record of the new one.
        await self._batch(
            [
                (
                    "DELETE FROM event_vectors WHERE "
                    "(SELECT fingerprint FROM vector_state WHERE id = 1) IS NOT ?",
                    [space.fingerprint],
                ),
                (
                    "UPDATE vector_state SET fingerprint = ?, model = ?, dimension = ?, "
                    "indexed_upto = 0, deletions = deletions + 1 "
                    "WHERE id = 1 AND fingerprint IS NOT ?",
                    [space.fingerprint, space.model, space.dimension, space.fingerprint],
                ),
            ]
        )
        self._vector_cache = None
        return True

    async def pending_vector_events(self, limit: int) -> tuple[tuple[int, int], list[PendingEvent]]:
        """See :meth:`memory.vector_records.EventVectors.pending_vector_events`."""
        rows = await self._rows(
            "SELECT v.indexed_upto, v.deletions, e.id, e.kind, e.payload, "
            "EXISTS (SELECT 1 FROM event_vectors x WHERE x.event_id = e.id) FROM vector_state v "
            "LEFT JOIN (SELECT id, kind, payload FROM conversation_events "
            " WHERE id > (SELECT indexed_upto FROM vector_state WHERE id = 1) "
            " ORDER BY id LIMIT ?) AS e ON 1 WHERE v.id = 1 ORDER BY e.id",
            [max(1, limit)],
        )
        if not rows:
            raise QueryError("the semantic index's state row is missing (migration 0006)")
        cursor = (int(rows[0][0]), int(rows[0][1]))
        events = [
            PendingEvent(int(eid), str(kind), str(payload), bool(done))
            for _, _, eid, kind, payload, done in rows
            if eid is not None
        ]
        return cursor, events

    async def store_vectors(
        self,
        space: VectorSpace,
        cursor: tuple[int, int],
        upto: int,
        vectors: Sequence[tuple[int, bytes]],
    ) -> bool:
        """See :meth:`memory.vector_records.EventVectors.store_vectors`."""
        # Every statement re-checks the space and the cursor inside the transaction, so
        # a concurrent indexer, a space change or deleted events make this a no-op.
        guard = (
            "(SELECT fingerprint = ? AND indexed_upto = ? AND deletions = ? "
            "FROM vector_state WHERE id = 1)"
        )
        stmts: list[tuple[str, list[Any]]] = []
        for event_id, blob in vectors:
            if len(blob) != 4 * space.dimension:
                raise QueryError(
                    f"a vector of {len(blob)} bytes does not fit dimension {space.dimension}"
                )
            stmts.append(
                (
                    "INSERT INTO event_vectors (event_id, model, dimension, vector) "
                    f"SELECT id, ?, ?, ? FROM conversation_events WHERE id = ? AND {guard} "
                    "ON CONFLICT (event_id) DO NOTHING",
                    [space.model, space.dimension, blob, event_id, space.fingerprint, *cursor],
                )
            )
        stmts.append(
            (
                "UPDATE vector_state SET indexed_upto = ? "
                "WHERE id = 1 AND fingerprint = ? AND indexed_upto = ? AND deletions = ?",
                [upto, space.fingerprint, *cursor],
            )
        )
        stmts.append(("SELECT indexed_upto, deletions FROM vector_state WHERE id = 1", []))
        after = await self._batch_then_read(stmts)
        return bool(after) and (int(after[0][0]), int(after[0][1])) == (upto, cursor[1])

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
        if limit <= 0:
            return []
        if len(query) != 4 * space.dimension:
            raise QueryError(
                f"the query vector has {len(query) // 4} values, the index {space.dimension}"
            )
        if self.mode == "remote":
            return await self._rank_on_server(space, query, limit, session_id, kinds, since)
        return await self._rank_here(space, query, limit, session_id, kinds, since)

    async def _rank_on_server(
        self,
        space: VectorSpace,
        query: bytes,
        limit: int,
        session_id: str | None,
        kinds: tuple[str, ...],
        since: str | None,
    ) -> list[SearchHit]:
        filters, filter_args = _filters(session_id, kinds, since)
        inner_join = " JOIN conversation_events e ON e.id = v.event_id" if filters else ""
        sql = (
            f"SELECT e.session_id, e.seq, e.kind, s.title, {_TEXT}, e.created_at, h.d "
            "FROM (SELECT v.event_id AS id, vector_distance_cos(v.vector, vector32(?)) AS d "
            f"FROM event_vectors v{inner_join} WHERE v.dimension = ?{filters} "
            "AND (SELECT fingerprint FROM vector_state WHERE id = 1) = ? "
            "ORDER BY d LIMIT ?) AS h "
            "JOIN conversation_events e ON e.id = h.id JOIN sessions s ON s.id = e.session_id "
            "ORDER BY h.d"
        )
        args = [query, space.dimension, *filter_args, space.fingerprint, limit]
        return [hit_from_row(row) for row in await self._rows(sql, args)]

    async def _cached(self, space: VectorSpace) -> _Cache | None:
        """The space's vectors as a matrix, read incrementally when possible."""
        import numpy as np

        state = await self._rows(
            "SELECT fingerprint, deletions, embedded FROM vector_state WHERE id = 1", []
        )
        if not state or state[0][0] != space.fingerprint:
            return None
        deletions, embedded = int(state[0][1]), int(state[0][2])
        cache = self._vector_cache
        if cache is None or cache.fingerprint != space.fingerprint or cache.deletions != deletions:
            cache = _Cache(
                space.fingerprint,
                deletions,
                0,
                np.empty(0, dtype=np.int64),
                np.empty((0, space.dimension), dtype=np.float32),
            )
        if len(cache.ids) != embedded:
            rows = await self._rows(
                "SELECT event_id, vector FROM event_vectors WHERE event_id > ? AND dimension = ? "
                "ORDER BY event_id",
                [cache.max_id, space.dimension],
            )
            if rows:
                # Stored vectors are unit length (the embedders normalise them), so
                # cosine distance is 1 - dot: no per-row work beyond one copy.
                ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                added = np.frombuffer(b"".join([r[1] for r in rows]), dtype="<f4")
                added = added.reshape(len(rows), space.dimension)
                del rows
                if len(cache.ids):
                    cache.ids = np.concatenate([cache.ids, ids])
                    cache.matrix = np.concatenate([cache.matrix, added])
                else:
                    cache.ids, cache.matrix = ids, added
                cache.max_id = int(ids[-1])
        self._vector_cache = cache
        return cache

    async def _rank_here(
        self,
        space: VectorSpace,
        query: bytes,
        limit: int,
        session_id: str | None,
        kinds: tuple[str, ...],
        since: str | None,
    ) -> list[SearchHit]:
        import numpy as np

        cache = await self._cached(space)
        if cache is None or len(cache.ids) == 0:
            return []
        q = np.frombuffer(query, dtype="<f4").astype(np.float32)
        q = q / max(float(np.linalg.norm(q)), 1e-12)
        distances = 1.0 - cache.matrix @ q
        filters, filter_args = _filters(session_id, kinds, since)
        if filters:
            allowed = await self._rows(
                "SELECT v.event_id FROM event_vectors v JOIN conversation_events e "
                f"ON e.id = v.event_id WHERE 1{filters}",
                filter_args,
            )
            keep = np.isin(cache.ids, np.fromiter((int(r[0]) for r in allowed), dtype=np.int64))
            distances = np.where(keep, distances, np.inf)
        k = min(limit, len(distances))
        top = np.argpartition(distances, k - 1)[:k]
        top = top[np.argsort(distances[top], kind="stable")]
        top = top[np.isfinite(distances[top])]
        if len(top) == 0:
            return []
        chosen = [int(cache.ids[i]) for i in top]
        marks = ", ".join("?" * len(chosen))
        rows = await self._rows(
            f"SELECT e.id, e.session_id, e.seq, e.kind, s.title, {_TEXT}, e.created_at "
            "FROM conversation_events e JOIN sessions s ON s.id = e.session_id "
            f"WHERE e.id IN ({marks})",
            chosen,
        )
        by_id = {int(row[0]): row[1:] for row in rows}
        return [
            hit_from_row((*by_id[eid], float(distances[i])))
            for eid, i in zip(chosen, top, strict=True)
            if eid in by_id
        ]
