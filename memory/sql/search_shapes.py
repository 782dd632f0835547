"""Query shapes the word-first plan answers with a check of the stored text.

Two shapes used to fall back to a scan of the whole trigram index (over a second at a
million events):

* **excluded terms** (``function -error``): an excluded term must not occur anywhere in
  the text, not even inside a word (``errors``, ``ConnectionResetError``), so the word
  index alone cannot exclude it. The word-first plan ranks the included words as usual
  and then reads, best first, only as many rows' text as it takes to fill the page,
  dropping those that hold an excluded term (:func:`text_checks`); an excluded whole
  word is also left out by the word index itself (``NOT``), which spares most reads.
* **only one- or two-character terms** (``go``, ``is``, a two-character CJK word): no
  trigram exists for them. :func:`short_statement` answers them from the word index
  first (the term as a whole word, ranked like any word), then from a bounded scan of
  the newest :data:`SCAN_WINDOW` events for the term inside longer words.

The text check is SQLite's ``instr`` on ``lower()`` of the stored (already folded)
text: case-insensitive for ASCII letters, as the ``LIKE`` it replaces was. Terms
holding other letters that have a case (Greek, Cyrillic) keep the trigram plan, whose
tokenizer folds their case.
"""

from __future__ import annotations

from typing import Any, Final

from memory.search_query import ParsedQuery
from memory.sql.search_pending import PENDING, text_join, text_of

__all__ = [
    "SCAN_WINDOW",
    "WORD_KIND_TIER",
    "caseless",
    "short_statement",
    "text_checks",
    "usable_for_short",
    "word_exclusions",
]

#: Newest events a query of only one/two-character terms reads for them inside words.
SCAN_WINDOW: Final = 20_000
_WEIGHTS: Final = "4.0, 1.0, 0.5"
_TITLE_WEIGHT: Final = 2.0
#: 0 for a row of the person's own words (the ``mine`` column holds the match), else 1.
#: bm25 with only ``mine`` weighted is below zero exactly when ``mine`` matches: one
#: more bm25 over the word index's doclist, no read of the event. The person's words
#: rank before every reply and tool output holding the same words: bm25 multiplies a
#: term's count by the column weight before it saturates, so a tool output repeating a
#: word 200 times outscored the question that says it once whatever the weights.
WORD_KIND_TIER: Final = "(bm25(search_words, 1.0, 0.0, 0.0) >= 0)"


def caseless(term: str) -> bool:
    """Whether ``instr(lower(text), lower(term))`` finds ``term`` as the index would:
    every character with a case is ASCII (CJK, digits and symbols have none)."""
    return all(char.isascii() or char.lower() == char.upper() for char in term)


def usable_for_short(parsed: ParsedQuery) -> bool:
    """Whether :func:`short_statement` answers ``parsed``: only short included terms,
    every term checkable in the text (:func:`caseless`)."""
    return (
        not parsed.include
        and bool(parsed.short)
        and all(caseless(t) for t in (*parsed.short, *parsed.exclude, *parsed.short_exclude))
    )


def text_checks(parsed: ParsedQuery, text: str, *, short_included: bool) -> tuple[str, list[Any]]:
    """SQL conditions on ``text`` (an SQL expression) for the terms a text check makes.

    Every excluded term (long or short) must be absent; with ``short_included``, every
    included short term that is not ASCII (a two-letter ASCII term next to a long one
    is left out, as by every plan) must be present.
    """
    sql, args = "", []
    if short_included:
        for term in parsed.short:
            if not term.isascii():
                sql += f" AND instr(lower({text}), ?) > 0"
                args.append(term.lower())
    for term in (*parsed.exclude, *parsed.short_exclude):
        sql += f" AND instr(lower({text}), ?) = 0"
        args.append(term.lower())
    return sql, args


