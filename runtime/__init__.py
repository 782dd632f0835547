"""turnkeep's runtime: settings, agent turns, providers, tools and the persistence worker.

Never imports Textual (a test proves it). Nothing here does I/O at import time.

The pieces a front end wires together::

    memory = await open_memory(settings)
    worker = PersistenceWorker(memory)
    await worker.start()
    conversation = await Conversation.open(memory, worker, settings, session_id)
    async with contextlib.aclosing(conversation.send(text)) as progress:
        async for item in progress:
            ...  # TextDelta, ToolStarted, ToolFinished, then TurnFinished/Failed/Cancelled
    await conversation.close()
    unsaved = await worker.stop(timeout=10)
"""

from runtime.conversation import Conversation
from runtime.errors import (
    ContextOverflowError,
    ModelNotFoundError,
    PersistenceError,
    ProviderAuthError,
    ProviderConfigError,
    ProviderConnectionError,
    ProviderError,
    ProviderNotInstalledError,
    ProviderResponseError,
    RuntimeLayerError,
    ScriptError,
    SettingsError,
    ToolArgumentsError,
    ToolError,
    UnknownToolError,
    WorkerStoppedError,
)
from runtime.persistence import PersistenceWorker, WorkerState
from runtime.progress import (
    Progress,
    TextDelta,
    ToolFinished,
    ToolStarted,
    TurnCancelled,
    TurnFailed,
    TurnFinished,
)
from runtime.settings import AgentSettings, Settings, load_settings
from runtime.store import open_memory

__all__ = [
    "AgentSettings",
    "ContextOverflowError",
    "Conversation",
    "ModelNotFoundError",
    "PersistenceError",
    "PersistenceWorker",
    "Progress",
    "ProviderAuthError",
    "ProviderConfigError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderNotInstalledError",
    "ProviderResponseError",
    "RuntimeLayerError",
    "ScriptError",
    "Settings",
    "SettingsError",
    "TextDelta",
    "ToolArgumentsError",
    "ToolError",
    "ToolFinished",
    "ToolStarted",
    "TurnCancelled",
    "TurnFailed",
    "TurnFinished",
    "UnknownToolError",
    "WorkerState",
    "WorkerStoppedError",
    "load_settings",
    "open_memory",
]
