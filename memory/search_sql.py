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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from memory.search_query import MARK_CLOSE, MARK_OPEN, fold, match_expression

__all__ = [
    "KIND_COLUMNS",
    "COMPLETE",
    "SearchHit",
    "SearchProgress",
    "SearchKind",
    "TextOf",
    "column_of",
    "generic_text",
    "hit_from_row",
    "index_values",
    "search_statement",
]

#: ``(kind, payload) -> text`` a person may search for.
TextOf = Callable[[str, Mapping[str, Any]], str]
#: What ``--kind`` selects: the person's messages, the model's replies, tool traffic.
SearchKind = Literal["user", "assistant", "tool"]
#: Index column per search kind.
KIND_COLUMNS: Final[dict[str, str]] = {"user": "mine", "assistant": "reply", "tool": "tool"}
#: Title matches rank this many times their bm25 score (titles are short and chosen).
_TITLE_WEIGHT: Final = 2.0
#: Approximate snippet length in trigram tokens (about as many characters).
SNIPPET_TOKENS: Final = 48
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
    text = fold(text_of(kind, decoded if isinstance(decoded, dict) else {}))
    column = column_of(kind)
    return (
        text if column == "mine" else "",
        text if column == "reply" else "",
        text if column == "tool" else "",
    )


#: Index one stored event, found by ``(session_id, seq = last_seq + offset)`` while its
#: batch runs (before the counters move); ``guard`` is the save point's claim check.
INSERT_EVENT_ROW: Final = (
    "INSERT INTO search_events (rowid, mine, reply, tool) "
    "SELECT e.id, ?, ?, ? FROM conversation_events e JOIN sessions s ON s.id = e.session_id "
    "WHERE s.id = ? AND e.seq = s.last_seq + ?{guard}"
)
#: Index one event by its id if it still exists (backfill, import).
INSERT_EVENT_BY_ID: Final = (
    "INSERT INTO search_events (rowid, mine, reply, tool) "
    "SELECT id, ?, ?, ? FROM conversation_events WHERE id = ? "
    "AND NOT EXISTS (SELECT 1 FROM search_events WHERE rowid = ?)"
)
#: Index a session's title unless its current title is already indexed.
INSERT_TITLE: Final = (
    "INSERT INTO search_titles (title, session_id) SELECT ?, id FROM sessions "
    "WHERE id = ? AND title = ? "
    "AND NOT EXISTS (SELECT 1 FROM search_titles WHERE session_id = ?)"
)


