"""Embedding sources for semantic search: the local model or an OpenAI-compatible endpoint.

:func:`open_embedder` picks one from ``search.*`` settings: an unset
``embeddings_url`` means the local model (:mod:`runtime.embeddings.local`).
"""

from __future__ import annotations

from runtime.embeddings.base import TEXT_RECIPE, Embedder, to_blob
from runtime.embeddings.errors import (
    EmbeddingsConnectionError,
    EmbeddingsError,
    EmbeddingsNotInstalledError,
    EmbeddingsResponseError,
    EmbeddingsSetupError,
)
from runtime.settings import SearchSettings

__all__ = [
    "TEXT_RECIPE",
    "Embedder",
    "EmbeddingsConnectionError",
    "EmbeddingsError",
    "EmbeddingsNotInstalledError",
    "EmbeddingsResponseError",
    "EmbeddingsSetupError",
    "open_embedder",
    "to_blob",
]


def open_embedder(search: SearchSettings) -> Embedder:
    """The embedding source the settings select (nothing is loaded or contacted yet).

    Raises:
        EmbeddingsSetupError: a URL without a model name, or a malformed URL.
    """
    if search.embeddings_url:
        from runtime.embeddings.remote import RemoteEmbedder

        if not search.embeddings_model:
            raise EmbeddingsSetupError(
                "TURNKEEP_SEARCH__EMBEDDINGS_URL is set but TURNKEEP_SEARCH__EMBEDDINGS_MODEL "
                "is not: name the model the server should use"
            )
        key = search.embeddings_api_key
        return RemoteEmbedder(
            search.embeddings_url,
            search.embeddings_model,
            key.get_secret_value() if key else None,
            search.embeddings_timeout,
        )
    from runtime.embeddings.local import LocalEmbedder

    return LocalEmbedder()
