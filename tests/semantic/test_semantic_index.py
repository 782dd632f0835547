"""The semantic index on every SQL backend (embedded file, sqld over ws and http), with
the real local model: indexing, ranking, filters, forget, the vector format libSQL
reads, and saving while the indexer runs."""

from __future__ import annotations

import asyncio
import struct
from typing import Any

import numpy as np
import pytest

from memory import EventDraft, MemoryBackend
from memory.vector_records import EventVectors, VectorSpace
from runtime import payloads
from runtime.embeddings.local import LocalEmbedder
from runtime.semantic_search import SemanticSearch
from runtime.settings import SearchSettings
from runtime.vector_index import embedding_text, index_pending, prepare_space
from tests.semantic.conftest import raw_rows
from tests.semantic.corpus import EMBEDDABLE, seed


def vectors_of(memory: Any) -> EventVectors:
    assert isinstance(memory, EventVectors)
    return memory


async def test_index_rank_filter_forget(
    vbackend: MemoryBackend, local_embedder: LocalEmbedder
) -> None:
    memory = vectors_of(vbackend)
    await seed(vbackend)
    before = await memory.vector_progress()
    assert (before.fingerprint, before.embedded) == (None, 0) and not before.complete
    run = await index_pending(memory, local_embedder, batch=7)
    assert run.space_changed and run.embedded == EMBEDDABLE
    assert run.progress.complete and run.progress.embedded == EMBEDDABLE
    assert (run.progress.model, run.progress.dimension) == (local_embedder.model, 384)
    # Nothing more to do: a second run embeds nothing and keeps the space.
    again = await index_pending(memory, local_embedder)
    assert (again.embedded, again.space_changed) == (0, False)

    space, _ = await prepare_space(memory, local_embedder)
    query = (await local_embedder.embed(["make uploads idempotent"], query=True))[0]
    blob = query.astype("<f4").tobytes()
    hits = await memory.vector_search(space, blob, limit=5)
    assert hits[0].session_id == "uploads" and len(hits) == 5
    assert [h.score for h in hits] == sorted(h.score for h in hits)
    only_user = await memory.vector_search(space, blob, limit=50, kinds=("user",))
    assert only_user and {h.kind for h in only_user} == {"user"}
    one = await memory.vector_search(space, blob, limit=50, session_id="docker")
    assert {h.session_id for h in one} == {"docker"} and len(one) == 3
    assert await memory.vector_search(space, blob, limit=5, since="2999-01-01") == []

    # Vectors are little-endian float32 (libSQL's vector32 format), model and dimension kept.
    rows = await raw_rows(vbackend, "SELECT model, dimension, vector FROM event_vectors LIMIT 1")
    model, dimension, stored = rows[0]
    assert (model, dimension, len(stored)) == (local_embedder.model, 384, 4 * 384)
    values = np.array(struct.unpack("<384f", bytes(stored)), dtype=np.float32)
    assert abs(float(np.linalg.norm(values)) - 1.0) < 1e-3

    # forget removes the session's vectors and keeps the counts exact; an old session
    # leaves the cursor where it is (nothing is re-read or re-embedded).
    await vbackend.forget("uploads")
    after = await memory.vector_progress()
    assert after.embedded == EMBEDDABLE - 3
    assert (after.indexed_upto, after.pending) == (run.progress.indexed_upto, 0)
    assert all(h.session_id != "uploads" for h in await memory.vector_search(space, blob))
    count = await raw_rows(vbackend, "SELECT count(*) FROM event_vectors")
    assert count[0][0] == after.embedded
    # Deleting the newest session moves the cursor back to the largest id left, so
    # reused ids get embedded; the vectors of older events are not embedded again.
    await vbackend.forget("backup")
    rewound = await memory.vector_progress()
    assert rewound.indexed_upto == run.progress.indexed_upto - 3 and rewound.pending == 0
    await vbackend.store("docker", [EventDraft("user", payloads.user("slim base images"))])
    resumed = await index_pending(memory, local_embedder)
    assert resumed.embedded == 1 and resumed.progress.embedded == EMBEDDABLE - 6 + 1


