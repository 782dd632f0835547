"""What every model provider implements, and the Chat Completions stream parser they share.

A provider takes a :class:`ChatRequest` (OpenAI Chat Completions messages and tools)
and streams :data:`ProviderChunk` values: :class:`TextChunk` as text arrives, one
:class:`ToolCallChunk` per complete tool call, and a final :class:`StreamEnd`. It raises
only :class:`~runtime.errors.ProviderError` subclasses, translated from its driver's
exceptions at its own boundary.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from runtime.errors import ProviderResponseError

__all__ = [
    "ChatRequest",
    "ChunkAssembler",
    "Provider",
    "ProviderChunk",
    "StreamEnd",
    "TextChunk",
    "ToolCallChunk",
    "estimate_tokens",
]


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One model call.

    Attributes:
        messages: Chat Completions messages (``role``/``content``/``tool_calls``/...).
        tools: tool specs in OpenAI format; empty means no tools are offered.
        tool_choice: ``"auto"``, ``"none"``, ``"required"``, a forced
            ``{"type": "function", "function": {"name": ...}}``, or ``None`` (no tools).
        max_tokens: most tokens to generate.
        temperature: sampling temperature.
        turn: the conversation's turn number (1-based).
        step: the model call within the turn (0-based).
    """

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_choice: str | dict[str, Any] | None = None
    max_tokens: int = 256
    temperature: float = 0.2
    turn: int = 1
    step: int = 0


@dataclass(frozen=True, slots=True)
class TextChunk:
    """Streamed assistant text."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallChunk:
    """A complete tool call.

    ``arguments`` is the decoded JSON object; when the model sent something that is not
    a JSON object, ``arguments`` is empty and ``arguments_error`` says why (the call is
    then recorded with that error as its result).
    """

    call_id: str
    name: str
    arguments: dict[str, Any]
    raw_arguments: str = ""
    arguments_error: str | None = None


@dataclass(frozen=True, slots=True)
class StreamEnd:
    """The end of one model call: why it stopped and the tokens it used (when known)."""

    finish_reason: str | None = None
    usage: dict[str, int] = field(default_factory=dict)


ProviderChunk = TextChunk | ToolCallChunk | StreamEnd


@runtime_checkable
class Provider(Protocol):
    """A source of model turns.

    Attributes:
        name: ``local``, ``openai`` or ``scripted``.
        model: the model's name (stored with each assistant event); ``None`` until an
            ``openai`` server without a named model has said which one it serves.
        supports_tools: whether tools are offered to it.
    """

    name: str
    supports_tools: bool

    @property
    def model(self) -> str | None:
        """The model's name (read-only here: a provider may learn it on first use)."""
        ...

    def stream(self, request: ChatRequest) -> AsyncIterator[ProviderChunk]:
        """Run one model call, streaming its output; ends with exactly one StreamEnd.

        Raises:
            ProviderError: a typed, actionable error (connection, auth, model,
                context overflow, unusable answer).
        """
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model's context (an upper estimate is fine)."""
        ...

    async def close(self) -> None:
        """Release the model, sessions and threads. Safe to call twice."""
        ...


def estimate_tokens(text: str) -> int:
    """A conservative token estimate: a third of the UTF-8 bytes, at least one."""
    return len(text.encode("utf-8", "replace")) // 3 + 1


def decode_arguments(raw: str) -> tuple[dict[str, Any], str | None]:
    """Decode tool-call arguments; ``({}, why)`` when they are not a JSON object."""
    text = raw.strip() or "{}"
    try:
        value = json.loads(text)
    except ValueError as exc:
        return {}, f"the arguments are not valid JSON ({exc})"
    if not isinstance(value, dict):
        return {}, f"the arguments must be a JSON object, not {type(value).__name__}"
    return value, None


@dataclass
class _PartialCall:
    call_id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class ChunkAssembler:
    """Turns Chat Completions stream chunks (dicts) into :data:`ProviderChunk` values.

    Text is passed on as it arrives; tool-call fragments are gathered by ``index`` and
    emitted whole by :meth:`finish`. Names and ids are taken from the first fragment
    that carries them (some servers repeat them in every fragment).
    """

    def __init__(self) -> None:
        self._calls: dict[int, _PartialCall] = {}
        self._finish_reason: str | None = None
        self._usage: dict[str, int] = {}
        # For servers that send no call ids: unique within and across model calls.
        self._id_prefix = f"call_{os.urandom(4).hex()}"

    @property
    def finish_reason(self) -> str | None:
        """The finish reason the stream reported, if it reported one yet."""
        return self._finish_reason

    def feed(self, chunk: Mapping[str, Any]) -> Iterator[TextChunk]:
        """Take one chunk; yield the text it carries.

        Raises:
            ProviderResponseError: the chunk is an error object or is malformed.
        """
        if "error" in chunk and chunk["error"]:
            error = chunk["error"]
            message = error.get("message") if isinstance(error, Mapping) else str(error)
            raise ProviderResponseError(f"the model server reported an error: {message}")
        usage = chunk.get("usage")
        if isinstance(usage, Mapping):
            self._usage = {k: int(v) for k, v in usage.items() if isinstance(v, int)}
            # OpenAI's cached input: the prompt tokens read from its prompt cache.
            details = usage.get("prompt_tokens_details")
            cached = details.get("cached_tokens") if isinstance(details, Mapping) else None
            if isinstance(cached, int) and not isinstance(cached, bool) and cached > 0:
                self._usage["cached_tokens"] = cached
        choices = chunk.get("choices") or []
        if not isinstance(choices, list):
            raise ProviderResponseError("a stream chunk has no list of choices")
        for choice in choices:
            if not isinstance(choice, Mapping) or choice.get("index", 0) != 0:
                continue
            if choice.get("finish_reason"):
                self._finish_reason = str(choice["finish_reason"])
            delta = choice.get("delta") or {}
            if not isinstance(delta, Mapping):
                raise ProviderResponseError("a stream chunk's delta is not an object")
            content = delta.get("content")
            if isinstance(content, str) and content:
                yield TextChunk(content)
            for fragment in delta.get("tool_calls") or []:
                self._add_fragment(fragment)

    def _add_fragment(self, fragment: Any) -> None:
        if not isinstance(fragment, Mapping):
            raise ProviderResponseError("a tool-call fragment is not an object")
        index = fragment.get("index", len(self._calls))
        call = self._calls.setdefault(int(index), _PartialCall())
        if fragment.get("id") and not call.call_id:
            call.call_id = str(fragment["id"])
        function = fragment.get("function") or {}
        if function.get("name") and not call.name:
            call.name = str(function["name"])
        if isinstance(function.get("arguments"), str):
            call.arguments.append(function["arguments"])

    def finish(self) -> Iterator[ToolCallChunk | StreamEnd]:
        """Yield the gathered tool calls in index order, then the :class:`StreamEnd`.

        Raises:
            ProviderResponseError: a tool call came without a name.
        """
        for index in sorted(self._calls):
            call = self._calls[index]
            if not call.name:
                raise ProviderResponseError("the model sent a tool call without a name")
            raw = "".join(call.arguments)
            arguments, error = decode_arguments(raw)
            yield ToolCallChunk(
                call_id=call.call_id or f"{self._id_prefix}_{index}",
                name=call.name,
                arguments=arguments,
                raw_arguments=raw,
                arguments_error=error,
            )
        yield StreamEnd(finish_reason=self._finish_reason, usage=dict(self._usage))
