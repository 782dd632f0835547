"""The app's semantic search: one searcher and one background indexer per app.

Kept out of :mod:`tui.services` (which it extends through attributes it sets) so the
feature stays in one place. Nothing here imports Textual. The indexer uses its own
connection to the database (a second backend opened without migrating), so its reads
and writes never queue in front of the save points on the app's connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from memory.errors import explain

if TYPE_CHECKING:
    from runtime.semantic_search import SemanticSearch
    from tui.services import Services

__all__ = ["INDEX_EVERY", "run_indexer", "searcher_of", "semantic_enabled"]

#: Seconds between indexing runs (new turns are embedded within about this long).
INDEX_EVERY = 10.0


def semantic_enabled(services: Services) -> bool:
    """``search.semantic`` is on and memory is kept."""
    return bool(services.settings.search.semantic) and services.settings.mode != "disabled"


def searcher_of(services: Services) -> SemanticSearch:
    """The app's searcher (made on first use, attached for the agent's tool)."""
    return services.sessions.searcher(services.settings.search)


async def run_indexer(services: Services) -> None:
    """Embed what is pending now, on the indexer's own connection, then return.

    The app runs this at start and again every :data:`INDEX_EVERY` seconds (never two
    at once). Progress goes to ``services.vector_progress``, a failure to
    ``services.semantic_error`` (shown by Health and the search screen; the next run
    retries, and a successful run clears it).
    """
    from runtime.embeddings import open_embedder
    from runtime.sessions import Sessions

    searcher = searcher_of(services)

    def progress(state: Any) -> None:
        services.vector_progress = state

    try:
        embedder = searcher.embedder or open_embedder(services.settings.search)
        searcher.embedder = embedder
        own = await Sessions.open(services.settings, migrate=False)
        try:
            if own.has_vectors:
                await own.index_vectors(embedder, on_progress=progress)
        finally:
            await own.close()
        await searcher.warm()  # the app's connection reads the new vectors now
    except Exception as exc:  # shown on Health and in the search header, retried later
        services.semantic_error = explain(exc).line()
        return
    services.semantic_error = None
