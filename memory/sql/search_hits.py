"""Search rows as :class:`~memory.search_records.SearchHit` objects: one-line snippets and
the offsets of their marked matches.

A row's text comes either with FTS5's marks (``snippet()``: the trigram plan, titles) or
as the stored text around the first term (the word-first plan and scans), from which a
snippet is cut here. Making a rare word's twenty hits is part of what a search costs
inside the app over the same query on a bare connection, so the common case (a stored
text with no marks in it) is cut and measured in one pass, without writing marks into a
string to split it again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from memory.search_query import MARK_CLOSE, MARK_OPEN
from memory.search_records import SearchHit

__all__ = ["SNIPPET_WIDTH", "hit_from_row", "hits_from_rows"]

#: Characters of stored text a cut snippet shows (about what FTS5's snippet() gives).
SNIPPET_WIDTH: Final = 96


def hits_from_rows(
    rows: Sequence[tuple[Any, ...]], scan_terms: tuple[str, ...] = ()
) -> list[SearchHit]:
    """:func:`hit_from_row` of every row, in order."""
    return [hit_from_row(row, scan_terms) for row in rows]


def hit_from_row(row: tuple[Any, ...], scan_terms: tuple[str, ...] = ()) -> SearchHit:
    """A :class:`SearchHit` from one row of a search statement.

    Args:
        scan_terms: the terms to mark when the row holds stored text rather than an
            FTS5 snippet (the snippet is cut around the first of them).
    """
    session_id, seq, kind, title, raw, at, score = row
    text = str(raw or "")
    if not scan_terms:
        snippet, marks = _split_marks(text)
    elif MARK_OPEN not in text and MARK_CLOSE not in text:
        snippet, marks = _cut(text, scan_terms)
    else:
        snippet, marks = _split_marks(text if MARK_OPEN in text else _window(text, scan_terms))
    return SearchHit(
        str(session_id),
        int(seq),
        str(kind),
        None if title is None else str(title),
        snippet,
        marks,
        str(at),
        float(score),
    )


def _spans(text: str, terms: tuple[str, ...], width: int) -> tuple[int, str, list[tuple[int, int]]]:
    """Where a snippet of ``text`` starts, its piece of text, and every occurrence of
    ``terms`` in that piece (sorted; compared case-folded), or ``(-1, "", [])`` when no
    term occurs in ``text``."""
    folded = text.casefold()
    first = -1
    for term in terms:
        at = folded.find(term.casefold())
        if at >= 0 and (first < 0 or at < first):
            first = at
    if first < 0:
        return -1, "", []
    start = max(0, first - width // 3)
    piece = text[start : start + width]
    # Folding maps each character to one when the lengths agree, so the piece's folded
    # text is then a slice of the whole one's.
    lowered = folded[start : start + width] if len(folded) == len(text) else piece.casefold()
    spans: list[tuple[int, int]] = []
    for term in terms:
        needle = term.casefold()
        at = lowered.find(needle) if needle else -1
        while at >= 0:
            spans.append((at, at + len(needle)))
            at = lowered.find(needle, at + len(needle))
    if len(terms) > 1:
        spans.sort()  # one term's occurrences are found in order
    return start, piece, spans


def _cut(
    text: str, terms: tuple[str, ...], width: int = SNIPPET_WIDTH
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """:func:`_split_marks` of :func:`_window` for a text with no marks in it, in one pass."""
    start, piece, spans = _spans(text, terms, width)
    if start < 0:
        return _one_line(text[:width]), ()
    parts = ["…"] if start else []
    length = len(parts)
    marks: list[tuple[int, int]] = []
    last = 0
    for begin, end in spans:
        if begin < last:
            continue
        before = piece[last:begin]
        found = piece[begin:end]
        parts += (before, found)
        length += len(before)
        if found:
            marks.append((length, length + len(found)))
            length += len(found)
        last = end
    parts.append(piece[last:])
    if start + width < len(text):
        parts.append("…")
    return _one_line("".join(parts)), tuple(marks)


def _window(text: str, terms: tuple[str, ...], width: int = SNIPPET_WIDTH) -> str:
    """A snippet of ``text`` around the first of ``terms``, with FTS5-style marks."""
    start, piece, spans = _spans(text, terms, width)
    if start < 0:
        return text[:width]
    out, last = [], 0
    for begin, end in spans:
        if begin < last:
            continue
        out += [piece[last:begin], MARK_OPEN, piece[begin:end], MARK_CLOSE]
        last = end
    out.append(piece[last:])
    prefix = "…" if start else ""
    suffix = "…" if start + width < len(text) else ""
    return prefix + "".join(out) + suffix


def _split_marks(raw: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A snippet with FTS5 marks as one line of text plus the match offsets.

    Whitespace that breaks a line becomes a space; a mark pair around nothing, an
    unopened close and an unclosed open leave no offsets. Works piece by piece between
    marks, not character by character.
    """
    if MARK_OPEN not in raw and MARK_CLOSE not in raw:
        return _one_line(raw), ()
    text: list[str] = []
    marks: list[tuple[int, int]] = []
    length = 0
    start: int | None = None
    for piece in _MARKS.split(raw):
        if piece == MARK_OPEN:
            start = length
        elif piece == MARK_CLOSE:
            if start is not None and length > start:
                marks.append((start, length))
            start = None
        elif piece:
            text.append(_one_line(piece))
            length += len(piece)
    return "".join(text), tuple(marks)


def _one_line(text: str) -> str:
    """Line-breaking whitespace as spaces (three ``replace`` calls: a ``translate``
    table costs about ten times as much on a snippet's few dozen characters)."""
    return text.replace("\r", " ").replace("\n", " ").replace("\t", " ")


#: Splits a snippet at its marks, keeping them.
_MARKS: Final = re.compile(f"([{re.escape(MARK_OPEN)}{re.escape(MARK_CLOSE)}])")