def _string(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def word_exclusions(parsed: ParsedQuery) -> str:
    """``NOT`` clauses for the word index: excluded terms that are whole words.

    A row holding the excluded word holds the term, so leaving it out early is exact;
    the text check catches the term inside longer words.
    """
    out = ""
    for term in (*parsed.exclude, *parsed.short_exclude):
        if all(word.isalnum() for word in term.split()):
            out += f" NOT {_string(term)}"
    return out


def short_statement(
    parsed: ParsedQuery,
    *,
    limit: int,
    columns: tuple[str, ...],
    titles: bool,
    restrict: tuple[str, str, list[Any]],
    restrict_words: tuple[str, str, list[Any]],
    restrict_pending: tuple[str, str, list[Any]],
    since: str | None,
    rank_window: int,
) -> tuple[str, list[Any]]:
    """One statement for a query whose included terms are all one or two characters.

    Rows are ``(session_id, seq, kind, title, text, at, score)``; whole-word hits
    (ranked among the newest ``rank_window``, the person's own words first) come
    first, then hits inside words from the newest :data:`SCAN_WINDOW` events, newest
    first (the person's own words first among them), then titles.

    Args:
        restrict / restrict_words / restrict_pending: the session/time join, conditions
            and args for ``search_events``, ``search_words`` and ``search_pending`` (see
            ``search_words.restriction``).
    """
    text = text_of("x", columns)
    every = [t.lower() for t in parsed.short]
    present = "".join(f" AND instr(lower({text}), ?) > 0" for _ in every)
    absent, absent_args = text_checks(
        ParsedQuery((), parsed.exclude, (), parsed.short_exclude), text, short_included=False
    )
    gj, gw, ga = restrict
    pj, pw, pa = restrict_pending
    wj, ww, wa = restrict_words
    words = [t for t in parsed.short if t.isalnum()]
    parts: list[str] = []
    args: list[Any] = []
    if len(words) == len(parsed.short):
        expression = "(" + " AND ".join(_string(t) for t in words) + ")" + word_exclusions(parsed)
        if columns:
            expression = "{" + " ".join(columns) + "} : (" + expression + ")"
        parts.append(
            "o AS MATERIALIZED (SELECT id, score FROM ("
            f"SELECT search_words.rowid AS id, bm25(search_words, {_WEIGHTS}) AS score, "
            f"{WORD_KIND_TIER} AS kt FROM search_words{wj} WHERE search_words MATCH ?{ww} "
            "ORDER BY search_words.rowid DESC LIMIT ?) ORDER BY kt, score), "
            f"w AS MATERIALIZED (SELECT o.id, o.score FROM o{text_join('x', 'o.id')} "
            f"WHERE 1{absent} LIMIT ?)"
        )
        args += [expression, *wa, rank_window, *absent_args, limit]
    else:
        parts.append("w AS MATERIALIZED (SELECT 0 AS id, 0.0 AS score WHERE 0)")
    parts.append(
        "n AS MATERIALIZED (SELECT count(*) AS c FROM w), "
        # The newest SCAN_WINDOW events, whichever table holds their text: the rows still
        # waiting for the trigram index (memory.sql.search_pending) are mostly the newest,
        # but a fork or an import writes newer ones straight into the index.
        f"win AS MATERIALIZED (SELECT id FROM (SELECT {PENDING}.id AS id FROM {PENDING}{pj} "
        f"WHERE 1{pw} ORDER BY {PENDING}.id DESC LIMIT ?) UNION ALL SELECT id FROM ("
        f"SELECT search_events.rowid AS id FROM search_events{gj} WHERE 1{gw} "
        "ORDER BY search_events.rowid DESC LIMIT ?) ORDER BY id DESC LIMIT ?), "
        "hits AS (SELECT id, 0 AS tier, score FROM w "
        "UNION ALL SELECT * FROM (SELECT win.id, 1 AS tier, 0.0 AS score FROM win"
        f"{text_join('x', 'win.id')} WHERE win.id NOT IN (SELECT id FROM w){present}{absent} "
        "LIMIT CASE WHEN (SELECT c FROM n) < ? THEN ? ELSE 0 END))"
    )
    args += [*pa, SCAN_WINDOW, *ga, SCAN_WINDOW, SCAN_WINDOW, *every, *absent_args]
    args += [limit, limit]
    sql = (
        "WITH " + ", ".join(parts) + " SELECT e.session_id, e.seq, e.kind, s.title, "
        f"substr({text}, 1, 4096) AS snip, e.created_at AS at, "
        "h.tier * 2 + (e.kind <> 'user') AS tier, h.score "
        "FROM hits h JOIN conversation_events e ON e.id = h.id "
        f"JOIN sessions s ON s.id = e.session_id{text_join('x', 'h.id')}"
    )
    if titles:
        title_present = "".join(" AND instr(lower(t.title), ?) > 0" for _ in every)
        title_absent, _ = text_checks(
            ParsedQuery((), parsed.exclude, (), parsed.short_exclude),
            "t.title",
            short_included=False,
        )
        sql += (
            " UNION ALL SELECT * FROM (SELECT s.id, 0, 'title', s.title, t.title, "
            "s.updated_at AS at, 4 AS tier, 0.0 AS score FROM search_titles t "
            f"JOIN sessions s ON s.id = t.session_id WHERE 1{title_present}{title_absent}"
            f"{' AND s.updated_at >= ?' if since else ''} ORDER BY at DESC LIMIT ?)"
        )
        args += [*every, *absent_args, *([since] if since else []), limit]
    sql = (
        "SELECT session_id, seq, kind, title, snip, at, score FROM "
        f"({sql}) ORDER BY tier, score, at DESC LIMIT ?"
    )
    return sql, [*args, limit]
