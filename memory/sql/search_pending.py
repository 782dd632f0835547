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
