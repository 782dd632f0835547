"""Searching sessions through the runtime: ranked hits, the events around one, the index.

A part of the :class:`~runtime.sessions.Sessions` facade (mixed in there). The memory
layer runs the SQL; this is where the TUI's search screen and ``turnkeep search`` ask.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from memory import Event, MemoryLayerError
from memory.search_query import ParsedQuery, parse_query, unused_note
from memory.search_records import SearchHit, SearchProgress
from memory.sql.search_statements import KIND_COLUMNS

if TYPE_CHECKING:
    from memory import MemoryBackend

__all__ = ["SEARCH_KINDS", "ParsedQuery", "SearchSessions", "parse_query", "unused_note"]

#: The event kinds a search can be narrowed to (``turnkeep search --kind``).
SEARCH_KINDS: tuple[str, ...] = tuple(sorted(KIND_COLUMNS))


class SearchSessions:
    """Full-text search over events and titles, and the index that serves it."""

    memory: MemoryBackend

    async def search(
        self,
        query: str,
        *,
        limit: int = 20,
        session_id: str | None = None,
        kinds: tuple[str, ...] = (),
        since: str | None = None,
    ) -> list[SearchHit]:
        """Ranked hits for what a person typed (any string is a valid query).

        Raises:
            StoreConnectionError / QueryError: the database failed.
        """
        return await self.memory.search(
            query, limit=limit, session_id=session_id, kinds=kinds, since=since
        )

    async def find_in_session(self, session_id: str, query: str) -> list[int]:
        """The seqs of every event of the session whose text matches ``query``
        (:func:`runtime.session_find.find_in_session`: past the index's prefix too),
        oldest first.

        Raises:
            StoreConnectionError / QueryError: the database failed.
        """
        from runtime.session_find import find_in_session

        return await find_in_session(self.memory, session_id, query)

    async def around(self, session_id: str, seq: int, count: int) -> tuple[list[Event], bool]:
        """Up to ``count`` events up to ``seq`` and ``count`` after it, oldest first.

        Returns:
            The events, and whether the window reaches the session's end.
        """
        before = await self.memory.recall(session_id, before=seq + 1, limit=count, newest=True)
        after = await self.memory.recall(session_id, after=seq, limit=count)
        return [*before, *after], len(after) < count

    async def search_progress(self) -> SearchProgress:
        """How much of what predates the index is still to be indexed.

        Raises:
            MemoryLayerError: the database failed, or the search migration is missing.
        """
        return await self.memory.search_progress()

    async def search_progress_or_none(self) -> SearchProgress | None:
        """:meth:`search_progress`, or ``None`` when it cannot be read (a database not
        yet migrated)."""
        try:
            return await self.memory.search_progress()
        except MemoryLayerError:
            return None

    async def tidy_index(
        self, *, pause: float | None = None, give_way: Callable[[], bool] | None = None
    ) -> int:
        """Merge the search index's pieces in short transactions until none is left;
        return how many transactions merged something (:func:`runtime.search_index.tidy_index`,
        ``give_way`` as there).

        Raises:
            memory.MemoryLayerError: the database failed (what was merged stays merged).
        """
        from runtime.search_index import TIDY_PAUSE, tidy_index

        return await tidy_index(
            self.memory, pause=TIDY_PAUSE if pause is None else pause, give_way=give_way
        )

    async def backfill_index(
        self, on_progress: Callable[[SearchProgress], None] | None = None
    ) -> SearchProgress:
        """Index, in small transactions, every event that predates the index.

        Raises:
            memory.MemoryLayerError: the database failed (progress so far is kept).
        """
        from runtime.search_index import backfill_index

        return await backfill_index(self.memory, on_progress=on_progress)
