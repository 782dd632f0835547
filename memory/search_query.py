"""What a person types into search, made into a safe FTS5 MATCH expression.

The index (migration ``0004.search``) uses FTS5's ``trigram`` tokenizer over text folded
by :func:`fold`, so every search term is a substring match, case-insensitive, with
diacritics folded. This module turns any string into an expression that FTS5 accepts:

* plain words must all occur (AND); ``"quoted phrases"`` occur as written (an
  unbalanced quote runs to the end); ``-word`` / ``-"a phrase"`` excludes;
* ``prefix*`` is the prefix (a substring match already finds every continuation);
* every term is written as an FTS5 string (``"..."`` with ``"`` doubled), so ``AND``,
  ``NEAR``, parentheses, colons, ``^`` and ``*`` typed by a person are plain text;
* terms shorter than three characters cannot be looked up in a trigram index and are
  left out (a query of only such terms finds nothing); at most :data:`MAX_TERMS` terms
  of at most :data:`MAX_TERM_CHARS` characters are used, so a pasted page stays a
  bounded query (a cut term is a substring of the typed one, so nothing is lost that
  the longer term would have found). What is left out or cut is never silent:
  :attr:`ParsedQuery.unused` / :attr:`ParsedQuery.cut` name it and :func:`unused_note`
  says it in a sentence (the CLI's stderr, the TUI's search status line).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

__all__ = [
    "MAX_TERMS",
    "MAX_TERM_CHARS",
    "MIN_TERM_CHARS",
    "ParsedQuery",
    "fold",
    "like_pattern",
    "match_expression",
    "parse_query",
    "unused_note",
]

#: A trigram index cannot look up shorter terms.
MIN_TERM_CHARS: Final = 3
#: Terms used from one query (positive and excluded each). Each term is one more FTS5
#: phrase to match, so this bounds a pasted page's cost (measured on 50,000 events, a
#: 10,000-character paste of common words: 29 ms with 16 terms, 43 ms with 32, 60 ms
#: with 64); 32 covers what a person types, and a longer paste is told which words were
#: left out (:func:`unused_note`).
MAX_TERMS: Final = 32
#: Characters used from one term.
MAX_TERM_CHARS: Final = 128
#: Marks snippets use around a match; :func:`fold` removes them from indexed text.
MARK_OPEN: Final = "\x02"
MARK_CLOSE: Final = "\x03"
_EDGE_PUNCTUATION: Final = "()[]{}<>,;:!?'\"`"
#: Control characters (NUL ends an SQL string) are spaces in a query.
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: Characters past the Basic Multilingual Plane (the combining table covers the BMP).
_ASTRAL: Final = re.compile("[\U00010000-\U0010ffff]")


def fold(text: str) -> str:
    """``text`` as the index stores and the query looks it up.

    Compatibility forms are unified (NFKC: full-width letters, ligatures) and
    diacritics removed (``café`` -> ``cafe``); case is folded by the tokenizer. The
    snippet marks are replaced by spaces so a stored text cannot fake a highlight.
    """
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        stripped = _combining().sub("", decomposed)
        if _ASTRAL.search(stripped):
            stripped = "".join(c for c in stripped if not unicodedata.combining(c))
        text = unicodedata.normalize("NFKC", stripped)
    # Two C-level searches (no copy) instead of a per-character translate of every text.
    if MARK_OPEN in text or MARK_CLOSE in text:
        text = text.replace(MARK_OPEN, " ").replace(MARK_CLOSE, " ")
    return text


@functools.cache
def _combining() -> re.Pattern[str]:
    """Every combining character of the Basic Multilingual Plane, as one character class.

    Built on the first text that needs it (a few ms), then one C-level ``re.sub`` per
    text instead of a Python test per character (that test was most of an import's
    time); characters past the BMP take the slow path.
    """
    codes = [code for code in range(0x300, 0x10000) if unicodedata.combining(chr(code))]
    ranges: list[str] = []
    start = prev = codes[0]
    for code in [*codes[1:], -1]:
        if code == prev + 1:
            prev = code
            continue
        ranges.append(f"\\u{start:04x}" + (f"-\\u{prev:04x}" if prev != start else ""))
        start = prev = code
    return re.compile("[" + "".join(ranges) + "]")


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """The terms of one query, folded.

    Attributes:
        include: terms that must all occur (three characters or more).
        exclude: terms that must not occur.
        short: terms of one or two characters that must occur (a two-character CJK
            word, say): the trigram index cannot look them up, so they are checked
            with ``LIKE`` on the rows the other terms match, or by a scan.
        short_exclude: excluded terms of one or two characters (checked the same way).
        unused: terms left out because the query already had :data:`MAX_TERMS` of
            their sort, as typed (folded).
        cut: terms longer than :data:`MAX_TERM_CHARS`, as typed (folded); their first
            :data:`MAX_TERM_CHARS` characters are searched.
    """

    include: tuple[str, ...]
    exclude: tuple[str, ...]
    short: tuple[str, ...] = ()
    short_exclude: tuple[str, ...] = ()
    unused: tuple[str, ...] = ()
    cut: tuple[str, ...] = ()


def _raw_terms(text: str) -> Iterator[tuple[bool, str]]:
    """``(excluded, term)`` pairs: quoted phrases whole, other words split on spaces."""
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        negated = text[i] == "-" and i + 1 < n and not text[i + 1].isspace()
        if negated:
            i += 1
        if text[i] == '"':
            end = text.find('"', i + 1)
            end = n if end < 0 else end
            yield negated, text[i + 1 : end]
            i = end + 1
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] != '"':
            i += 1
        word = text[start:i].strip(_EDGE_PUNCTUATION).rstrip("*").strip(_EDGE_PUNCTUATION)
        yield negated, word


def parse_query(text: str) -> ParsedQuery:
    """Split what a person typed into folded include and exclude terms (never fails).

    Control characters count as spaces; text that is not valid Unicode (a lone
    surrogate from an undecodable command-line byte) has it replaced.
    """
    text = _CONTROL.sub(" ", text.encode("utf-8", "replace").decode("utf-8"))
    include: list[str] = []
    exclude: list[str] = []
    short: list[str] = []
    short_exclude: list[str] = []
    unused: list[str] = []
    cut: list[str] = []
    for negated, raw in _raw_terms(text):
        whole = " ".join(fold(raw).split())
        term = whole[:MAX_TERM_CHARS]
        if not term:
            continue
        if len(term) >= MIN_TERM_CHARS:
            target = exclude if negated else include
        else:
            target = short_exclude if negated else short
        if term in target:
            continue
        if len(target) >= MAX_TERMS:
            label = ("-" if negated else "") + whole
            if label not in unused:
                unused.append(label)
            continue
        target.append(term)
        if whole != term:
            cut.append(whole)
    return ParsedQuery(
        tuple(include),
        tuple(exclude),
        tuple(short),
        tuple(short_exclude),
        tuple(unused),
        tuple(cut),
    )


def unused_note(query: str | ParsedQuery, width: int = 160) -> str | None:
    """A sentence naming the terms of ``query`` not searched (or searched cut short),
    or ``None`` when every term was used as typed.

    Args:
        query: what the person typed, or its parse.
        width: the longest the list of terms gets (it ends in ``…`` when cut).
    """
    parsed = parse_query(query) if isinstance(query, str) else query
    parts: list[str] = []
    dropped = tuple(t for t in parsed.short if t.isascii() and t.lower() not in _SHORT_STOP_WORDS)
    if parsed.include and dropped:
        # Left out by every plan next to a longer term (they would match nearly
        # everything); named, unless a word any sentence has ("of", "to").
        words = _listed(dropped, width)
        parts.append(
            f"not searched: {words} (words of one or two letters or digits count only "
            "in a search of such words alone)"
        )
    if parsed.unused:
        count = len(parsed.unused)
        words = _listed(tuple(_shown(t) for t in parsed.unused), width)
        parts.append(
            f"{count} word{'s' if count != 1 else ''} not searched "
            f"(a search uses at most {MAX_TERMS}): {words}"
        )
    if parsed.cut:
        words = _listed(tuple(_shown(t) for t in parsed.cut), width)
        parts.append(f"searched only the first {MAX_TERM_CHARS} characters of {words}")
    return "; ".join(parts) or None


#: One- and two-letter English words whose leaving out needs no note.
_SHORT_STOP_WORDS: Final = frozenset(
    [
        "a",
        "i",
        "am",
        "an",
        "as",
        "at",
        "be",
        "by",
        "do",
        "go",
        "he",
        "if",
        "in",
        "is",
        "it",
        "me",
        "my",
        "no",
        "of",
        "oh",
        "on",
        "or",
        "so",
        "to",
        "up",
        "us",
        "we",
    ]
)


def _shown(term: str) -> str:
    return term if len(term) <= 32 else term[:31] + "…"


def _listed(terms: tuple[str, ...], width: int) -> str:
    text = " ".join(terms)
    return text if len(text) <= width else text[: width - 1] + "…"


def _string(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def like_pattern(term: str) -> str:
    """A ``LIKE ... ESCAPE '\\'`` pattern finding ``term`` anywhere."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def match_expression(text: str | ParsedQuery, columns: tuple[str, ...] = ()) -> str | None:
    """The FTS5 MATCH expression for ``text``, or ``None`` when it has no long term.

    Args:
        text: what the person typed (any string), or its parse.
        columns: restrict matches to these index columns (``()``: all).
    """
    parsed = parse_query(text) if isinstance(text, str) else text
    if not parsed.include:
        return None
    expression = "(" + " AND ".join(_string(term) for term in parsed.include) + ")"
    for term in parsed.exclude:
        expression = f"({expression} NOT {_string(term)})"
    if columns:
        expression = "{" + " ".join(columns) + "} : " + expression
    return expression
