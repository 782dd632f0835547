"""The newest events' substring rows, waiting for the trigram index (migration ``0015``).

A save point writes its events' word-index rows (``search_words``) and, instead of their
trigram rows, the same folded columns into the plain table ``search_pending``:
:meth:`~memory.sql.search.LibsqlSearch.settle_search` later moves them into
``search_events`` a few hundred per transaction. Until then:

* an event's stored text is read from whichever table holds its row
  (:func:`text_join`, :func:`text_of`): snippets, text checks, forks, embeddings;
* the substring tier of every search plan adds the pending rows that hold every term
  (:func:`substring_checks`), newest first, after the trigram index's own hits.

The scan is ``instr`` on ``lower()`` of the stored (already folded) text, as the other
text checks (:mod:`memory.sql.search_shapes`): case-insensitive for ASCII letters. A
term with other cased letters (Greek, Cyrillic) typed in another case than saved is
found in a pending row as a whole word (the word index folds every case), and inside a
longer word once the row is moved.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = [
    "COLUMNS",
    "PENDING",
    "pending_hits",
    "SETTLE_BATCH",
    "settle_statements",
    "substring_checks",
    "text_join",
    "text_of",
]

#: The table of rows waiting for the trigram index.
PENDING: Final = "search_pending"
#: An index row's text columns, in order.
COLUMNS: Final = ("mine", "reply", "tool")
#: Pending rows moved per transaction: a few ms of writing (about 30 us an event), so a
#: save point queued behind a move hardly waits.
SETTLE_BATCH: Final = 200


def text_join(alias: str, event_id: str) -> str:
    """LEFT JOINs giving ``alias`` (``search_events``) and ``alias``\\ ``p``
    (``search_pending``) the row of the event whose id is the SQL ``event_id``; read the
    text with :func:`text_of`. (A view over both tables would be materialized whole by
    SQLite 3.40 when joined: a lookup per id is what keeps this a b-tree seek.)"""
    return (
        f" LEFT JOIN search_events {alias} ON {alias}.rowid = {event_id}"
        f" LEFT JOIN {PENDING} {alias}p ON {alias}p.id = {event_id}"
    )


def text_of(alias: str, columns: tuple[str, ...] = ()) -> str:
    """The SQL text of the ``columns`` (all three by default) of a :func:`text_join`."""
    return " || ".join(f"coalesce({alias}.{c}, {alias}p.{c})" for c in (columns or COLUMNS))


def substring_checks(terms: tuple[str, ...], text: str) -> tuple[str, list[Any]]:
    """SQL conditions that ``text`` holds every one of ``terms`` (ASCII case folded)."""
    return "".join(f" AND instr(lower({text}), ?) > 0" for _ in terms), [t.lower() for t in terms]


def pending_hits(
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    columns: tuple[str, ...],
    where: str,
) -> tuple[str, list[Any]]:
    """The trigram plan's hit rows from pending rows, as ``SELECT * FROM (...)`` and the
    arguments before ``where``'s own (the caller appends those, then the limit).

    Rows are ``(session_id, seq, kind, title, snip, at, tier, score)`` like the plan's
    (tier 0 for the person's own words, score 0: after every ranked row of its tier):
    every ``include`` term present and every ``exclude`` term absent in the text of
    ``columns``, newest first, with the stored text from a little before the first term
    as the snippet's source (cut and marked by the caller). ``where`` holds conditions
    on the event ``e``.
    """
    text = " || ".join(f"p.{c}" for c in (columns or COLUMNS))
    has, has_args = substring_checks(include, text)
    has += "".join(f" AND instr(lower({text}), ?) = 0" for _ in exclude)
    sql = (
        "SELECT * FROM (SELECT e.session_id, e.seq, e.kind, s.title, "
        f"substr({text}, max(1, instr(lower({text}), ?) - 1024), 4096) AS snip, "
        "e.created_at AS at, (e.kind <> 'user') AS tier, 0.0 AS score "
        f"FROM {PENDING} p JOIN conversation_events e ON e.id = p.id "
        f"JOIN sessions s ON s.id = e.session_id WHERE 1{has}{where} "
        "ORDER BY tier, p.id DESC LIMIT ?)"
    )
    return sql, [include[0].lower(), *has_args, *(t.lower() for t in exclude)]


def settle_statements(batch: int = SETTLE_BATCH) -> list[tuple[str, list[Any]]]:
    """One transaction moving the oldest ``batch`` pending rows into the trigram index;
    its last statement reads how many were moved. (Both statements take the same rows:
    nothing else writes between them in the transaction.)"""
    return [
        (
            "INSERT INTO search_events (rowid, mine, reply, tool) "
            f"SELECT id, mine, reply, tool FROM {PENDING} ORDER BY id LIMIT ?",
            [batch],
        ),
        (
            f"DELETE FROM {PENDING} WHERE id IN (SELECT id FROM {PENDING} ORDER BY id LIMIT ?)",
            [batch],
        ),
        ("SELECT changes()", []),
    ]
