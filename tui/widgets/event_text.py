"""Reading event payloads for display: tolerant of every shape the runtime writes.

Pure functions, no Textual: the views in :mod:`tui.widgets.events` call them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "MAX_BODY_CHARS",
    "MAX_BODY_LINES",
    "PREVIEW_CHARS",
    "PREVIEW_LINES",
    "cut",
    "plural",
    "error_text",
    "message_text",
    "one_line",
    "pretty_json",
    "tool_arguments",
    "tool_name",
    "tool_result",
]

#: Expanded tool bodies show at most this many lines (a 1 MB result must not freeze the
#: UI); ``turnkeep sessions show`` prints everything.
MAX_BODY_LINES = 400
MAX_BODY_CHARS = 40_000

#: A message shows at most this much of its text in the log (a 5 MB answer would take
#: tens of seconds to parse and lay out on the UI loop); the rest is one key away.
PREVIEW_CHARS = 6_000
PREVIEW_LINES = 150


def cut(
    text: str, max_chars: int = PREVIEW_CHARS, max_lines: int = PREVIEW_LINES
) -> tuple[str, int]:
    """The first ``max_chars`` characters / ``max_lines`` lines of ``text``.

    Returns:
        The prefix, and how many characters were left out (0 when nothing was).
    """
    if len(text) <= max_chars and text.count("\n", 0, max_chars) < max_lines:
        return text, 0
    prefix = text[:max_chars]
    end = -1
    for _ in range(max_lines):
        end = prefix.find("\n", end + 1)
        if end < 0:
            break
    if end >= 0:
        prefix = prefix[:end]
    return prefix, len(text) - len(prefix)


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 session``, ``2 sessions``, ``1,000 turns``."""
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


def message_text(payload: Mapping[str, Any]) -> str:
    """The text of a user or assistant message (``content`` as text or parts)."""
    for key in ("content", "text", "partial_text", "message"):
        value = payload.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            parts = [
                str(part.get("text", "")) if isinstance(part, Mapping) else str(part)
                for part in value
            ]
            return "".join(parts)
    return ""


def tool_name(payload: Mapping[str, Any]) -> str:
    """The tool's name."""
    for key in ("name", "tool", "tool_name"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value
    function = payload.get("function")
    if isinstance(function, Mapping) and isinstance(function.get("name"), str):
        return str(function["name"])
    return "tool"


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "[", '"'):
            try:
                return json.loads(stripped)
            except ValueError:
                return value
    return value


def tool_arguments(payload: Mapping[str, Any]) -> Any:
    """The call's arguments, decoded when they were stored as JSON text."""
    if "arguments" in payload:
        return _maybe_json(payload["arguments"])
    function = payload.get("function")
    if isinstance(function, Mapping) and "arguments" in function:
        return _maybe_json(function["arguments"])
    return {}


def tool_result(payload: Mapping[str, Any]) -> tuple[Any, str | None]:
    """The result of a tool call and its error text (``None`` when it succeeded)."""
    error = payload.get("error")
    error_text_ = None
    if error:
        error_text_ = error if isinstance(error, str) else one_line(error, 200)
    for key in ("result", "output", "content"):
        if key in payload:
            return _maybe_json(payload[key]), error_text_
    return None, error_text_


def error_text(payload: Mapping[str, Any]) -> str:
    """What went wrong, for an ``error`` marker."""
    error = payload.get("error", payload)
    if isinstance(error, str):
        return error
    if isinstance(error, Mapping):
        title = error.get("title")
        message = error.get("message") or error.get("detail") or error.get("error")
        if title and message:
            return f"{title}: {message}"
        if message or title:
            return str(message or title)
    return one_line(error, 300)


def one_line(value: Any, limit: int = 80) -> str:
    """A compact one-line rendering of any JSON value, cut at ``limit`` characters."""
    if isinstance(value, str):
        text = " ".join(value[: limit * 4 + 64].split())  # a 5 MB string: split what shows
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= limit else text[: max(1, limit - 1)] + "…"


def pretty_json(
    value: Any, max_lines: int = MAX_BODY_LINES, max_chars: int = MAX_BODY_CHARS
) -> tuple[str, str | None]:
    """Indented JSON (or the text itself), cut to a size a terminal can show.

    Returns:
        The text, and a note saying what was left out (``None`` when nothing was).
    """
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, indent=2)
        except (TypeError, ValueError):
            text = repr(value)
    lines = text.splitlines()
    note = None
    if len(lines) > max_lines:
        text = "\n".join(lines[:max_lines])
        note = plural(len(lines) - max_lines, "more line")
    if len(text) > max_chars:
        note = plural(len(text) - max_chars, "more character") if note is None else note
        text = text[:max_chars]
    return text, note
