"""Token usage of imported answers, in the shape the runtime records for its own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["add_usage", "token_usage"]


#: More tokens than any one answer has used: a figure past it is garbage, counted as 0
#: (it would swamp every total of `turnkeep usage`).
MAX_TOKENS_PER_ANSWER = 10**12


def _count(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value <= MAX_TOKENS_PER_ANSWER else 0
    return 0


def token_usage(prompt: Any, completion: Any, **extra: Any) -> dict[str, Any]:
    """A source's token figures as the ``usage`` an answer's payload records (the keys
    :func:`runtime.payloads.usage` reads: ``prompt_tokens``, ``completion_tokens``,
    ``total_tokens``); anything that is not a non-negative integer counts as 0, and
    ``extra`` figures (cache reads, reasoning tokens) are kept beside them."""
    p, c = _count(prompt), _count(completion)
    usage: dict[str, Any] = {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
    usage.update({k: _count(v) for k, v in extra.items() if _count(v)})
    return usage


def add_usage(into: dict[str, Any], more: Mapping[str, Any]) -> dict[str, Any]:
    """Add ``more``'s figures to ``into`` (in place) and return it."""
    for key, value in more.items():
        into[key] = _count(into.get(key)) + _count(value)
    return into
