"""Event text for display: bounded prefixes, one-line and pretty renderings.

Pure functions, no Textual: the views in :mod:`tui.widgets.events` call them. Payloads
are read by :mod:`runtime.payloads` (the one reader of every kind, re-exported here
under the names the views use); counts are worded by :func:`tui.format.plural`.
"""

from __future__ import annotations

import json
from typing import Any

from runtime.payloads import error_text, message_text, tool_arguments, tool_name
from runtime.payloads import tool_result_value as tool_result
from tui.format import plural

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
