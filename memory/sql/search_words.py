"""The word-level companion index (migration ``0010.search-words``): writing and searching.

``search_words`` is a contentless FTS5 table (unicode61, diacritics removed) holding the
same rows as the trigram index ``search_events`` (same rowid, same folded text).

Writing: :func:`with_words` gives every statement that inserts into ``search_events`` a
twin inserting the same values into ``search_words``, placed before it in the same batch
(so a ``NOT EXISTS`` guard on ``search_events`` holds for both, and both rows are written
or neither). A contentless row is removed by giving its values back: the BEFORE DELETE
trigger of the migration reads them from ``search_events``.

Searching (:func:`word_first_statement`): a frequent word cannot be ranked cheaply by
the trigram index (bm25 counts every row of a phrase of trigrams, position by position:
0.8-1.5 s for "function" at a million events), but the word index counts a word's rows
from one doclist. So a query of words (excluded terms and short non-ASCII ones are
checked in the stored text of the rows ranked best, see
:mod:`memory.sql.search_shapes`) runs in one statement, one round trip:

1. *word hits*: rows holding every term as a whole word, the newest
   :data:`RANK_WINDOW` of them, your own words first, then by bm25 with the same
   column weights (your words 4, replies 1, tool 0.5); for all but the most frequent
   words the window holds every match, so the ranking is exact;
2. only when those are fewer than asked for, *substring hits* from the trigram index
   (a term inside a longer word, an identifier's inner part, CJK text), your own words
   first then by bm25 when there are at most :data:`GRAM_WINDOW` of them, else newest
   first (so a frequent substring stays a bounded query);
3. the newest events' rows still waiting for the trigram index (``search_pending``,
   :mod:`memory.sql.search_pending`): every term as a substring of their text, newest
   first (your own words first), after the trigram index's own substring hits;
4. title hits, ranked with your own words.

Word hits come before substring hits (a whole word is the better match). Snippets are
cut from the stored text around the first match (the contentless table has no
``snippet()``), with the same marks.
"""

from __future__ import annotations

from typing import Any, Final

from memory.search_query import MARK_CLOSE, MARK_OPEN, ParsedQuery, match_expression
from memory.sql.search_pending import (
    PENDING,
    row_text,
    scanned_text,
    substring_checks,
    text_join,
    text_of,
)
from memory.sql.search_shapes import WORD_KIND_TIER, caseless, text_checks, word_exclusions

__all__ = [
    "EVENT_TIER",
    "GRAM_WINDOW",
    "MINE_FIRST",
    "RANK_WINDOW",
    "WORD_KIND_TIER",
    "kind_tier_of",
    "restriction",
    "usable_for_words",
    "with_words",
    "word_expression",
    "word_first_statement",
]

#: Word hits ranked per query: the newest matches of a frequent word (a few ms).
RANK_WINDOW: Final = 4000
#: Substring hits are ranked by bm25 only when there are at most this many (bm25 over
#: a phrase of trigrams checks every match position by position, ~0.05 ms each).
GRAM_WINDOW: Final = 1000
_EVENTS: Final = "INSERT INTO search_events "
_WORDS: Final = "INSERT INTO search_words "
_PENDING: Final = f"INSERT INTO {PENDING} (id, "
_WEIGHTS: Final = "4.0, 1.0, 0.5"
_TITLE_WEIGHT: Final = 2.0
#: Orders ranked word rows (``id, score, kt``): the person's words first, then bm25.
MINE_FIRST: Final = "kt, score"
#: An event hit's tier in the final order: its plan tier (word, substring, scan) times
#: two, plus one unless it is the person's own words (``e`` is its event, ``h`` its hit).
EVENT_TIER: Final = "h.tier * 2 + (e.kind <> 'user')"


def kind_tier_of(event_id: str) -> str:
    """0 when the event with id ``event_id`` (an SQL expression) is the person's own
    words, else 1: one primary-key read (for trigram rows, where a second bm25 would
    walk every match position again)."""
    return f"((SELECT kind FROM conversation_events WHERE id = {event_id}) <> 'user')"


def with_words(stmts: list[tuple[str, list[Any]]]) -> list[tuple[str, list[Any]]]:
    """``stmts`` with each ``INSERT INTO search_events`` (or ``search_pending``, whose rows
    become trigram rows later) preceded by its word-index twin."""
    out: list[tuple[str, list[Any]]] = []
    for sql, args in stmts:
        if sql.startswith(_EVENTS):
            out.append((_WORDS + sql[len(_EVENTS) :], list(args)))
        elif sql.startswith(_PENDING):
            out.append((_WORDS + "(rowid, " + sql[len(_PENDING) :], list(args)))
        out.append((sql, args))
    return out


