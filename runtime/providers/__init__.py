"""Model providers: ``local`` (in-process GGUF, the default), ``openai``, ``scripted``.

:func:`make_provider` builds the one the settings (or an explicit name) select. Each
provider module imports its heavy dependency lazily, so importing this package costs
nothing and a plain install without xllamacpp still runs the ``openai`` provider.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from runtime.errors import ProviderConfigError
from runtime.providers.base import (
    ChatRequest,
    Provider,
    ProviderChunk,
    StreamEnd,
    TextChunk,
    ToolCallChunk,
)
from runtime.settings import AgentSettings

__all__ = [
    "PROVIDER_NAMES",
    "ChatRequest",
    "Provider",
    "ProviderChunk",
    "StreamEnd",
    "TextChunk",
    "ToolCallChunk",
    "make_provider",
]

PROVIDER_NAMES: Final = ("local", "openai", "scripted")


def make_provider(
    agent: AgentSettings,
    name: str | None = None,
    *,
    model: str | None = None,
    script: Path | None = None,
) -> Provider:
    """Build a provider.

    Args:
        agent: the agent settings (model path, base URL, key, context window, ...).
        name: ``local``, ``openai`` or ``scripted``; ``None`` for ``agent.provider``.
        model: the model name; ``None`` for ``agent.model``.
        script: the scripted provider's script; ``None`` for ``agent.script``.

    Raises:
        ProviderConfigError: the name is unknown, or the provider cannot be set up
            (not installed, model file missing, no model name, unreadable script).
    """
    chosen = name or agent.provider
    model = model or agent.model
    if chosen == "local":
        from runtime.providers.local import LocalProvider

        return LocalProvider(
            agent.model_path,
            model=model,
            context_window=agent.context_window,
            threads=agent.threads,
            chat_format=agent.chat_format,
        )
    if chosen == "openai":
        from runtime.providers.openai import OpenAIProvider

        return OpenAIProvider(
            model=model,
            base_url=agent.base_url,
            api_key=agent.api_key,
            context_window=agent.context_window,
            timeout=agent.timeout,
        )
    if chosen == "scripted":
        from runtime.providers.scripted import ScriptedProvider, load_script

        path = script or agent.script
        return ScriptedProvider(None if path is None else load_script(path), model=model)
    raise ProviderConfigError(
        f"unknown provider {chosen!r}; choose one of {', '.join(PROVIDER_NAMES)}",
        hint="Set TURNKEEP_AGENT__PROVIDER or pass --provider.",
    )
