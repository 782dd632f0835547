"""Search and the index backfill for :class:`~memory.sql.store.LibsqlMemory` (both modes).

The SQL is in :mod:`memory.sql.search_statements`; this mixin runs it: a search is one statement
(one round trip remotely), a backfill step is one read and one write batch.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from memory.drivers.base import Result, Statement
from memory.drivers.cancellable import ReadPace, cancellable_rows
from memory.sql import search_shapes, search_words
from memory.sql.search_hits import hits_from_rows
from memory.sql.search_pending import SETTLE_BATCH, settle_statements
from memory.sql.search_statements import (
    COMPLETE,
    INSERT_EVENT_BY_ID,
    SearchHit,
    SearchProgress,
    TextOf,
    generic_text,
    index_values,
    search_statement,
    title_statements,
)
from memory.sql.search_words import with_words

__all__ = ["LibsqlSearch"]


#: The FTS5 tables whose segments :meth:`LibsqlSearch.tidy_search` merges.
_TIDIED = ("search_events", "search_words", "search_titles")
#: FTS5's incremental 'merge' of up to ``?`` pages of one table (taking any level of two
#: segments or more, migration 0013).
_MERGES = tuple(f"INSERT INTO {t} ({t}, rank) VALUES ('merge', ?)" for t in _TIDIED)
_CHANGES = "SELECT total_changes()"
#: A backfill step looks at most this many times its batch of event ids.
_WINDOW = 20

_PROGRESS = (
    "SELECT p.backfill_until, p.backfill_done, p.titles_done, "
    "(SELECT count(*) FROM conversation_events "
    " WHERE id > p.backfill_done AND id <= p.backfill_until), "
    "(SELECT count(*) FROM search_pending) "
    "FROM search_progress p WHERE p.id = 1"
)


#: A backfill step's events: those with no index row, and those indexed before migration
#: 0014 whose text may have been cut (each with whether it has rows to replace).
_BACKFILL_READ = (
    "SELECT e.id, e.kind, e.payload, "
    "EXISTS (SELECT 1 FROM search_events f WHERE f.rowid = e.id) AS indexed "
    "FROM conversation_events e WHERE e.id > ?1 AND e.id <= ?2 "
    "AND NOT EXISTS (SELECT 1 FROM search_pending p WHERE p.id = e.id) "
    "AND (NOT EXISTS (SELECT 1 FROM search_events f WHERE f.rowid = e.id) "
    "OR (e.id <= (SELECT reindex_upto FROM search_progress WHERE id = 1) "
    "AND length(e.payload) > CASE WHEN substr(e.kind, 1, 4) = 'tool' THEN 2048 ELSE 32768 END)) "
    "ORDER BY e.id LIMIT ?3"
)


def _unindex(event_id: int) -> list[tuple[str, list[Any]]]:
    """Remove an event's rows from both indexes (the word index is contentless: a row
    goes by giving its values back, read from the trigram index's copy)."""
    return [
        (
            "INSERT INTO search_words (search_words, rowid, mine, reply, tool) "
            "SELECT 'delete', rowid, mine, reply, tool FROM search_events WHERE rowid = ?",
            [event_id],
        ),
        ("DELETE FROM search_events WHERE rowid = ?", [event_id]),
    ]


@functools.lru_cache(maxsize=64)
def _plan(
    query: str,
    limit: int,
    session_id: str | None,
    kinds: tuple[str, ...],
    since: str | None,
    windows: tuple[int, ...],
) -> tuple[str, tuple[Any, ...], tuple[str, ...]] | None:
    """:func:`search_statement` as ``(sql, args, scan_terms)``, kept for the latest
    queries: a statement is a pure function of them and of the plans' window sizes
    (``windows``, part of the key so a changed size is seen), and building one took
    10-20 us of a rare word's 0.3 ms search. The arguments are a tuple so the cached plan
    cannot be changed by a caller."""
    del windows  # read by the statement builders themselves
    plan = search_statement(query, limit=limit, session_id=session_id, kinds=kinds, since=since)
    if plan is None:
        return None
    return plan.sql, tuple(plan.args), plan.scan_terms


