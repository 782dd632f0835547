"""Search by words, by meaning, or both: the mode choice, the fusion and the fallback.

``text`` is the full-text index (always there). ``semantic`` ranks events by the
cosine distance of their vectors to the query's. ``hybrid`` fuses both lists by
reciprocal rank fusion (RRF, k = 60): an item's score is the sum of ``1 / (k + rank)``
over the lists it appears in, so an event both rankings like rises, and neither
list's raw scores (bm25 vs cosine, on different scales) need calibrating.

With no mode given, hybrid runs when semantic search is on and its index is complete
enough (:data:`READY_SHARE` of the events looked at), text otherwise. Whatever was
asked, when semantic ranking cannot run (turned off, model not installed, endpoint
down, index built with another model, nothing embedded yet) the search runs as text
and :attr:`SearchOutcome.note` says why: never silent.

:func:`attach` links a backend to its :class:`SemanticSearch`, so the agent's
``search_sessions`` tool (which only holds the backend) uses hybrid when available.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from memory.errors import explain
from memory.search_query import unused_note
from memory.search_records import SearchHit
from memory.vector_records import EventVectors, VectorProgress, VectorSpace, progress_or_none
from runtime.embeddings import Embedder, EmbeddingsError, open_embedder, to_blob
from runtime.settings import SearchSettings

__all__ = [
    "MODES",
    "RRF_K",
    "SearchMode",
    "SearchOutcome",
    "SemanticSearch",
    "attach",
    "fuse",
    "searcher_for",
]

SearchMode = Literal["text", "semantic", "hybrid"]
MODES: Final = ("text", "semantic", "hybrid")
#: RRF's damping constant (the value of the original paper, robust across corpora).
RRF_K: Final = 60
#: Candidates taken from each ranking before fusing.
CANDIDATES: Final = 50
#: Hybrid is the default once this share of the events has been looked at.
READY_SHARE: Final = 0.9


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    """A search's hits and which ranking produced them.

    Attributes:
        mode: the ranking that ran (``text``, ``semantic`` or ``hybrid``).
        hits: best first.
        note: why a semantic ranking did not run, or other caveats (``None``: none).
    """

    mode: SearchMode
    hits: list[SearchHit]
    note: str | None = None

    def hit_dicts(self) -> list[dict[str, Any]]:
        """The ``--json`` objects: each hit with the ``mode`` that ranked the list."""
        return [{**hit.as_dict(), "mode": self.mode} for hit in self.hits]


def _key(hit: SearchHit) -> tuple[str, int, str]:
    return hit.session_id, hit.seq, hit.kind


def fuse(rankings: list[list[SearchHit]], limit: int, k: int = RRF_K) -> list[SearchHit]:
    """Reciprocal rank fusion of several rankings (``score``: minus the fused score).

    The first ranking's copy of a hit is kept (full-text hits carry match marks).
    """
    scores: dict[tuple[str, int, str], float] = {}
    first: dict[tuple[str, int, str], SearchHit] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            key = _key(hit)
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
            first.setdefault(key, hit)
    # Newest first among equal scores (as full-text search does).
    order = sorted(scores, key=lambda key: first[key].at, reverse=True)
    order.sort(key=lambda key: -scores[key])
    fused = []
    for key in order[:limit]:
        hit = first[key]
        fused.append(
            SearchHit(
                hit.session_id,
                hit.seq,
                hit.kind,
                hit.title,
                hit.snippet,
                hit.marks,
                hit.at,
                -scores[key],
            )
        )
    return fused


@dataclass
class SemanticSearch:
    """Search over one backend with the configured embeddings.

    Args:
        memory: the backend (anything with ``search``; vectors need :class:`EventVectors`).
        settings: ``search.*``.
        embedder: the embedding source (default: from the settings, made on first use).
    """

    memory: Any
    settings: SearchSettings
    embedder: Embedder | None = None
    #: The last embedding failure, for Health and the search header (``None``: none).
    last_error: str | None = field(default=None, init=False)
    _warmed: tuple[str, int] | None = field(default=None, init=False)

    def _embedder(self) -> Embedder:
        if self.embedder is None:
            self.embedder = open_embedder(self.settings)
        return self.embedder

    async def progress(self) -> VectorProgress | None:
        """The semantic index's progress (``None``: this backend has no vector index)."""
        return await progress_or_none(self.memory)

    @staticmethod
    def ready(progress: VectorProgress | None) -> bool:
        """Complete enough for hybrid to be the default."""
        if progress is None or progress.fingerprint is None or progress.embedded == 0:
            return False
        looked = progress.indexed_upto
        return progress.pending <= (1 - READY_SHARE) * max(1, looked + progress.pending)

    async def default_mode(self) -> SearchMode:
        """Hybrid when semantic search is on and the index is ready, else text."""
        if self.settings.semantic and self.ready(await self.progress()):
            return "hybrid"
        return "text"

    async def search(
        self,
        query: str,
        *,
        mode: SearchMode | None = None,
        limit: int = 20,
        session_id: str | None = None,
        kinds: tuple[str, ...] = (),
        since: str | None = None,
    ) -> SearchOutcome:
        """Run a search; see the module docstring for the mode choice and fallback.

        Words of the query the text ranking left out (past
        :data:`memory.search_query.MAX_TERMS`) are named in the note.
        """
        outcome = await self._search(
            query, mode=mode, limit=limit, session_id=session_id, kinds=kinds, since=since
        )
        unused = unused_note(query) if outcome.mode != "semantic" else None
        if unused is None:
            return outcome
        note = f"{outcome.note}; {unused}" if outcome.note else unused
        return SearchOutcome(outcome.mode, outcome.hits, note)

    async def _search(
        self,
        query: str,
        *,
        mode: SearchMode | None,
        limit: int,
        session_id: str | None,
        kinds: tuple[str, ...],
        since: str | None,
    ) -> SearchOutcome:
        wanted = mode or await self.default_mode()
        filters: dict[str, Any] = {"session_id": session_id, "kinds": kinds, "since": since}
        if wanted == "text":
            hits = await self.memory.search(query, limit=limit, **filters)
            note = None
            if mode is None and self.settings.semantic:
                note = await self._not_ready_note()
            return SearchOutcome("text", hits, note)
        vector_hits, why = await self._vector_hits(query, max(limit, CANDIDATES), filters)
        if vector_hits is None:
            hits = await self.memory.search(query, limit=limit, **filters)
            return SearchOutcome("text", hits, f"{wanted} search unavailable: {why}; ran text")
        if wanted == "semantic":
            return SearchOutcome("semantic", vector_hits[:limit])
        text_hits = await self.memory.search(query, limit=max(limit, CANDIDATES), **filters)
        return SearchOutcome("hybrid", fuse([text_hits, vector_hits], limit))

    async def _not_ready_note(self) -> str:
        """Why the default was text although semantic search is on."""
        progress = await self.progress()
        if progress is None:
            return "semantic search unavailable: this backend keeps no vectors; ran text"
        if progress.fingerprint is None or progress.embedded == 0:
            return "the semantic index is not built yet (`turnkeep db index`); ran text"
        return (
            f"the semantic index is not ready ({progress.pending:,} events to look at; "
            "`turnkeep db index --wait`); ran text"
        )

    async def _vector_hits(
        self, query: str, limit: int, filters: dict[str, Any]
    ) -> tuple[list[SearchHit] | None, str]:
        """The vector ranking, or ``None`` and the reason it cannot run."""
        if not isinstance(self.memory, EventVectors):
            return None, "this backend keeps no vectors"
        progress = await self.progress()
        if progress is None:
            return None, "the vector table is missing (run `turnkeep db migrate`)"
        if progress.embedded == 0:
            if not self.settings.semantic:
                return None, "semantic search is off (set TURNKEEP_SEARCH__SEMANTIC=true)"
            return None, "nothing is embedded yet (run `turnkeep db index`)"
        embedder = self._embedder()
        try:
            vector = (await embedder.embed([query], query=True))[0]
            space = VectorSpace(await embedder.fingerprint(), embedder.model, len(vector))
        except EmbeddingsError as exc:
            self.last_error = explain(exc).line()
            return None, self.last_error
        self.last_error = None
        if space.fingerprint != progress.fingerprint:
            return None, (
                f"the index holds vectors of another model ({progress.model}, "
                f"{progress.dimension} dimensions); run `turnkeep db index` to re-embed"
            )
        hits = await self.memory.vector_search(space, to_blob(vector), limit=limit, **filters)
        return hits, ""

    async def warm(self) -> None:
        """Read new vectors into this process's ranking cache now, not at the next search.

        (The app calls this after each indexing run; a no-op remotely, where the server
        ranks, and when nothing changed since the last call.)
        """
        if getattr(self.memory, "mode", None) == "remote":
            return
        progress = await self.progress()
        if progress is None or progress.fingerprint is None or not progress.embedded:
            return
        if progress.model is None or progress.dimension is None:
            return
        if self._warmed == (progress.fingerprint, progress.embedded):
            return
        space = VectorSpace(progress.fingerprint, progress.model, progress.dimension)
        unit = b"\x00\x00\x80\x3f" + bytes(4 * (progress.dimension - 1))  # (1, 0, 0, ...)
        await self.memory.vector_search(space, unit, limit=1)
        self._warmed = (progress.fingerprint, progress.embedded)

    async def close(self) -> None:
        """Release the embedder."""
        if self.embedder is not None:
            await self.embedder.close()


_ATTACHED: weakref.WeakKeyDictionary[Any, SemanticSearch] = weakref.WeakKeyDictionary()


def attach(memory: Any, searcher: SemanticSearch) -> None:
    """Make ``searcher`` the one tools use for ``memory``."""
    _ATTACHED[memory] = searcher


def searcher_for(memory: Any) -> SemanticSearch | None:
    """The searcher attached to ``memory``, if any."""
    try:
        return _ATTACHED.get(memory)
    except TypeError:
        return None
