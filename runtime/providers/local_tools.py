"""The ``local`` provider's tool router and sampling settings, run on its model thread.

:func:`route_tools` asks the loaded model the two questions of
:mod:`runtime.providers.tool_router` for a new user message with tools offered, and
returns either a :class:`RoutedCall` (a well-formed call to hand to the runtime) or the
request to answer in text. After a routed call's result it rewrites the request so the
model answers from the result.

:data:`SAMPLING` holds the settings added to every text generation (a fixed seed).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Final

from runtime.errors import ContextOverflowError, ProviderResponseError
from runtime.providers.base import ChatRequest
from runtime.providers.tool_router import (
    arguments_request,
    build_arguments,
    last_user_message,
    offered_routable,
    parse_route,
    route_request,
    tool_result_messages,
)

__all__ = [
    "ROUTER_CHAT_FORMAT",
    "SAMPLING",
    "RoutedCall",
    "chunk_text",
    "resolve_chat_format",
    "route_tools",
]

ROUTER_CHAT_FORMAT: Final = "tool-router"
#: Longer user messages are answered in text without the route question: a tool-worthy
#: request is short, and the question must fit the model's context with its examples.
ROUTE_MAX_CHARS: Final = 2000

#: Added to every generation request: a fixed seed, so the same prompt at the same
#: temperature gives the same answer. No repetition penalty: measured on SmolLM2, DRY and
#: repeat_penalty break what an answer must copy (the figure from a tool result, "the
#: capital of France" from the question); loops are stopped by
#: :class:`~runtime.repetition.RepetitionGuard` instead.
SAMPLING: Final[dict[str, Any]] = {"seed": 42}


def chunk_text(chunk: Any) -> str:
    """The text a stream chunk carries ("" for none)."""
    if not isinstance(chunk, dict):
        return ""
    parts = []
    for choice in chunk.get("choices") or []:
        delta = choice.get("delta") if isinstance(choice, dict) else None
        content = delta.get("content") if isinstance(delta, dict) else None
        if isinstance(content, str):
            parts.append(content)
    return "".join(parts)


def resolve_chat_format(chat_format: str | None, default_model: bool) -> str | None:
    """The chat format in use: an explicit one, else the router for the default model."""
    if chat_format is None and default_model:
        return ROUTER_CHAT_FORMAT
    return chat_format


@dataclass(frozen=True, slots=True)
class RoutedCall:
    """A tool call chosen by the router."""

    name: str
    arguments: str
    usage: dict[str, int] = field(default_factory=dict)
    call_id: str = field(default_factory=lambda: f"call_{os.urandom(6).hex()}")

    def chunk(self) -> dict[str, Any]:
        """The call as one Chat Completions stream chunk (with the routing's usage)."""
        call = {
            "index": 0,
            "id": self.call_id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }
        return {
            "choices": [
                {"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": "tool_calls"}
            ],
            "usage": dict(self.usage),
        }


def _ask(
    server: Any, body: dict[str, Any], stop: threading.Event, usage: dict[str, int]
) -> str | None:
    """Run one short constrained question; its text, or ``None`` when cancelled."""
    parts: list[str] = []
    failure: list[Any] = []

    def on_chunk(chunk: Any) -> bool:
        if stop.is_set():
            return True
        if not isinstance(chunk, dict):
            return False
        if chunk.get("error"):
            failure.append(chunk["error"])
            return True
        for choice in chunk.get("choices") or []:
            content = (choice.get("delta") or {}).get("content")
            if isinstance(content, str):
                parts.append(content)
        counted = chunk.get("usage")
        if isinstance(counted, dict):
            for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
                if isinstance(counted.get(key), int):
                    usage[key] = usage.get(key, 0) + counted[key]
        return False

    request = {**body, "stream": True, "stream_options": {"include_usage": True}, "seed": 42}
    server.handle_chat_completions(request, on_chunk)
    if failure:
        error = failure[0]
        message = str(error.get("message") if isinstance(error, dict) else error)
        kind = str(error.get("type") or "") if isinstance(error, dict) else ""
        if kind == "exceed_context_size_error" or "exceeds the available context" in message:
            raise ContextOverflowError(
                f"the question does not fit the local model's context: {message}"
            )
        raise ProviderResponseError(f"the local model failed while choosing a tool: {message}")
    if stop.is_set():
        return None
    return "".join(parts)


def route_tools(
    server: Any, request: ChatRequest, stop: threading.Event
) -> RoutedCall | ChatRequest | None:
    """Decide the request's tool call with the model, or how to answer it in text.

    Returns:
        A :class:`RoutedCall`; or the request to answer in text (tools removed, and
        after tool results, the results put where a tiny model reads them); or ``None``
        when ``stop`` was set meanwhile.
    """
    choice = request.tool_choice
    messages = request.messages
    if messages and messages[-1].get("role") == "tool":
        return replace(request, messages=tool_result_messages(messages), tools=[], tool_choice=None)
    text_only = replace(request, tools=[], tool_choice=None)
    if not request.tools or choice == "none":
        return text_only
    message = last_user_message(messages)
    routable = offered_routable(request.tools)
    forced = choice == "required" or isinstance(choice, dict)
    if isinstance(choice, dict):
        wanted = choice.get("function", {}).get("name")
        routable = [name for name in routable if name == wanted]
    if message is not None and len(message) > ROUTE_MAX_CHARS and not forced:
        message = None
    if message is None or not routable:
        if forced:
            raise ProviderResponseError(
                "the local model's tool router cannot force this call",
                hint="The router calls calculator and search_sessions after a user message.",
            )
        return text_only
    usage: dict[str, int] = {}
    tool: str | None = routable[0]
    if not (isinstance(choice, dict) or (forced and len(routable) == 1)):
        answer = _ask(server, route_request(message, routable, with_none=not forced), stop, usage)
        if answer is None:
            return None
        tool = parse_route(answer, routable)
    if tool is None:
        return text_only
    answer = _ask(server, arguments_request(tool, message), stop, usage)
    if answer is None:
        return None
    return RoutedCall(tool, build_arguments(tool, answer), usage)