class LibsqlSearch:
    """The search capability, written once for both modes."""

    _search_text_of: TextOf | None = None
    _search_pace: ReadPace | None = None

    async def _rows(self, sql: str, args: list[Any]) -> list[tuple[Any, ...]]:
        raise NotImplementedError  # provided by LibsqlMemory

    async def _batch(self, stmts: Sequence[Statement]) -> list[Result]:
        raise NotImplementedError  # provided by LibsqlMemory

    def use_search_text(self, text_of: TextOf) -> None:
        """Index events with ``text_of`` (the runtime gives its payload reader)."""
        self._search_text_of = text_of

    @property
    def search_text_of(self) -> TextOf:
        """The function giving an event's searchable text."""
        return self._search_text_of or generic_text

    async def search(
        self,
        query: str,
        *,
        limit: int = 20,
        session_id: str | None = None,
        kinds: tuple[str, ...] = (),
        since: str | None = None,
    ) -> list[SearchHit]:
        """See :meth:`memory.protocol.EventSearch.search`."""
        windows = (search_words.RANK_WINDOW, search_words.GRAM_WINDOW, search_shapes.SCAN_WINDOW)
        plan = _plan(query, limit, session_id, tuple(kinds), since, windows)
        if plan is None:
            return []
        sql, args, scan_terms = plan
        rows = await self._search_rows(sql, args)
        return hits_from_rows(rows, scan_terms)

    async def _search_rows(self, sql: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
        """A search's rows; abandoned early when the caller stops waiting (a newer
        keystroke), see :mod:`memory.drivers.cancellable`."""
        driver = getattr(self, "_driver", None)
        if driver is None:
            return await self._rows(sql, list(args))
        if self._search_pace is None:
            self._search_pace = ReadPace()
        return await cancellable_rows(driver, sql, args, pace=self._search_pace)

    async def settle_search(self, batch: int = SETTLE_BATCH) -> int:
        """See :meth:`memory.protocol.EventSearch.settle_search`."""
        results = await self._batch(settle_statements(max(1, batch)))
        return int(results[-1].rows[0][0])

    async def tidy_search(self, pages: int = 64) -> bool:
        """See :meth:`memory.protocol.EventSearch.tidy_search`.

        FTS5 tells whether a 'merge' did anything only through the change counter: a
        'merge' that finds nothing to merge counts one change (its own command row), one
        that merges counts every page it writes.
        """
        budget = max(1, pages)
        # The merges between two readings of the connection's change counter, in one
        # transaction.
        results = await self._batch(
            [(_CHANGES, []), *((sql, [budget]) for sql in _MERGES), (_CHANGES, [])]
        )
        before, after = int(results[0].rows[0][0]), int(results[-1].rows[0][0])
        return after - before > len(_TIDIED)

    async def search_progress(self) -> SearchProgress:
        """See :meth:`memory.protocol.EventSearch.search_progress`."""
        rows = await self._rows(_PROGRESS, [])
        if not rows:
            return COMPLETE
        until, done, titles_done, pending, waiting = (int(v) for v in rows[0])
        return SearchProgress(pending, not titles_done, done, until, waiting)

    async def backfill_search(self, batch: int = 500) -> SearchProgress:
        """See :meth:`memory.protocol.EventSearch.backfill_search`."""
        progress = await self.search_progress()
        if progress.complete:
            return progress
        stmts: list[tuple[str, list[Any]]] = []
        if progress.titles_pending:
            titles = await self._rows("SELECT id, title FROM sessions WHERE title IS NOT NULL", [])
            for sid, title in titles:
                stmts += title_statements(str(sid), str(title))
            stmts.append(("UPDATE search_progress SET titles_done = 1 WHERE id = 1", []))
        if progress.pending_events:
            # Only events with no index row are read, and those that migration 0014
            # left to be indexed again (their text may have been cut the old way),
            # within a window of ids so one step's read stays bounded however few of
            # them there are.
            window_end = min(progress.backfill_until, progress.indexed_upto + _WINDOW * batch)
            rows = await self._rows(
                _BACKFILL_READ, [progress.indexed_upto, window_end, max(1, batch)]
            )
            for event_id, kind, payload, indexed in rows:
                if indexed:
                    stmts += _unindex(int(event_id))
                values = index_values(self.search_text_of, str(kind), str(payload))
                stmts.append((INSERT_EVENT_BY_ID, [*values, event_id]))
            upto = int(rows[-1][0]) if len(rows) >= batch else window_end
            stmts.append(
                (
                    "UPDATE search_progress SET backfill_done = max(backfill_done, ?) WHERE id = 1",
                    [upto],
                )
            )
        await self._batch(with_words(stmts))
        return await self.search_progress()
