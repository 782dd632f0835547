"""Detecting a phrase repeated three times running (the loops small models fall into)."""

from __future__ import annotations

__all__ = ["repeats_three_times"]


def repeats_three_times(text: str, *, longest: int = 12) -> bool:
    """Whether some run of 2 to ``longest`` words appears three times in a row.

    ``"12 * 12 = 12 * 12 = 12 * 12 ="`` does; a list whose items share a word does not.
    """
    words = text.split()
    for size in range(2, longest + 1):
        for start in range(len(words) - 3 * size + 1):
            first = words[start : start + size]
            if (
                first == words[start + size : start + 2 * size]
                and first == words[start + 2 * size : start + 3 * size]
            ):
                return True
    return False
