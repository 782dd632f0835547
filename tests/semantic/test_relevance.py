"""Relevance: paraphrased questions over a small corpus, recall@5 by mode.

The figures are printed (``-s``) and written to the README; the check is that hybrid
finds more of the right sessions in its first five hits than text alone.
"""

from __future__ import annotations

from memory import MemoryBackend
from memory.vector_records import EventVectors
from runtime.embeddings.local import LocalEmbedder
from runtime.semantic_search import SearchMode, SemanticSearch
from runtime.settings import SearchSettings
from runtime.vector_index import index_pending
from tests.semantic.corpus import QUESTIONS, recall_at, seed


async def recall(searcher: SemanticSearch, mode: SearchMode) -> int:
    found = 0
    for question, expected in QUESTIONS:
        outcome = await searcher.search(question, mode=mode, limit=5)
        assert outcome.mode == mode, outcome.note
        found += recall_at(outcome.hits, expected)
    return found


async def test_hybrid_beats_text_on_paraphrases(
    vbackend: MemoryBackend, local_embedder: LocalEmbedder
) -> None:
    backend = vbackend
    assert isinstance(backend, EventVectors)
    kind = getattr(backend, "mode", "?")
    await seed(backend)
    await index_pending(backend, local_embedder)
    searcher = SemanticSearch(backend, SearchSettings(semantic=True), local_embedder)
    text = await recall(searcher, "text")
    semantic = await recall(searcher, "semantic")
    hybrid = await recall(searcher, "hybrid")
    total = len(QUESTIONS)
    print(
        f"\nrecall@5 over {total} paraphrased questions ({kind}): "
        f"text {text}/{total}, semantic {semantic}/{total}, hybrid {hybrid}/{total}"
    )
    assert hybrid > text
    assert hybrid >= total - 2
