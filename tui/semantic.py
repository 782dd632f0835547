"""The app's semantic search: one searcher and one background indexer per app.

Kept out of :mod:`tui.services` (which it extends through attributes it sets) so the
feature stays in one place. Nothing here imports Textual. The indexer uses its own
connection to the database (a second backend opened without migrating), so its reads
and writes never queue in front of the save points on the app's connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from memory.errors import explain
from memory.vector_records import EventVectors
from runtime.semantic_search import SemanticSearch, attach

if TYPE_CHECKING:
    from tui.services import Services

__all__ = ["run_indexer", "searcher_of", "semantic_enabled"]


def semantic_enabled(services: Services) -> bool:
    """``search.semantic`` is on and memory is kept."""
    return bool(services.settings.search.semantic) and services.settings.mode != "disabled"


def searcher_of(services: Services) -> SemanticSearch:
    """The app's searcher (made on first use, attached for the agent's tool)."""
    searcher: SemanticSearch | None = getattr(services, "semantic", None)
    memory = services.require_memory()
    if searcher is None or searcher.memory is not memory:
        searcher = SemanticSearch(memory, services.settings.search)
        attach(memory, searcher)
        services.semantic = searcher
    return searcher


async def run_indexer(services: Services) -> None:
    """Keep the semantic index complete in the background, on its own connection.

    Progress goes to ``services.vector_progress``, failures to
    ``services.semantic_error`` (shown by Health and the search screen).
    """
    from runtime.embeddings import open_embedder
    from runtime.store import open_memory
    from runtime.vector_index import keep_indexed

    searcher = searcher_of(services)

    def progress(state: Any) -> None:
        services.vector_progress = state

    def failed(error: BaseException | None) -> None:
        line = None if error is None else explain(error).line()
        services.semantic_error = line

    try:
        embedder = searcher.embedder or open_embedder(services.settings.search)
    except Exception as exc:  # a setup error: shown, nothing indexed
        failed(exc)
        return
    searcher.embedder = embedder
    own = await open_memory(services.settings, migrate=False)
    try:
        if not isinstance(own, EventVectors):
            return
        await keep_indexed(own, embedder, on_progress=progress, on_error=failed)
    finally:
        await own.close()