def usable_for_words(parsed: ParsedQuery) -> bool:
    """Whether the word-first plan answers ``parsed`` with the same matches.

    Excluded terms must not occur even inside words and short non-ASCII terms are
    checked as substrings: both by a check of the stored text
    (:func:`~memory.sql.search_shapes.text_checks`, ASCII case folding), so terms with
    other cased letters keep the trigram plan; so do included terms holding anything
    but letters and digits (``snake_case``, ``c++``, ``a.b``): the word
    tokenizer would split them where the trigram index matches them as written. A word
    hit is then always a substring hit too (a word starting with the term holds it).
    """
    return (
        bool(parsed.include)
        # Excluded terms and short non-ASCII ones are checked in the text of the rows
        # ranked best (memory.sql.search_shapes); one/two-letter Latin terms next to a
        # long one are left out by every plan (they would match nearly everything).
        and all(caseless(term) for term in (*parsed.exclude, *parsed.short_exclude))
        and all(caseless(term) for term in parsed.short)
        and all(all(word.isalnum() for word in term.split()) for term in parsed.include)
    )


def _string(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def word_expression(parsed: ParsedQuery, columns: tuple[str, ...] = ()) -> str:
    """The word-index MATCH expression: every term as whole words.

    (Not as prefixes: FTS5 merges the doclists of every word a prefix expands to
    before it can rank any, four times the cost of the word itself for a frequent
    one; a partly typed word is found by the substring tier instead.)
    """
    expression = "(" + " AND ".join(_string(t) for t in parsed.include) + ")"
    expression += word_exclusions(parsed)
    if columns:
        expression = "{" + " ".join(columns) + "} : " + expression
    return expression


def restriction(
    table: str, session_id: str | None, since: str | None
) -> tuple[str, str, list[Any]]:
    """The join and conditions that keep one FTS table's matches to a session or a time.

    A session's events are looked for between its smallest and largest event id (FTS5
    seeks that rowid range instead of walking every match of a frequent word).
    """
    if session_id is None and since is None:
        return "", "", []
    join = f" JOIN conversation_events r ON r.id = {table}.rowid"
    where, args = "", []
    if session_id is not None:
        where += (
            f" AND {table}.rowid BETWEEN "
            "(SELECT min(id) FROM conversation_events WHERE session_id = ?) "
            "AND (SELECT max(id) FROM conversation_events WHERE session_id = ?) "
            "AND r.session_id = ?"
        )
        args += [session_id, session_id, session_id]
    if since is not None:
        where += " AND r.created_at >= ?"
        args.append(since)
    return join, where, args


def word_first_statement(
    parsed: ParsedQuery,
    *,
    limit: int,
    columns: tuple[str, ...] = (),
    titles: bool = True,
    session_id: str | None = None,
    since: str | None = None,
) -> tuple[str, list[Any]]:
    """The word-first search (see the module docstring) as one statement and its args.

    Rows are ``(session_id, seq, kind, title, text, at, score)`` like the trigram plan's,
    with ``text`` the event's stored text (its snippet is cut by the caller). A session
    or time filter applies inside each scan, before its window.
    """
    words = word_expression(parsed, columns)
    grams = match_expression(parsed, columns)
    assert grams is not None  # usable_for_words: at least one long term
    text = text_of("f", columns)
    wj, ww, wa = restriction("search_words", session_id, since)
    gj, gw, ga = restriction("search_events", session_id, since)
    # Excluded and short non-ASCII terms: checked in the text of the rows ranked best,
    # only as many as it takes to fill the page.
    x_text = text_of("x", columns)
    checks, check_args = text_checks(parsed, x_text, short_included=True)
    g_text = row_text("search_events", columns)
    g_checks, _ = text_checks(parsed, g_text, short_included=True)
    if checks:
        best = (
            f"o AS MATERIALIZED (SELECT id, score FROM ({{ranked}}) ORDER BY {MINE_FIRST}), "
            f"w AS MATERIALIZED (SELECT o.id, o.score FROM o{text_join('x', 'o.id')} "
            f"WHERE 1{checks} LIMIT ?), "
        )
    else:
        best = (
            f"w AS MATERIALIZED (SELECT id, score FROM ({{ranked}}) ORDER BY {MINE_FIRST} "
            "LIMIT ?), "
        )
    if checks:
        # A text check may turn down most rows (``-e``): only the newest RANK_WINDOW
        # substring matches are checked, so the query stays bounded.
        newest = (
            "UNION ALL SELECT * FROM (SELECT y.id, 1 AS tier, 0.0 AS score FROM ("
            f"SELECT search_events.rowid AS id FROM search_events{gj} "
            f"WHERE search_events MATCH ?{gw} ORDER BY search_events.rowid DESC LIMIT ?) AS y "
            f"{text_join('x', 'y.id')} WHERE y.id NOT IN (SELECT id FROM w){checks} "
            "LIMIT CASE WHEN (SELECT c FROM n) < ? AND (SELECT c FROM g) > ? THEN ? ELSE 0 END) "
        )
        newest_window: list[Any] = [RANK_WINDOW]
    else:
        newest = (
            "UNION ALL SELECT * FROM (SELECT search_events.rowid AS id, 1 AS tier, 0.0 AS score "
            f"FROM search_events{gj} WHERE search_events MATCH ?{gw} "
            "AND search_events.rowid NOT IN (SELECT id FROM w) "
            "ORDER BY search_events.rowid DESC "
            "LIMIT CASE WHEN (SELECT c FROM n) < ? AND (SELECT c FROM g) > ? THEN ? ELSE 0 END) "
        )
        newest_window = []
    # The rows still waiting for the trigram index (the newest events): every term as a
    # substring of their text, newest first (memory.sql.search_pending).
    p_text = scanned_text(PENDING, columns)
    pj, pw, pa = restriction(PENDING, session_id, since)
    p_has, p_has_args = substring_checks(parsed.include, p_text)
    p_checks, p_check_args = text_checks(parsed, p_text, short_included=True)
    pending = (
        f"UNION ALL SELECT * FROM (SELECT {PENDING}.id AS id, 1 AS tier, 0.0 AS score "
        f"FROM {PENDING}{pj} WHERE 1{p_has}{pw}{p_checks} "
        f"AND {PENDING}.id NOT IN (SELECT id FROM w) "
        f"ORDER BY {kind_tier_of(f'{PENDING}.id')}, {PENDING}.id DESC "
        "LIMIT CASE WHEN (SELECT c FROM n) < ? THEN ? ELSE 0 END)) "
    )
    ranked = (
        # The newest RANK_WINDOW word matches, then bm25 among them.
        f"SELECT search_words.rowid AS id, bm25(search_words, {_WEIGHTS}) AS score, "
        f"{WORD_KIND_TIER} AS kt "
        f"FROM search_words{wj} WHERE search_words MATCH ?{ww} "
        "ORDER BY search_words.rowid DESC LIMIT ?"
    )
    sql = (
        "WITH " + best.format(ranked=ranked) + "n AS MATERIALIZED (SELECT count(*) AS c FROM w), "
        # How many substring matches in the whole index (stops counting past the
        # window): bm25 counts them all before it ranks any (even under a filter), so
        # they are ranked by bm25 only when few, else taken newest first. Only read
        # when the word hits fall short (the AND stops at the first false term).
        "g AS MATERIALIZED (SELECT count(*) AS c FROM (SELECT rowid FROM search_events "
        "WHERE search_events MATCH ? ORDER BY rowid DESC LIMIT ?)), "
        "hits AS ("
        "SELECT id, 0 AS tier, score FROM w "
        # The guards sit in LIMIT, which SQLite evaluates before it starts a scan (a
        # guard in WHERE would be checked per row, after FTS5 had matched them all).
        "UNION ALL SELECT * FROM (SELECT search_events.rowid AS id, 1 AS tier, "
        f"bm25(search_events, {_WEIGHTS}) AS score FROM search_events{gj} "
        f"WHERE search_events MATCH ?{gw}{g_checks} "
        "AND search_events.rowid NOT IN (SELECT id FROM w) "
        f"ORDER BY {kind_tier_of('search_events.rowid')}, score "
        "LIMIT CASE WHEN (SELECT c FROM n) < ? AND (SELECT c FROM g) <= ? THEN ? ELSE 0 END) "
        + newest
        + pending
        # The snippet's source: 4 KB of the stored text from a little before the first
        # term (a message indexes up to 128 KB; instr is 0 when lower() cannot fold
        # the term's case, and the text's start is taken).
        + "SELECT e.session_id, e.seq, e.kind, s.title, "
        f"substr({text}, max(1, instr(lower({text}), ?) - 1024), 4096) AS snip, "
        f"e.created_at AS at, {EVENT_TIER} AS tier, h.score "
        "FROM hits h JOIN conversation_events e ON e.id = h.id "
        f"JOIN sessions s ON s.id = e.session_id{text_join('f', 'h.id')}"
    )
    args: list[Any] = [
        words,
        *wa,
        RANK_WINDOW,
        *check_args,
        limit,
        grams,
        GRAM_WINDOW + 1,
        grams,
        *ga,
        *check_args,
        limit,
        GRAM_WINDOW,
        limit,
        grams,
        *ga,
        *newest_window,
        *check_args,
        limit,
        GRAM_WINDOW,
        limit,
        *p_has_args,
        *pa,
        *p_check_args,
        limit,
        limit,
        parsed.include[0].lower(),
    ]
    if titles:
        t_checks, t_args = text_checks(parsed, "search_titles.title", short_included=True)
        sql += (
            " UNION ALL SELECT * FROM (SELECT s.id, 0, 'title', s.title, "
            "snippet(search_titles, 0, ?, ?, '…', 64), s.updated_at AS at, 0 AS tier, "
            f"search_titles.rank * {_TITLE_WEIGHT} AS score "
            "FROM search_titles JOIN sessions s ON s.id = search_titles.session_id "
            f"WHERE search_titles MATCH ?{t_checks}{' AND s.updated_at >= ?' if since else ''} "
            "ORDER BY score LIMIT ?)"
        )
        args += [MARK_OPEN, MARK_CLOSE, match_expression(parsed), *t_args]
        args += [*([since] if since else []), limit]
    sql = (
        "SELECT session_id, seq, kind, title, snip, at, score FROM "
        f"({sql}) ORDER BY tier, score, at DESC LIMIT ?"
    )
    return sql, [*args, limit]
