"""Semantic search through the runtime: the searcher, the vector index's progress, indexing.

A part of the :class:`~runtime.sessions.Sessions` facade (mixed in there), so the TUI and
``turnkeep search``/``db index``/``db status`` reach the vector index without calling the
memory layer. The searcher is made once per facade and attached for the agent's
``search_sessions`` tool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from memory.errors import MemoryLayerError
from memory.vector_records import EventVectors, VectorProgress, progress_or_none

if TYPE_CHECKING:
    from memory import MemoryBackend
    from runtime.embeddings import Embedder
    from runtime.semantic_search import SemanticSearch
    from runtime.settings import SearchSettings

__all__ = ["SemanticSessions"]


class SemanticSessions:
    """The vector index and the hybrid searcher over it."""

    memory: MemoryBackend
    _searcher: SemanticSearch | None = None

    @property
    def has_vectors(self) -> bool:
        """The backend keeps a vector index (not when memory is disabled)."""
        return isinstance(self.memory, EventVectors)

    def searcher(self, settings: SearchSettings) -> SemanticSearch:
        """The facade's searcher (made on first use, attached for the agent's tool)."""
        from runtime.semantic_search import SemanticSearch, attach

        if self._searcher is None:
            self._searcher = SemanticSearch(self.memory, settings)
            attach(self.memory, self._searcher)
        return self._searcher

    def attach_semantic(self, settings: SearchSettings) -> SemanticSearch | None:
        """The searcher when ``search.semantic`` is on (attached for the agent), else ``None``."""
        return self.searcher(settings) if settings.semantic else None

    async def close_searcher(self) -> None:
        """Release the searcher's model and cache (safe when there is none)."""
        if self._searcher is not None:
            await self._searcher.close()
            self._searcher = None

    async def vector_progress_or_none(self) -> VectorProgress | None:
        """How far the vector index is, or ``None`` (no index, or migration 0006 missing)."""
        return await progress_or_none(self.memory)

    async def semantic_status(self, settings: SearchSettings) -> dict[str, Any] | None:
        """``db status``'s ``semantic_index`` object (``None`` before migration 0006)."""
        progress = await self.vector_progress_or_none()
        if progress is None:
            return None
        source = "local" if not settings.embeddings_url else "endpoint"
        return {**progress.as_dict(), "enabled": settings.semantic, "source": source}

    async def index_vectors(
        self,
        embedder: Embedder,
        on_progress: Callable[[Any], None] | None = None,
        *,
        until_complete: bool = True,
    ) -> Any:
        """Embed every event not embedded yet (see :func:`runtime.vector_index.index_pending`).

        Raises:
            MemoryLayerError: memory is disabled (nothing to index) or the database failed.
        """
        from runtime.vector_index import index_pending

        if not isinstance(self.memory, EventVectors):
            raise MemoryLayerError(
                "memory is disabled (memory.enabled = false): nothing to index",
                hint="Turn memory on to use semantic search.",
            )
        return await index_pending(
            self.memory, embedder, on_progress=on_progress, until_complete=until_complete
        )
