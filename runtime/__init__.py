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

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

#: Every public name, imported from its module on first use: ``from runtime.errors
#: import X`` (what the command line does first) then costs one small module, not the
#: whole runtime (providers, settings, the conversation).
_LAZY = {
    "AgentSettings": "runtime.settings",
    "ContextOverflowError": "runtime.errors",
    "Conversation": "runtime.conversation",
    "ModelNotFoundError": "runtime.errors",
    "PersistenceError": "runtime.errors",
    "PersistenceWorker": "runtime.persistence",
    "Progress": "runtime.progress",
    "ProviderAuthError": "runtime.errors",
    "ProviderConfigError": "runtime.errors",
    "ProviderConnectionError": "runtime.errors",
    "ProviderError": "runtime.errors",
    "ProviderNotInstalledError": "runtime.errors",
    "ProviderResponseError": "runtime.errors",
    "RuntimeLayerError": "runtime.errors",
    "ScriptError": "runtime.errors",
    "Settings": "runtime.settings",
    "SettingsError": "runtime.errors",
    "TextDelta": "runtime.progress",
    "ToolArgumentsError": "runtime.errors",
    "ToolError": "runtime.errors",
    "ToolFinished": "runtime.progress",
    "ToolStarted": "runtime.progress",
    "TurnCancelled": "runtime.progress",
    "TurnFailed": "runtime.progress",
    "TurnFinished": "runtime.progress",
    "UnknownToolError": "runtime.errors",
    "WorkerState": "runtime.persistence",
    "WorkerStoppedError": "runtime.errors",
    "load_settings": "runtime.settings",
    "open_memory": "runtime.store",
}


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (see :data:`_LAZY`)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runtime' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
