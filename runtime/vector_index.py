"""The background indexer of semantic search: embeds events not embedded yet.

Separate from the persistence worker and never on the save path: saving a turn writes
no vector. The indexer reads a small batch of events after its cursor, embeds their
text (in a worker thread for the local model), and writes the vectors with the cursor
move in one short transaction, guarded by the space's fingerprint and the cursor it
read (see :meth:`memory.sql.vectors.LibsqlVectors.store_vectors`). So:

* a kill loses at most the batch in flight (the next run starts at the cursor);
* several indexers (the TUI and ``turnkeep db index``) may run at once: a batch that
  lost the race is dropped and re-read;
* a new model or dimension (a new fingerprint) deletes the old space first, in one
  transaction, and the guard refuses vectors of the old space afterwards.

What is embedded, and why per event: each user message, assistant reply and summary,
its searchable text cut to :data:`EMBED_CHARS` characters (the model reads at most 256
word pieces, about that much English). One vector per event because a hit is an event
(full-text hits are events too, so the two rankings fuse on the same key, and a hit
opens the session at that event); a whole turn would blur the question with long tool
output. Tool calls and results are left to full-text search: they are mostly code and
logs that words find well, and they would triple the embedding work.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from memory.vector_records import EventVectors, VectorProgress, VectorSpace
from runtime.embeddings import Embedder, to_blob
from runtime.payloads import searchable_text

__all__ = [
    "EMBED_CHARS",
    "EMBED_KINDS",
    "INDEX_BATCH",
    "IndexRun",
    "describe_vector_progress",
    "embedding_text",
    "index_pending",
    "index_step",
    "prepare_space",
]

#: Characters of an event's text that are embedded.
EMBED_CHARS: Final = 1200
#: Kinds whose text is embedded (what people and the model said).
EMBED_KINDS: Final = frozenset({"user", "assistant", "summary"})
#: Events read per transaction (of which only the embeddable ones are embedded).
INDEX_BATCH: Final = 32
#: Pause between batches (seconds), so save points and the UI get their turn.
INDEX_PAUSE: Final = 0.02


def embedding_text(kind: str, payload_json: str) -> str | None:
    """The text embedded for an event, or ``None`` when it is not embedded."""
    if kind not in EMBED_KINDS:
        return None
    try:
        payload = json.loads(payload_json)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    text = " ".join(searchable_text(kind, payload, EMBED_CHARS).split())
    return text or None


@dataclass(frozen=True, slots=True)
class IndexRun:
    """What one indexing run did.

    Attributes:
        embedded: events this run embedded.
        progress: the index afterwards.
        space_changed: the fingerprint differed and the old vectors were deleted.
    """

    embedded: int
    progress: VectorProgress
    space_changed: bool


async def prepare_space(memory: EventVectors, embedder: Embedder) -> tuple[VectorSpace, bool]:
    """The embedder's space, made the index's (re-embed everything if it changed).

    Raises:
        runtime.embeddings.EmbeddingsError: the embedder cannot say its dimension.
        memory.MemoryLayerError: the database failed.
    """
    space = VectorSpace(await embedder.fingerprint(), embedder.model, await embedder.dimension())
    changed = await memory.use_vector_space(space)
    return space, changed


async def index_step(
    memory: EventVectors, embedder: Embedder, space: VectorSpace, batch: int = INDEX_BATCH
) -> tuple[int, bool]:
    """Embed one batch after the cursor: ``(events embedded, whether anything was left)``.

    Raises:
        runtime.embeddings.EmbeddingsError: embedding failed (nothing was written).
        memory.MemoryLayerError: the database failed (the cursor did not move).
    """
    cursor, events = await memory.pending_vector_events(batch)
    if not events:
        return 0, False
    chosen = [
        (e.event_id, t)
        for e in events
        if not e.embedded and (t := embedding_text(e.kind, e.payload))
    ]
    blobs: list[tuple[int, bytes]] = []
    if chosen:
        vectors = await embedder.embed([text for _, text in chosen])
        blobs = [(eid, to_blob(vectors[i])) for i, (eid, _) in enumerate(chosen)]
    stored = await memory.store_vectors(space, cursor, events[-1].event_id, blobs)
    return (len(blobs) if stored else 0), True


async def index_pending(
    memory: EventVectors,
    embedder: Embedder,
    *,
    batch: int = INDEX_BATCH,
    pause: float = INDEX_PAUSE,
    on_progress: Callable[[VectorProgress], None] | None = None,
    until_complete: bool = True,
) -> IndexRun:
    """Embed what is pending; return how many this run embedded.

    Args:
        until_complete: keep going while events are saved meanwhile; otherwise stop
            after the events that were pending when the run started.

    Raises:
        runtime.embeddings.EmbeddingsError: embedding failed (vectors so far are kept).
        memory.MemoryLayerError: the database failed (vectors so far are kept).
    """
    space, changed = await prepare_space(memory, embedder)
    progress = await memory.vector_progress()
    if on_progress is not None:
        on_progress(progress)
    budget = None if until_complete else progress.pending
    embedded = 0
    looked_at = 0
    while budget is None or looked_at < budget:
        done, more = await index_step(memory, embedder, space, batch)
        embedded += done
        looked_at += batch
        if not more:
            break
        if on_progress is not None:
            on_progress(await memory.vector_progress())
        await asyncio.sleep(pause)
    progress = await memory.vector_progress()
    if on_progress is not None:
        on_progress(progress)
    return IndexRun(embedded, progress, changed)


def describe_vector_progress(progress: VectorProgress | None) -> str:
    """One line for people about the semantic index."""
    if progress is None:
        return "unavailable (migration 0006.vectors is not applied)"
    if progress.fingerprint is None:
        return "not built yet (run `turnkeep db index`)"
    state = "complete" if progress.complete else f"{progress.pending:,} events to look at"
    return (
        f"{state}; {progress.embedded:,} embedded with {progress.model} "
        f"({progress.dimension} dimensions)"
    )
