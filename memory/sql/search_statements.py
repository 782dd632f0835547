"""The full-text index's SQL: writing index rows, searching, and the backfill.

The schema is migration ``0004.search``: ``search_events`` (FTS5, trigram, rowid = the
event's stable ``id``, columns ``mine``/``reply``/``tool`` by who wrote the text),
``search_titles`` (session titles), ``search_progress`` (the backfill of events older
than the index) and triggers that delete index rows with their events and sessions.

The memory layer does not know payload shapes: the text of an event comes from a
:data:`TextOf` function the runtime gives the backend at open time
(``runtime.payloads.searchable_text``); without one, :func:`generic_text` indexes every
string in the payload. Index rows are written by statements added to the same batch
as the events (one transaction, one round trip remotely).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from memory.search_query import (
    MARK_CLOSE,
    MARK_OPEN,
    fold,
    like_pattern,
    match_expression,
    parse_query,
)
from memory.search_records import COMPLETE, SearchHit, SearchProgress, TextOf
from memory.sql import search_words
from memory.sql.search_hits import hit_from_row
from memory.sql.search_pending import PENDING, fold_statements, pending_hits, row_text
from memory.sql.search_shapes import short_statement, usable_for_short
from memory.sql.search_words import (
    restriction,
    usable_for_words,
    with_words,
    word_first_statement,
)

__all__ = [
    "KIND_COLUMNS",
    "COMPLETE",
    "SearchHit",
    "SearchProgress",
    "SearchKind",
    "TextOf",
    "column_of",
    "event_filters",
    "generic_text",
    "hit_from_row",
    "index_values",
    "index_values_of",
    "SearchPlan",
    "search_statement",
]

#: What ``--kind`` selects: the person's messages, the model's replies, tool traffic.
SearchKind = Literal["user", "assistant", "tool"]
#: Index column per search kind.
KIND_COLUMNS: Final[dict[str, str]] = {"user": "mine", "assistant": "reply", "tool": "tool"}
#: Title matches rank this many times their bm25 score (titles are short and chosen).
_TITLE_WEIGHT: Final = 2.0
#: Approximate snippet length in trigram tokens (about as many characters).
SNIPPET_TOKENS: Final = 64
_GENERIC_LIMIT: Final = 32_768


def column_of(kind: str) -> str:
    """The index column an event of ``kind`` fills."""
    if kind == "user":
        return "mine"
    if kind.startswith("tool"):
        return "tool"
    return "reply"


def generic_text(kind: str, payload: Mapping[str, Any]) -> str:
    """Every string value in ``payload`` (keys excluded), for backends with no TextOf."""
    del kind
    parts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(payload)
    return "\n".join(parts)[:_GENERIC_LIMIT]


def index_values(text_of: TextOf, kind: str, payload: str) -> tuple[str, str, str]:
    """The ``(mine, reply, tool)`` column values of one event's index row."""
    try:
        decoded = json.loads(payload)
    except ValueError:
        decoded = {}
    return index_values_of(text_of, kind, decoded if isinstance(decoded, dict) else {})


def index_values_of(text_of: TextOf, kind: str, payload: Mapping[str, Any]) -> tuple[str, str, str]:
    """:func:`index_values` of a payload the caller holds decoded (a save point's own)."""
    return _columns(kind, fold(text_of(kind, payload)))


def event_rows_statements(
    session_id: str,
    rows: list[tuple[int, tuple[str, str, str]]],
    guard: str = "",
    guard_args: tuple[Any, ...] = (),
    *,
    rows_per_insert: int = 500,
) -> list[tuple[str, list[Any]]]:
    """Index rows for events a save point just inserted, for the same batch: each
    event's word-index row and its pending substring row (``search_pending``).

    Each event is found at ``seq = last_seq + offset`` (the batch runs this before the
    counters move); ``guard`` (on ``s.last_seq``) is the save point's claim check.

    Args:
        rows: ``(offset, (mine, reply, tool))`` per event.
    """
    stmts: list[tuple[str, list[Any]]] = []
    for start in range(0, len(rows), rows_per_insert):
        chunk = rows[start : start + rows_per_insert]
        args: list[Any] = []
        for offset, values in chunk:
            args.extend((offset, *values))
        marks = ", ".join(["(?, ?, ?, ?)"] * len(chunk))
        stmts.append(
            (
                # Substring rows wait in search_pending (migration 0015): a save point
                # writes one FTS5 table, not two (memory.sql.search_pending).
                f"INSERT INTO {PENDING} (id, mine, reply, tool) "
                f"SELECT e.id, v.column2, v.column3, v.column4 FROM (VALUES {marks}) AS v "
                "JOIN sessions s ON s.id = ? "
                "JOIN conversation_events e ON e.session_id = s.id "
                f"AND e.seq = s.last_seq + v.column1 WHERE 1{guard}",
                [*args, session_id, *guard_args],
            )
        )
    return with_words(stmts) + fold_statements(session_id, rows, guard, guard_args)


