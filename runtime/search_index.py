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
from memory.search_records import SETTLE_BATCH, SearchProgress

__all__ = [
    "BACKFILL_BATCH",
    "SETTLE_BATCH",
    "TIDY_PAGES",
    "backfill_index",
    "describe_progress",
    "settle_index",
    "tidy_index",
]

#: Events indexed per transaction: short enough that a save point never waits long.
BACKFILL_BATCH = 500
#: Pause between batches (seconds), so other writers and the UI loop get their turn.
BACKFILL_PAUSE = 0.005
#: Pages per index merged in one tidy transaction: a few milliseconds of writing, so a
#: save point or a search queued behind it hardly waits.
TIDY_PAGES = 32
#: Pause between tidy transactions (seconds).
TIDY_PAUSE = 0.02


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


async def settle_index(
    memory: EventSearch,
    *,
    batch: int = SETTLE_BATCH,
    max_steps: int | None = None,
    give_way: Callable[[], bool] | None = None,
) -> int:
    """Move the newest events' waiting substring rows into the index (see
    :meth:`memory.protocol.EventSearch.settle_search`); return how many were moved.

    Args:
        batch: rows per transaction.
        max_steps: stop after this many transactions (``None``: until none waits).
        give_way: asked before each further transaction; ``True`` (a save point is
            queued) stops here, the rest left for the next idle time.

    Raises:
        memory.MemoryLayerError: the database failed (what was moved stays moved).
    """
    moved = steps = 0
    while max_steps is None or steps < max_steps:
        count = await memory.settle_search(batch)
        moved += count
        steps += 1
        if count < batch or (give_way is not None and give_way()):
            break
    return moved


async def tidy_index(
    memory: EventSearch,
    *,
    pages: int = TIDY_PAGES,
    pause: float = TIDY_PAUSE,
    max_steps: int | None = None,
    give_way: Callable[[], bool] | None = None,
) -> int:
    """Move the waiting substring rows into the index, then merge the index's pieces
    until nothing is left to merge (or ``give_way`` says stop); return the number of
    transactions that moved or merged something.

    Each save point adds a small piece (an FTS5 segment) to the index and a search
    reads them all; merging them in idle time keeps a search over a long history as
    fast as over a short one (migration ``0013.search-tidy``).

    Args:
        memory: the backend.
        pages: pages merged per index per transaction.
        pause: seconds to sleep between transactions.
        max_steps: stop after this many transactions (``None``: until done).
        give_way: asked before each transaction; ``True`` (someone is searching) stops
            the tidy there, to be run again later: a merge step can take 0.1 s on a
            large index and a search would queue behind it. (It stops rather than
            waits, so no task lingers while someone searches.)

    Raises:
        memory.MemoryLayerError: the database failed (what was merged stays merged).
    """
    steps = 0
    settled = False
    while max_steps is None or steps < max_steps:
        if give_way is not None and give_way():
            break
        if not settled:
            # The newest events' substring rows first (memory.sql.search_pending), until
            # none waits; then only merges (no empty move before each of them).
            moved = await memory.settle_search(SETTLE_BATCH)
            settled = moved < SETTLE_BATCH
            if moved:
                steps += 1
                await asyncio.sleep(pause)
                continue
        if not await memory.tidy_search(pages):
            break
        steps += 1
        await asyncio.sleep(pause)
    return steps


def describe_progress(progress: SearchProgress | None) -> str:
    """One line for people: ``complete`` or how much is left."""
    if progress is None:
        return "unknown (the search migration is not applied)"
    waiting = progress.waiting_rows
    moving = (
        f"; {waiting:,} just-saved event{'s' if waiting != 1 else ''} waiting for the "
        "substring index (searched meanwhile)"
        if waiting
        else ""
    )
    if progress.complete:
        return "complete" + moving
    left = f"{progress.pending_events:,} older events to index"
    return left + (" (and session titles)" if progress.titles_pending else "") + moving
