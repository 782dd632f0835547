"""What a live turn streams to its caller, so a UI can render it as it happens.

:meth:`runtime.conversation.Conversation.send` yields these in order: any number of
:class:`TextDelta`, :class:`ToolStarted` and :class:`ToolFinished`, then exactly one of
:class:`TurnFinished`, :class:`TurnCancelled` (a cooperative cancel) or
:class:`TurnFailed` (a provider error; the error is also stored as an ``error`` event).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runtime.errors import RuntimeLayerError

__all__ = [
    "Progress",
    "TextDelta",
    "ToolFinished",
    "ToolStarted",
    "TurnCancelled",
    "TurnFailed",
    "TurnFinished",
]


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the assistant's streamed text."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolStarted:
    """The model called a tool; it is running now."""

    call_id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolFinished:
    """A tool call ended: ``result`` when it worked, else ``error`` (a message)."""

    call_id: str
    name: str
    result: Any
    error: str | None


@dataclass(frozen=True, slots=True)
class TurnFinished:
    """The turn completed; ``text`` is all the assistant text it streamed.

    ``cut_off``: the last answer stopped at the length limit (``agent.max_tokens``)."""

    turn: int
    text: str
    cut_off: bool = False


@dataclass(frozen=True, slots=True)
class TurnCancelled:
    """The turn was cancelled cooperatively; what had streamed is in ``partial_text``."""

    turn: int
    partial_text: str


@dataclass(frozen=True, slots=True)
class TurnFailed:
    """The turn ended with a typed error (stored as an ``error`` event)."""

    turn: int
    error: RuntimeLayerError


Progress = TextDelta | ToolStarted | ToolFinished | TurnFinished | TurnCancelled | TurnFailed
