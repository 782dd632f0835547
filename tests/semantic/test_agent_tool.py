"""The agent's ``search_sessions`` tool uses hybrid when the app attached a searcher."""

from __future__ import annotations

from memory import MemoryBackend
from runtime.embeddings.local import LocalEmbedder
from runtime.semantic_search import SemanticSearch, attach, searcher_for
from runtime.settings import SearchSettings
from runtime.tools import ToolContext, default_tools
from runtime.vector_index import index_pending
from tests.semantic.corpus import seed


async def test_search_sessions_tool_runs_hybrid_when_available(
    vbackend: MemoryBackend, local_embedder: LocalEmbedder
) -> None:
    await seed(vbackend)
    tools = default_tools()
    context = ToolContext(memory=vbackend, session_id="agent")
    plain = await tools.call("search_sessions", {"query": "prevent SQL injection"}, context)
    assert plain["events"] == [] and "mode" not in plain  # words alone find nothing
    searcher = SemanticSearch(vbackend, SearchSettings(semantic=True), local_embedder)
    attach(vbackend, searcher)
    assert searcher_for(vbackend) is searcher
    # Not indexed yet: text, and the tool says why.
    early = await tools.call("search_sessions", {"query": "prevent SQL injection"}, context)
    assert early["mode"] == "text" and "not built yet" in early["note"]
    await index_pending(vbackend, local_embedder)  # type: ignore[arg-type]  # a LibsqlMemory
    found = await tools.call("search_sessions", {"query": "prevent SQL injection"}, context)
    assert found["mode"] == "hybrid" and "note" not in found
    assert found["events"][0]["session_id"] == "sqlinj"


async def test_warm_loads_the_embedded_cache(
    vbackend: MemoryBackend, local_embedder: LocalEmbedder
) -> None:
    await seed(vbackend)
    await index_pending(vbackend, local_embedder)  # type: ignore[arg-type]  # a LibsqlMemory
    searcher = SemanticSearch(vbackend, SearchSettings(semantic=True), local_embedder)
    await searcher.warm()
    cache = getattr(vbackend, "_vector_cache", None)
    if getattr(vbackend, "mode", None) == "remote":
        assert cache is None  # the server ranks: nothing is held here
    else:
        holder = getattr(vbackend, "_vectors", vbackend)  # the in-process backend's index
        cache = getattr(holder, "_vector_cache", None)
        assert cache is not None and len(cache.ids) == 3 * 12