@pytest.mark.parametrize("vbackend", ["remote-ws"], indirect=True)
async def test_sqld_reads_the_blobs_as_vectors(
    vbackend: MemoryBackend, local_embedder: LocalEmbedder
) -> None:
    """libSQL's own vector functions accept the stored bytes unchanged."""
    await seed(vbackend)
    await index_pending(vectors_of(vbackend), local_embedder)
    rows = await raw_rows(
        vbackend,
        "SELECT vector_extract(vector), vector_distance_cos(vector, vector) "
        "FROM event_vectors ORDER BY event_id LIMIT 1",
    )
    extracted, self_distance = rows[0]
    assert extracted.startswith("[") and len(extracted.split(",")) == 384
    assert abs(self_distance) < 1e-5


async def test_hybrid_and_modes(vbackend: MemoryBackend, local_embedder: LocalEmbedder) -> None:
    await seed(vbackend)
    searcher = SemanticSearch(vbackend, SearchSettings(semantic=True), local_embedder)
    # Nothing embedded yet: the default is text, and asking for more says why it ran text.
    assert await searcher.default_mode() == "text"
    fallback = await searcher.search("make uploads idempotent", mode="hybrid")
    assert fallback.mode == "text" and fallback.note and "db index" in fallback.note
    await index_pending(vectors_of(vbackend), local_embedder)
    assert await searcher.default_mode() == "hybrid"
    outcome = await searcher.search("make uploads idempotent")
    assert outcome.mode == "hybrid" and outcome.note is None
    assert outcome.hits[0].session_id == "uploads"
    assert all(d["mode"] == "hybrid" for d in outcome.hit_dicts())
    semantic = await searcher.search("docker image size", mode="semantic", limit=3)
    assert semantic.mode == "semantic" and semantic.hits[0].session_id == "docker"
    text = await searcher.search("docker", mode="text")
    assert text.mode == "text" and text.note is None


async def test_saving_while_indexing_writes_no_vector_and_loses_nothing(
    vbackend: MemoryBackend, local_embedder: LocalEmbedder
) -> None:
    """Save points never touch the vector tables; the indexer picks new turns up."""
    memory = vectors_of(vbackend)
    await seed(vbackend)
    before = await raw_rows(vbackend, "SELECT * FROM vector_state")
    await vbackend.store("uploads", [EventDraft("user", payloads.user("one more question"))])
    assert await raw_rows(vbackend, "SELECT * FROM vector_state") == before
    assert (await raw_rows(vbackend, "SELECT count(*) FROM event_vectors"))[0][0] == 0

    indexing = asyncio.create_task(index_pending(memory, local_embedder, batch=4, pause=0))
    saved = []
    for i in range(10):
        saved += await vbackend.store(
            "flaky", [EventDraft("assistant", payloads.assistant(f"retry number {i} passed"))]
        )
        await asyncio.sleep(0)
    await indexing
    assert len(saved) == 10
    final = await index_pending(memory, local_embedder)
    assert final.progress.complete
    assert final.progress.embedded == EMBEDDABLE + 1 + 10


def test_what_is_embedded() -> None:
    assert embedding_text("user", '{"content": "  hello\\n world "}') == "hello world"
    assert embedding_text("assistant", '{"content": "x" }') == "x"
    assert embedding_text("tool_result", '{"name": "ls", "result": "a"}') is None
    assert embedding_text("user", '{"content": ""}') is None
    assert embedding_text("user", "not json") is None
    long = embedding_text("user", '{"content": "%s"}' % ("word " * 1000))
    assert long is not None and len(long) <= 1200


async def test_stale_space_or_cursor_writes_nothing(
    vbackend: MemoryBackend, local_embedder: LocalEmbedder
) -> None:
    """The guard: a batch of another space, or read before a change, is refused whole."""
    memory = vectors_of(vbackend)
    await seed(vbackend)
    space, _ = await prepare_space(memory, local_embedder)
    cursor, events = await memory.pending_vector_events(4)
    blob = np.ones(384, dtype="<f4").tobytes()
    other = VectorSpace("other|m|384|x", "m", 384)
    assert not await memory.store_vectors(other, cursor, events[-1].event_id, [(1, blob)])
    await vbackend.forget("backup")  # events deleted after the cursor was read
    assert not await memory.store_vectors(space, cursor, events[-1].event_id, [(1, blob)])
    assert (await memory.vector_progress()).embedded == 0
    cursor, events = await memory.pending_vector_events(4)
    assert await memory.store_vectors(space, cursor, events[-1].event_id, [(1, blob)])
    assert (await memory.vector_progress()).embedded == 1
