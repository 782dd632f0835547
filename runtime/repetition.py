"""Detecting a phrase repeated three times running (the loops small models fall into)."""

from __future__ import annotations

__all__ = ["RepetitionGuard", "repeats_three_times"]


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


class RepetitionGuard:
    """Watches streamed text and says when its end is a phrase repeated three times.

    The ``local`` provider stops the generation then (finish reason ``repetition``): a
    small model that starts "12 * 12 = 12 * 12 = 12 * 12 =" does not recover by itself.
    """

    def __init__(self, *, longest: int = 12) -> None:
        self._text: list[str] = []
        self._longest = longest
        self.fired = False

    def feed(self, text: str) -> bool:
        """Add streamed text; whether the text so far ends in a triple repeat."""
        if not text:
            return self.fired
        self._text.append(text)
        words = "".join(self._text).split()
        for size in range(2, self._longest + 1):
            if len(words) < 3 * size:
                break
            tail = words[-size:]
            if tail == words[-2 * size : -size] and tail == words[-3 * size : -2 * size]:
                self.fired = True
                break
        return self.fired