def title_statement(session_id: str, title: str) -> tuple[str, list[Any]]:
    """Index ``title`` as the session's title (after the UPDATE that set it)."""
    return INSERT_TITLE, [fold(title), session_id, title, session_id]


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One ranked search result: an event, or a session title (``kind == "title"``).

    Attributes:
        session_id: the session.
        seq: the event's position (0 for a title hit).
        kind: the event kind, or ``"title"``.
        title: the session's title (``None`` when it has none).
        snippet: a one-line excerpt of the matched text (folded: no diacritics).
        marks: ``(start, end)`` offsets of the matches in ``snippet``.
        at: when the event was saved (the session's last activity for a title).
        score: the ranking score, lower is better (bm25 weighted by column).
    """

    session_id: str
    seq: int
    kind: str
    title: str | None
    snippet: str
    marks: tuple[tuple[int, int], ...]
    at: str
    score: float

    def marked(self, open_mark: str = "«", close_mark: str = "»") -> str:
        """The snippet with each match wrapped in the given marks."""
        out: list[str] = []
        last = 0
        for start, end in self.marks:
            out += [self.snippet[last:start], open_mark, self.snippet[start:end], close_mark]
            last = end
        out.append(self.snippet[last:])
        return "".join(out)

    def as_dict(self) -> dict[str, Any]:
        """The hit as JSON-ready values (the CLI's ``--json`` objects)."""
        return {
            "session_id": self.session_id,
            "seq": self.seq,
            "kind": self.kind,
            "title": self.title,
            "snippet": self.marked(),
            "text": self.snippet,
            "marks": [list(mark) for mark in self.marks],
            "at": self.at,
            "score": self.score,
        }


def _split_marks(raw: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A snippet with FTS5 marks as one line of text plus the match offsets."""
    text: list[str] = []
    marks: list[tuple[int, int]] = []
    length = 0
    start: int | None = None
    for char in raw:
        if char == MARK_OPEN:
            start = length
        elif char == MARK_CLOSE:
            if start is not None and length > start:
                marks.append((start, length))
            start = None
        else:
            char = " " if char in "\r\n\t" else char
            text.append(char)
            length += 1
    return "".join(text), tuple(marks)


def hit_from_row(row: tuple[Any, ...]) -> SearchHit:
    """A :class:`SearchHit` from one row of :func:`search_statement`."""
    session_id, seq, kind, title, raw, at, score = row
    snippet, marks = _split_marks(str(raw or ""))
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


def search_statement(
    query: str,
    *,
    limit: int,
    session_id: str | None = None,
    kinds: tuple[str, ...] = (),
    since: str | None = None,
) -> tuple[str, list[Any]] | None:
    """One statement returning the ranked hits (``None`` when the query finds nothing).

    Event hits come from ``search_events`` in bm25 order (the person's words weigh
    most), newest first among equal scores; title hits are added unless the search is
    limited to one session or to some kinds.
    """
    columns = tuple(KIND_COLUMNS[k] for k in kinds)
    expression = match_expression(query, columns)
    if expression is None or limit <= 0:
        return None
    marks = [MARK_OPEN, MARK_CLOSE]
    filters, args = "", [*marks, expression]
    if session_id is not None:
        filters += " AND e.session_id = ?"
        args.append(session_id)
    if since is not None:
        filters += " AND e.created_at >= ?"
        args.append(since)
    if filters:
        # Filtered: join inside so the limit applies to what the filters keep.
        events = (
            "SELECT e.session_id, e.seq, e.kind, s.title, "
            f"snippet(search_events, -1, ?, ?, '…', {SNIPPET_TOKENS}) AS snip, "
            "e.created_at AS at, search_events.rank AS score "
            "FROM search_events JOIN conversation_events e ON e.id = search_events.rowid "
            "JOIN sessions s ON s.id = e.session_id "
            f"WHERE search_events MATCH ?{filters} ORDER BY score, at DESC LIMIT ?"
        )
    else:
        # Unfiltered: FTS5 yields rows in rank order itself and stops at the limit,
        # so snippets are made for the returned rows only.
        events = (
            "SELECT e.session_id, e.seq, e.kind, s.title, h.snip, e.created_at AS at, "
            "h.score FROM (SELECT rowid AS id, "
            f"snippet(search_events, -1, ?, ?, '…', {SNIPPET_TOKENS}) AS snip, "
            "rank AS score FROM search_events WHERE search_events MATCH ? "
            "ORDER BY rank LIMIT ?) AS h "
            "JOIN conversation_events e ON e.id = h.id JOIN sessions s ON s.id = e.session_id"
        )
    args.append(limit)
    if session_id is not None or kinds:
        return f"SELECT * FROM ({events}) ORDER BY score, at DESC", args
    title_expression = match_expression(query)
    titles = (
        "SELECT s.id, 0, 'title', s.title, "
        "snippet(search_titles, 0, ?, ?, '…', 32), s.updated_at AS at, "
        f"search_titles.rank * {_TITLE_WEIGHT} AS score "
        "FROM search_titles JOIN sessions s ON s.id = search_titles.session_id "
        "WHERE search_titles MATCH ?"
        + (" AND s.updated_at >= ?" if since is not None else "")
        + " ORDER BY score LIMIT ?"
    )
    args += [*marks, title_expression]
    if since is not None:
        args.append(since)
    args.append(limit)
    sql = (
        f"SELECT * FROM (SELECT * FROM ({events}) UNION ALL SELECT * FROM ({titles})) "
        "ORDER BY score, at DESC LIMIT ?"
    )
    return sql, [*args, limit]


@dataclass(frozen=True, slots=True)
class SearchProgress:
    """How far the index is from covering events saved before it existed.

    Attributes:
        pending_events: older events not yet indexed.
        titles_pending: older session titles not yet indexed.
        indexed_upto: the backfill has indexed every event with an id up to this.
        backfill_until: events with ids up to this predate the index.
    """

    pending_events: int
    titles_pending: bool
    indexed_upto: int
    backfill_until: int

    @property
    def complete(self) -> bool:
        """Everything is indexed."""
        return self.pending_events == 0 and not self.titles_pending

    def as_dict(self) -> dict[str, Any]:
        """For ``db status --json``."""
        return {
            "complete": self.complete,
            "pending_events": self.pending_events,
            "titles_pending": self.titles_pending,
            "indexed_upto": self.indexed_upto,
            "backfill_until": self.backfill_until,
        }


COMPLETE = SearchProgress(0, False, 0, 0)


def import_statements(
    text_of: TextOf,
    session_id: str,
    title: str | None,
    events: list[tuple[int, str, str]],
    *,
    rows_per_insert: int = 100,
) -> list[tuple[str, list[Any]]]:
    """Index rows for a session written by an import, for the import's own batch.

    Args:
        events: ``(seq, kind, payload_json)`` of the session's events.
    """
    stmts: list[tuple[str, list[Any]]] = []
    for start in range(0, len(events), rows_per_insert):
        chunk = events[start : start + rows_per_insert]
        args: list[Any] = []
        for seq, kind, payload in chunk:
            args.extend((seq, *index_values(text_of, kind, payload)))
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
        stmts.append(title_statement(session_id, title))
    return stmts
