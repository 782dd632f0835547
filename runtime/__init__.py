"""turnkeep's runtime: settings, agent turns, providers, tools and the persistence worker.

Never imports Textual (a test proves it). Nothing here does I/O at import time.
"""

from runtime.errors import RuntimeLayerError, SettingsError
from runtime.settings import Settings, load_settings
from runtime.store import open_memory

__all__ = ["RuntimeLayerError", "Settings", "SettingsError", "load_settings", "open_memory"]