#: Index one event by its id if it still exists and has no index row (backfill).
INSERT_EVENT_BY_ID: Final = (
    "INSERT INTO search_events (rowid, mine, reply, tool) "
    "SELECT id, ?, ?, ? FROM conversation_events WHERE id = ?4 "
    "AND NOT EXISTS (SELECT 1 FROM search_events WHERE rowid = ?4) "
    f"AND NOT EXISTS (SELECT 1 FROM {PENDING} WHERE id = ?4)"
)
#: Give a session its title key (once).
INSERT_TITLE_KEY: Final = (
    "INSERT INTO search_title_keys (session_id) SELECT id FROM sessions "
    "WHERE id = ? AND title = ? ON CONFLICT (session_id) DO NOTHING"
)
#: Index a session's title unless its current title is already indexed.
INSERT_TITLE: Final = (
    "INSERT INTO search_titles (rowid, title, session_id) "
    "SELECT k.id, ?, k.session_id FROM search_title_keys k JOIN sessions s "
    "ON s.id = k.session_id WHERE k.session_id = ? AND s.title = ? "
    "AND NOT EXISTS (SELECT 1 FROM search_titles WHERE rowid = k.id)"
)


def title_statements(session_id: str, title: str) -> list[tuple[str, list[Any]]]:
    """Index ``title`` as the session's title (after the statement that set it)."""
    return [
        (INSERT_TITLE_KEY, [session_id, title]),
        (INSERT_TITLE, [fold(title), session_id, title]),
    ]


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """One search as SQL: the statement, its arguments, and how to read its rows.

    Attributes:
        sql: the statement (one round trip).
        args: its arguments.
        scan_terms: short terms checked by ``LIKE`` (snippets are cut in Python).
    """

    sql: str
    args: list[Any]
    scan_terms: tuple[str, ...] = ()


