"""Indexing events saved before the search index existed, in the background.

Migration ``0004.search`` creates the index empty and records which events predate
it; :func:`backfill_index` indexes them in small batches (one read and one write
transaction each, progress stored with the rows it covers), sleeping between batches
so saves and the UI keep their turn. It resumes where it stopped after a kill, several
processes may run it at once, and search works on what is indexed meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from memory.protocol import EventSearch
from memory.search_records import SearchProgress

__all__ = ["BACKFILL_BATCH", "backfill_index", "describe_progress"]

#: Events indexed per transaction: short enough that a save point never waits long.
BACKFILL_BATCH = 500
#: Pause between batches (seconds), so other writers and the UI loop get their turn.
BACKFILL_PAUSE = 0.005


async def backfill_index(
    memory: EventSearch,
    *,
    batch: int = BACKFILL_BATCH,
    pause: float = BACKFILL_PAUSE,
    on_progress: Callable[[SearchProgress], None] | None = None,
) -> SearchProgress:
    """Index every event that predates the index; return the final progress.

    Args:
        memory: the backend.
        batch: events per transaction.
        pause: seconds to sleep between transactions.
        on_progress: called after each batch (and once at the start).

    Raises:
        memory.MemoryLayerError: the database failed (progress so far is kept).
    """
    progress = await memory.search_progress()
    if on_progress is not None:
        on_progress(progress)
    while not progress.complete:
        progress = await memory.backfill_search(batch)
        if on_progress is not None:
            on_progress(progress)
        await asyncio.sleep(pause)
    return progress


def describe_progress(progress: SearchProgress | None) -> str:
    """One line for people: ``complete`` or how much is left."""
    if progress is None:
        return "unknown (the search migration is not applied)"
    if progress.complete:
        return "complete"
    left = f"{progress.pending_events:,} older events to index"
    return left + (" (and session titles)" if progress.titles_pending else "")
