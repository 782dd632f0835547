"""The ``scripted`` provider: a test double that replays a fixed script of text and tool calls.

It is for deterministic tests and demos of tool flows, never the default. Without a
script it plays :data:`DEFAULT_SCRIPT`: for any message it calls ``calculator`` and
``current_time``, then replies with text quoting the user's message, in several chunks.

A script is a JSON file::

    {
      "repeat": true,
      "turns": [
        [
          {"text": "Checking.", "tool_calls": [{"name": "calculator",
                                                 "arguments": {"expression": "2+2"}}]},
          {"text": "You said: {user}", "chunk_size": 4}
        ]
      ]
    }

``turns`` (or a bare list) holds one entry per turn this provider serves, in order; each
turn is a list of *steps*, one per model call (a step with ``tool_calls`` is followed by
the next step once the tools have run). ``repeat`` (default true) starts over after the
last turn; otherwise running past it is a :class:`~runtime.errors.ScriptError`. A step
may have:

* ``text`` (``{user}`` is replaced by the user's message) split into ``chunk_size``
  character chunks (default 8), or ``chunks``: an explicit list of strings;
* ``tool_calls``: ``{"name", "arguments": {...}}`` or ``{"name", "raw_arguments": "..."}``
  (to replay malformed arguments), optional ``"id"``;
* ``delay``: seconds to wait before each chunk (to give a test or a demo time);
* ``hang``: after its chunks, wait until cancelled (a deterministic "mid-turn");
* ``error``: ``{"type": "connection" | "auth" | "model" | "context" | "response",
  "message": "..."}`` raised after its chunks, as that provider error.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, Final

from runtime.errors import (
    ContextOverflowError,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderConnectionError,
    ProviderError,
    ProviderResponseError,
    ScriptError,
)
from runtime.providers.base import (
    ChatRequest,
    ProviderChunk,
    StreamEnd,
    TextChunk,
    ToolCallChunk,
    decode_arguments,
    estimate_tokens,
)

__all__ = ["DEFAULT_SCRIPT", "ScriptedProvider", "load_script"]

DEFAULT_SCRIPT: Final[dict[str, Any]] = {
    "repeat": True,
    "turns": [
        [
            {
                "text": "Let me check two things. ",
                "tool_calls": [
                    {"name": "calculator", "arguments": {"expression": "6 * 7"}},
                    {"name": "current_time", "arguments": {}},
                ],
            },
            {"text": 'You said: "{user}". The calculator says 6 * 7 = 42.', "chunk_size": 8},
        ]
    ],
}

_ERRORS: Final[dict[str, type[ProviderError]]] = {
    "connection": ProviderConnectionError,
    "auth": ProviderAuthError,
    "model": ModelNotFoundError,
    "context": ContextOverflowError,
    "response": ProviderResponseError,
}
_STEP_KEYS: Final = {"text", "chunks", "chunk_size", "tool_calls", "delay", "hang", "error"}


def _fail(where: str, problem: str) -> ScriptError:
    return ScriptError(f"script {where}: {problem}")


def _check_step(step: Any, where: str) -> None:
    if not isinstance(step, Mapping):
        raise _fail(where, "a step must be an object")
    unknown = set(step) - _STEP_KEYS
    if unknown:
        raise _fail(where, f"unknown key(s) {', '.join(sorted(unknown))}")
    if "text" in step and not isinstance(step["text"], str):
        raise _fail(where, "text must be a string")
    chunks = step.get("chunks", [])
    if not isinstance(chunks, list) or not all(isinstance(c, str) for c in chunks):
        raise _fail(where, "chunks must be a list of strings")
    size = step.get("chunk_size", 8)
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise _fail(where, "chunk_size must be a positive integer")
    delay = step.get("delay", 0)
    if not isinstance(delay, (int, float)) or isinstance(delay, bool) or delay < 0:
        raise _fail(where, "delay must be a number of seconds >= 0")
    for i, call in enumerate(step.get("tool_calls", [])):
        if not isinstance(call, Mapping) or not isinstance(call.get("name"), str):
            raise _fail(f"{where}.tool_calls[{i}]", "a tool call needs a string name")
        if "arguments" in call and not isinstance(call["arguments"], Mapping):
            raise _fail(f"{where}.tool_calls[{i}]", "arguments must be an object")
    error = step.get("error")
    if error is not None and (
        not isinstance(error, Mapping) or error.get("type", "response") not in _ERRORS
    ):
        raise _fail(f"{where}.error", f"type must be one of {', '.join(_ERRORS)}")


def parse_script(data: Any, *, source: str = "<script>") -> dict[str, Any]:
    """Validate a script object (see the module docstring); return it normalised.

    Raises:
        ScriptError: the script's shape is wrong (names where).
    """
    if isinstance(data, list):
        data = {"turns": data}
    if not isinstance(data, Mapping) or not isinstance(data.get("turns"), list):
        raise _fail(source, 'must be a list of turns or an object with a "turns" list')
    if not data["turns"]:
        raise _fail(source, "has no turns")
    for t, turn in enumerate(data["turns"]):
        if not isinstance(turn, list) or not turn:
            raise _fail(f"{source} turns[{t}]", "a turn must be a non-empty list of steps")
        for s, step in enumerate(turn):
            _check_step(step, f"{source} turns[{t}][{s}]")
    return {"repeat": bool(data.get("repeat", True)), "turns": data["turns"]}


def load_script(path: Path) -> dict[str, Any]:
    """Read and validate a script file.

    Raises:
        ScriptError: the file cannot be read, is not JSON, or has the wrong shape.
    """
    try:
        text = path.expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(f"cannot read the script {path}: {exc}") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ScriptError(f"the script {path} is not valid JSON: {exc}") from exc
    return parse_script(data, source=str(path))


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return str(message.get("content") or "")
    return ""


class ScriptedProvider:
    """Replays a script (a test double, clearly not a model).

    Args:
        script: a validated script (see :func:`load_script`); ``None`` plays
            :data:`DEFAULT_SCRIPT`.
        model: the name to record (default ``script`` or ``demo``).
    """

    name = "scripted"
    supports_tools = True

    def __init__(
        self, script: Mapping[str, Any] | None = None, *, model: str | None = None
    ) -> None:
        self._script = parse_script(dict(script) if script is not None else DEFAULT_SCRIPT)
        self.model = model or ("script" if script is not None else "demo")
        self.context_window = 1_000_000
        self._turn_index: dict[int, int] = {}

    def _steps(self, turn: int) -> list[Mapping[str, Any]]:
        if turn not in self._turn_index:
            self._turn_index[turn] = len(self._turn_index)
        index = self._turn_index[turn]
        turns: list[list[Mapping[str, Any]]] = self._script["turns"]
        if index >= len(turns):
            if not self._script["repeat"]:
                raise ScriptError(
                    f'the script has {len(turns)} turn(s) and "repeat" is false; '
                    f"this is turn {index + 1}"
                )
            index %= len(turns)
        return turns[index]

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderChunk]:
        """See :meth:`runtime.providers.base.Provider.stream`."""
        steps = self._steps(request.turn)
        if request.step >= len(steps):
            yield StreamEnd("stop", {"completion_tokens": 0})
            return
        step = steps[request.step]
        text = str(step.get("text", "")).replace("{user}", _last_user_text(request.messages))
        chunks: list[str] = list(step.get("chunks", []))
        if not chunks and text:
            size = int(step.get("chunk_size", 8))
            chunks = [text[i : i + size] for i in range(0, len(text), size)]
        delay = float(step.get("delay", 0))
        for chunk in chunks:
            if delay:
                await asyncio.sleep(delay)
            yield TextChunk(chunk)
        if step.get("hang"):
            await asyncio.Event().wait()  # until cancelled
        error = step.get("error")
        if error is not None:
            kind = _ERRORS[str(error.get("type", "response"))]
            raise kind(str(error.get("message", "scripted failure")))
        for call in step.get("tool_calls", []):
            if "raw_arguments" in call:
                raw = str(call["raw_arguments"])
                arguments, problem = decode_arguments(raw)
            else:
                arguments, problem = dict(call.get("arguments", {})), None
                raw = json.dumps(arguments)
            yield ToolCallChunk(
                call_id=str(call.get("id") or f"call_{os.urandom(6).hex()}"),
                name=str(call["name"]),
                arguments=arguments,
                raw_arguments=raw,
                arguments_error=problem,
            )
        yield StreamEnd(
            "tool_calls" if step.get("tool_calls") else "stop",
            {"completion_tokens": sum(estimate_tokens(c) for c in chunks)},
        )

    def count_tokens(self, text: str) -> int:
        """The same conservative estimate as the network providers."""
        return estimate_tokens(text)

    async def close(self) -> None:
        """Nothing to release."""
