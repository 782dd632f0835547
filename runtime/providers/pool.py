"""One model provider per process: a local model loads once, not on every session open.

A GGUF model takes a moment and memory to load. The TUI opens a conversation each time
a session screen opens; every one of them shares the pool's provider as long as it is
the one the session asks for (same provider, and the same model when one is named).
A different one replaces it; the old one is closed with the pool.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memory import SessionInfo
    from runtime.providers import Provider
    from runtime.settings import AgentSettings

__all__ = ["ProviderPool"]


class ProviderPool:
    """The process's current model provider, made on first use.

    Args:
        agent: the agent settings (provider, model, model path, ...).
    """

    def __init__(self, agent: AgentSettings) -> None:
        self._agent = agent
        self._current: Provider | None = None
        self._retired: list[Provider] = []

    def for_session(self, info: SessionInfo | None) -> Provider:
        """The provider a session's turns run on (its stored provider and model, else the
        settings'), reusing the current one when it fits.

        Raises:
            ProviderConfigError: the provider cannot be set up.
        """
        agent = self._agent
        name = (info.provider if info is not None else None) or agent.provider
        same = info is not None and info.provider == name
        model = (info.model if same and info is not None else None) or agent.model
        current = self._current
        if current is not None and current.name == name and model in (None, current.model):
            return current
        from runtime.providers import make_provider  # not needed until a turn runs

        provider = make_provider(agent, name, model=model)
        self._current = provider
        if current is not None:
            self._retired.append(current)
        return provider

    async def close(self) -> None:
        """Release every provider the pool made. Safe to call twice."""
        providers = [*self._retired, *([self._current] if self._current else [])]
        self._retired, self._current = [], None
        for provider in providers:
            with contextlib.suppress(Exception):
                await provider.close()
