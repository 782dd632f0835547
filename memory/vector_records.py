"""The semantic index's records and capability (migration ``0006.vectors``).

The memory layer stores and ranks vectors; it never computes them: the runtime embeds
text (:mod:`runtime.embeddings`) and hands over little-endian float32 bytes, the format
libSQL's ``vector32()`` uses, so the same rows rank on sqld and in numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from memory.errors import MemoryLayerError
from memory.search_records import SearchHit

__all__ = ["EventVectors", "PendingEvent", "VectorProgress", "VectorSpace", "progress_or_none"]


@dataclass(frozen=True, slots=True)
class VectorSpace:
    """Which embedding space vectors belong to.

    Attributes:
        fingerprint: source, model, dimension and text recipe in one string; a
            different fingerprint means a different space (everything is re-embedded).
        model: the model name (for people).
        dimension: the number of float32 values per vector.
    """

    fingerprint: str
    model: str
    dimension: int


@dataclass(frozen=True, slots=True)
class VectorProgress:
    """How far the semantic index is.

    Attributes:
        fingerprint: the space the stored vectors belong to (``None``: none yet).
        model: its model name.
        dimension: its dimension.
        embedded: vectors stored.
        pending: events the indexer has not looked at yet.
        indexed_upto: every event with an id up to this has been looked at.
    """

    fingerprint: str | None
    model: str | None
    dimension: int | None
    embedded: int
    pending: int
    indexed_upto: int

    @property
    def complete(self) -> bool:
        """Every event has been looked at (and embedded when it has text)."""
        return self.fingerprint is not None and self.pending == 0

    def as_dict(self) -> dict[str, Any]:
        """For ``db status --json`` (``semantic_index``)."""
        return {
            "model": self.model,
            "dimension": self.dimension,
            "embedded": self.embedded,
            "pending": self.pending,
            "complete": self.complete,
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An event the indexer has not looked at: its key, kind and payload JSON.

    ``embedded`` is true when it already has a vector of the current space (the
    cursor went back over it after the newest events were deleted): not embedded again.
    """

    event_id: int
    kind: str
    payload: str
    embedded: bool = False


@runtime_checkable
class EventVectors(Protocol):
    """A backend that keeps the semantic index (``0006.vectors``)."""

    async def vector_progress(self) -> VectorProgress:
        """How far the index is."""
        ...

    async def use_vector_space(self, space: VectorSpace) -> bool:
        """Make ``space`` the index's space; if it differs, delete every vector first.

        Returns:
            ``True`` when the space changed (everything will be re-embedded).
        """
        ...

    async def pending_vector_events(self, limit: int) -> tuple[tuple[int, int], list[PendingEvent]]:
        """``(cursor, events)``: up to ``limit`` events after the indexer's cursor.

        The cursor is ``(indexed_upto, deletions)``, handed back to :meth:`store_vectors`.
        """
        ...

    async def store_vectors(
        self,
        space: VectorSpace,
        cursor: tuple[int, int],
        upto: int,
        vectors: Sequence[tuple[int, bytes]],
    ) -> bool:
        """Store ``(event_id, float32 bytes)`` and move the cursor from ``cursor`` to ``upto``.

        Vectors must be unit length (the embedded ranking takes cosine as a dot product).

        One transaction. Nothing is written (``False``) when the space or the cursor
        changed meanwhile (another indexer, a fingerprint change, deleted events).
        """
        ...

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
        """The events nearest to ``query`` by cosine distance (``score``), nearest first."""
        ...


async def progress_or_none(memory: object) -> VectorProgress | None:
    """How far ``memory``'s vector index is; ``None`` when it has none (a backend without
    :class:`EventVectors`, or a database before migration 0006) or cannot say now."""
    if not isinstance(memory, EventVectors):
        return None
    try:
        return await memory.vector_progress()
    except MemoryLayerError:
        return None
