"""Which tools a conversation's model really gets, and why not when it gets none.

The TUI shows :attr:`ToolSupport.label` in the session's status line and
:attr:`ToolSupport.reason` as a notice when there are none, so nobody wonders why a
model never calls the calculator.
"""

from __future__ import annotations

from dataclasses import dataclass

from runtime.providers.base import Provider
from runtime.settings import AgentSettings
from runtime.tools import ToolRegistry

__all__ = ["ToolSupport", "tool_support"]


@dataclass(frozen=True, slots=True)
class ToolSupport:
    """The tools a model can call.

    Attributes:
        names: the tools it can call (empty: none).
        reason: why it gets none (empty when it gets some).
    """

    names: tuple[str, ...]
    reason: str = ""

    @property
    def available(self) -> bool:
        """Whether any tool can be called."""
        return bool(self.names)

    @property
    def label(self) -> str:
        """``tools: a, b`` or ``no tools``, for a status line."""
        return f"tools: {', '.join(self.names)}" if self.names else "no tools"


def tool_support(provider: Provider, agent: AgentSettings, tools: ToolRegistry) -> ToolSupport:
    """What ``provider`` can call of ``tools`` under ``agent``'s settings."""
    if not agent.tools or not len(tools):
        return ToolSupport((), "Tools are turned off (TURNKEEP_AGENT__TOOLS=false).")
    if agent.tool_choice == "none":
        return ToolSupport((), "Tools are turned off (TURNKEEP_AGENT__TOOL_CHOICE=none).")
    if not provider.supports_tools:
        if provider.name == "local":
            return ToolSupport(
                (),
                f"{provider.model} runs on its own chat template, which has no tools. Set "
                "TURNKEEP_AGENT__CHAT_FORMAT=tool-router (calculator and search_sessions) "
                "or chatml-function-calling to offer them.",
            )
        return ToolSupport((), f"The {provider.name} provider offers no tools.")
    usable = getattr(provider, "usable_tools", None)
    names = tools.names()
    if callable(usable):
        names = list(usable(names))
    if not names:
        return ToolSupport((), f"{provider.model} can call none of the offered tools.")
    return ToolSupport(tuple(names))
