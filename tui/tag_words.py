"""One reading of a tag typed by a person, for the CLI and the TUI alike.

A leading ``#`` is how tags are written in the home filter (``#work``), so it is never
part of the tag: ``#work`` and ``work`` name the same tag everywhere (``sessions tag``,
``--tag``, the tag dialog, the filter). The memory layer strips it too, for any caller.
"""

from __future__ import annotations

from memory.records import normalize_tag

__all__ = ["tag_word"]


def tag_word(text: str) -> str:
    """``text`` as a tag: trimmed, without leading ``#``, checked.

    Raises:
        SerializationError: nothing is left, or the rest is not a valid tag (see
            :func:`memory.records.normalize_tag`).
    """
    return normalize_tag(text.strip().lstrip("#"))