def search_statement(
    query: str,
    *,
    limit: int,
    session_id: str | None = None,
    kinds: tuple[str, ...] = (),
    since: str | None = None,
) -> SearchPlan | None:
    """One statement returning the ranked hits (``None`` when the query finds nothing).

    Event hits come from ``search_events``: the person's own words first (however
    often a reply or a tool output repeats the words), then in bm25 order, newest
    first among equal scores; title hits are added unless the search is
    limited to one session or to some kinds. Most queries take the word-first plan
    (:mod:`memory.sql.search_words`), excluded and short terms included
    (:mod:`memory.sql.search_shapes`); the rest (an included ``snake_case`` term, terms
    with non-ASCII cased letters) run on the trigram index here, where terms of one or
    two characters are checked with ``LIKE`` (a query of only such terms is a scan of
    the index's text, newest first).
    """
    parsed = parse_query(query)
    columns = tuple(KIND_COLUMNS[k] for k in kinds)
    expression = match_expression(parsed, columns)
    short = (
        parsed.short if expression is None else tuple(t for t in parsed.short if not t.isascii())
    )
    if (expression is None and not short) or limit <= 0:
        return None
    if usable_for_words(parsed):
        sql, word_args = word_first_statement(
            parsed,
            limit=limit,
            columns=columns,
            titles=not kinds and session_id is None,
            session_id=session_id,
            since=since,
        )
        shown = (*parsed.include, *(t for t in parsed.short if not t.isascii()))
        return SearchPlan(sql, word_args, shown)
    if expression is None and usable_for_short(parsed):
        sql, short_args = short_statement(
            parsed,
            limit=limit,
            columns=columns,
            titles=not kinds and session_id is None,
            restrict=restriction("search_events", session_id, since),
            restrict_words=restriction("search_words", session_id, since),
            restrict_pending=restriction(PENDING, session_id, since),
            since=since,
            rank_window=search_words.RANK_WINDOW,
        )
        return SearchPlan(sql, short_args, parsed.short)
    text_of_row = row_text("search_events", columns)
    unless = parsed.short_exclude
    likes = "".join(f" AND ({text_of_row}) LIKE ? ESCAPE '\\'" for _ in short)
    likes += "".join(f" AND ({text_of_row}) NOT LIKE ? ESCAPE '\\'" for _ in unless)
    like_args = [like_pattern(t) for t in (*short, *unless)]
    where, where_args = event_filters(session_id, since)
    filters, filter_args = likes + where, [*like_args, *where_args]
    marks = [MARK_OPEN, MARK_CLOSE]
    snippet = f"snippet(search_events, -1, ?, ?, '…', {SNIPPET_TOKENS})"
    joined = (
        "FROM search_events JOIN conversation_events e ON e.id = search_events.rowid "
        "JOIN sessions s ON s.id = e.session_id"
    )
    # Rows are (session_id, seq, kind, title, snip, at, tier, score); tier 0 is the
    # person's own words (and titles), ranked before replies and tool output.
    mine_last = "(e.kind <> 'user') AS tier"
    if expression is None:
        events = (
            "SELECT e.session_id, e.seq, e.kind, s.title, "
            f"substr({text_of_row}, 1, 4096) AS snip, e.created_at AS at, {mine_last}, "
            f"0.0 AS score {joined} WHERE 1{filters} ORDER BY at DESC LIMIT ?"
        )
        args: list[Any] = [*filter_args, limit]
    elif filters:
        # Filtered: join inside so the limit applies to what the filters keep.
        events = (
            f"SELECT e.session_id, e.seq, e.kind, s.title, {snippet} AS snip, "
            f"e.created_at AS at, {mine_last}, search_events.rank AS score {joined} "
            f"WHERE search_events MATCH ?{filters} ORDER BY tier, score, at DESC LIMIT ?"
        )
        args = [*marks, expression, *filter_args, limit]
    else:
        # Unfiltered: FTS5 yields rows in rank order itself and stops at the limit, so
        # snippets are made for the returned rows only; the person's own words (column
        # ``mine``) and the rest are two such queries, so a reply or a tool output
        # repeating a word cannot crowd out the message that asked about it.
        ranked, args = [], []
        for tier, group in _mine_and_rest(columns):
            ranked.append(
                f"SELECT * FROM (SELECT rowid AS id, {snippet} AS snip, {tier} AS tier, "
                "rank AS score FROM search_events AS f WHERE search_events MATCH ? "
                "ORDER BY rank LIMIT ?)"
            )
            args += [*marks, match_expression(parsed, group), limit]
        events = (
            "SELECT e.session_id, e.seq, e.kind, s.title, h.snip, e.created_at AS at, "
            f"h.tier, h.score FROM ({' UNION ALL '.join(ranked)}) AS h "
            "JOIN conversation_events e ON e.id = h.id JOIN sessions s ON s.id = e.session_id"
        )
    # The rows still waiting for the trigram index (the newest events).
    waiting, waiting_args = pending_hits(
        (*parsed.include, *short), (*parsed.exclude, *unless), columns, where
    )
    events = f"SELECT * FROM ({events}) UNION ALL {waiting}"
    args = [*args, *waiting_args, *where_args, limit]
    # Snippets of stored text (pending rows) are cut around the terms; FTS5's come marked.
    shown = (*parsed.include, *short)
    if session_id is not None or kinds:
        return SearchPlan(
            f"SELECT {_HIT_COLUMNS} FROM ({events}) ORDER BY tier, score, at DESC LIMIT ?",
            [*args, limit],
            shown,
        )
    title_likes = "".join(" AND search_titles.title LIKE ? ESCAPE '\\'" for _ in short)
    title_likes += "".join(" AND search_titles.title NOT LIKE ? ESCAPE '\\'" for _ in unless)
    title_since = " AND s.updated_at >= ?" if since is not None else ""
    if expression is None:
        titles = (
            "SELECT s.id, 0, 'title', s.title, search_titles.title, s.updated_at AS at, "
            "0 AS tier, 0.0 AS score "
            "FROM search_titles JOIN sessions s ON s.id = search_titles.session_id "
            f"WHERE 1{title_likes}{title_since} ORDER BY at DESC LIMIT ?"
        )
        title_args: list[Any] = [*like_args]
    else:
        titles = (
            "SELECT s.id, 0, 'title', s.title, snippet(search_titles, 0, ?, ?, '…', 64), "
            f"s.updated_at AS at, 0 AS tier, search_titles.rank * {_TITLE_WEIGHT} AS score "
            "FROM search_titles JOIN sessions s ON s.id = search_titles.session_id "
            f"WHERE search_titles MATCH ?{title_likes}{title_since} ORDER BY score LIMIT ?"
        )
        title_args = [*marks, match_expression(parsed), *like_args]
    if since is not None:
        title_args.append(since)
    title_args.append(limit)
    sql = (
        f"SELECT {_HIT_COLUMNS} FROM (SELECT * FROM ({events}) UNION ALL "
        f"SELECT * FROM ({titles})) ORDER BY tier, score, at DESC LIMIT ?"
    )
    return SearchPlan(sql, [*args, *title_args, limit], shown)


