"""The documented exit codes of ``turnkeep`` and the typed error each one stands for.

Apart from the command line so the app (which exits with them too) never imports it.
"""

from __future__ import annotations

from memory.errors import MigrationError, ReadOnlyError, StoreConfigError, StoreConnectionError
from runtime.embeddings.errors import EmbeddingsConnectionError
from runtime.errors import ProviderAuthError, ProviderConnectionError, SettingsError
from runtime.session_ids import AmbiguousSessionIdError, EmptySessionIdError

__all__ = [
    "EXIT_CONFIG",
    "EXIT_CONNECTION",
    "EXIT_INTERRUPTED",
    "EXIT_MIGRATION",
    "EXIT_OK",
    "EXIT_OTHER",
    "exit_code_for",
]

EXIT_OK = 0
EXIT_OTHER = 1
EXIT_CONFIG = 2
EXIT_CONNECTION = 3
EXIT_MIGRATION = 4
EXIT_INTERRUPTED = 130


def exit_code_for(exc: BaseException) -> int:
    """Map a typed error to the documented exit code."""
    if isinstance(exc, (SettingsError, StoreConfigError)):
        return EXIT_CONFIG
    if isinstance(exc, (AmbiguousSessionIdError, EmptySessionIdError)):
        # Like a usage error: the command line did not name one session.
        return EXIT_CONFIG
    if isinstance(exc, (StoreConnectionError, ReadOnlyError)):
        # A read-only file or token is an access problem, like a refused token.
        return EXIT_CONNECTION
    if isinstance(exc, (ProviderConnectionError, ProviderAuthError, EmbeddingsConnectionError)):
        # The model or embeddings server: connection or authentication, as the README says.
        return EXIT_CONNECTION
    if isinstance(exc, MigrationError):
        return EXIT_MIGRATION
    return EXIT_OTHER