def event_filters(session_id: str | None, since: str | None) -> tuple[str, list[Any]]:
    """Conditions on the event ``e`` keeping a session's or recent events, and their args."""
    sql, args = "", []
    if session_id is not None:
        sql += " AND e.session_id = ?"
        args.append(session_id)
    if since is not None:
        sql += " AND e.created_at >= ?"
        args.append(since)
    return sql, args


#: The columns of a hit row (:func:`hit_from_row`).
_HIT_COLUMNS: Final = "session_id, seq, kind, title, snip, at, score"


def _mine_and_rest(columns: tuple[str, ...]) -> list[tuple[int, tuple[str, ...]]]:
    """The index columns searched, as ``(tier, columns)``: the person's own words
    (tier 0), then replies and tool output (tier 1); a group not searched is left out."""
    searched = columns or ("mine", "reply", "tool")
    groups = [(0, tuple(c for c in searched if c == "mine"))]
    groups.append((1, tuple(c for c in searched if c != "mine")))
    return [(tier, group) for tier, group in groups if group]


def _columns(kind: str, text: str) -> tuple[str, str, str]:
    column = column_of(kind)
    return (
        text if column == "mine" else "",
        text if column == "reply" else "",
        text if column == "tool" else "",
    )


def import_statements(
    text_of: TextOf,
    session_id: str,
    title: str | None,
    events: list[tuple[int, str, str]] | list[tuple[int, str, str, str | None]],
    *,
    rows_per_insert: int = 100,
) -> list[tuple[str, list[Any]]]:
    """Index rows for a session written by an import, for the import's own batch.

    Args:
        events: ``(seq, kind, payload_json)`` of the session's events, or
            ``(seq, kind, payload_json, search_text)`` where ``search_text`` (already
            folded, see :attr:`memory.bundle.PortableEvent.search_text`) spares decoding
            the payload again; ``None`` there derives it.
    """
    stmts: list[tuple[str, list[Any]]] = []
    for start in range(0, len(events), rows_per_insert):
        chunk = events[start : start + rows_per_insert]
        args: list[Any] = []
        for seq, kind, payload, *given in chunk:
            text = given[0] if given else None
            row = index_values(text_of, kind, payload) if text is None else _columns(kind, text)
            args.extend((seq, *row))
        values = ", ".join(["(?, ?, ?, ?)"] * len(chunk))
        stmts.append(
            (
                "INSERT INTO search_events (rowid, mine, reply, tool) "
                "SELECT e.id, v.column2, v.column3, v.column4 "
                f"FROM (VALUES {values}) AS v "
                "JOIN conversation_events e ON e.session_id = ? AND e.seq = v.column1",
                [*args, session_id],
            )
        )
    if title is not None:
        stmts += title_statements(session_id, title)
    return with_words(stmts)
