"""The newest events' substring rows, waiting for the trigram index (migration ``0015``).

A save point writes its events' word-index rows (``search_words``) and, instead of their
trigram rows, the same folded columns into the plain table ``search_pending``:
:meth:`~memory.sql.search.LibsqlSearch.settle_search` later moves them into
``search_events`` a few hundred per transaction. Until then:

* an event's stored text is read from whichever table holds its row
  (:func:`text_join`, :func:`text_of`): snippets, text checks, forks, embeddings;
* the substring tier of every search plan adds the pending rows that hold every term
  (:func:`substring_checks`), newest first, after the trigram index's own hits.

The scan is ``instr`` of the case-folded term in the row's text: SQLite's ``lower()``
folds ASCII letters only, so a text with other cased letters (Greek, Cyrillic) carries
its Python ``casefold()`` in the column ``folded`` (:func:`folded_of`, written by the
save point), and the scan reads that instead (:func:`scanned_text`). A waiting row is
then found by the same terms, in any case, as once it is in the trigram index.
"""

from __future__ import annotations

from typing import Any, Final

from memory.search_records import SETTLE_BATCH

__all__ = [
    "COLUMNS",
    "PENDING",
    "case_folded",
    "fold_statements",
    "folded_of",
    "pending_hits",
    "row_text",
    "scanned_text",
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


def text_join(alias: str, event_id: str) -> str:
    """LEFT JOINs giving ``alias`` (``search_events``) and ``alias``\\ ``p``
    (``search_pending``) the row of the event whose id is the SQL ``event_id``; read the
    text with :func:`text_of`. (A view over both tables would be materialized whole by
    SQLite 3.40 when joined: a lookup per id is what keeps this a b-tree seek.)"""
    return (
        f" LEFT JOIN search_events {alias} ON {alias}.rowid = {event_id}"
        f" LEFT JOIN {PENDING} {alias}p ON {alias}p.id = {event_id}"
    )


def row_text(alias: str, columns: tuple[str, ...] = ()) -> str:
    """The SQL text of the ``columns`` (all three by default) of index row ``alias`` (one
    table's row: ``search_events``, ``search_pending``)."""
    return " || ".join(f"{alias}.{c}" for c in (columns or COLUMNS))


def text_of(alias: str, columns: tuple[str, ...] = ()) -> str:
    """The SQL text of the ``columns`` (all three by default) of a :func:`text_join`."""
    return " || ".join(f"coalesce({alias}.{c}, {alias}p.{c})" for c in (columns or COLUMNS))


def case_folded(text: str) -> str:
    """``text`` with each character's case folded as the trigram tokenizer folds it:
    Unicode's simple folding, one character for one (``ΣΑΣ`` and ``σας`` both become
    ``σασ``, while ``ß`` stays ``ß``; Python's ``casefold`` would make it ``ss``)."""
    folded = text.casefold()
    if len(folded) == len(text):
        return folded
    return "".join(c if len(f := c.casefold()) > 1 else f for c in text)


def folded_of(text: str) -> str | None:
    """``text`` case-folded (:func:`case_folded`) when SQLite's ``lower()`` would not
    fold it the same (it holds characters beyond ASCII that folding changes), else
    ``None``."""
    if text.isascii():
        return None
    folded = case_folded(text)
    return None if folded == text else folded


def fold_statements(
    session_id: str,
    rows: list[tuple[int, tuple[str, str, str]]],
    guard: str = "",
    guard_args: tuple[Any, ...] = (),
) -> list[tuple[str, list[Any]]]:
    """The ``folded`` column of a save point's pending rows that need one (most need none:
    one statement per such event, after the rows are inserted; ``rows`` and ``guard``
    as for the insert, see ``search_statements.event_rows_statements``)."""
    stmts: list[tuple[str, list[Any]]] = []
    for offset, values in rows:
        folded = folded_of("".join(values))
        if folded is None:
            continue
        stmts.append(
            (
                f"UPDATE {PENDING} SET folded = ? WHERE id = (SELECT e.id FROM sessions s "
                "JOIN conversation_events e ON e.session_id = s.id "
                f"AND e.seq = s.last_seq + ? WHERE s.id = ?{guard})",
                [folded, offset, session_id, *guard_args],
            )
        )
    return stmts


def scanned_text(alias: str, columns: tuple[str, ...] = ()) -> str:
    """The text of pending row ``alias`` that the scan compares terms with (see the
    module docstring): its ``folded`` column when it has one, and only when one of
    ``columns`` (all by default) holds the row's text."""
    text = row_text(alias, columns)
    if not columns:
        return f"coalesce({alias}.folded, {text})"
    return f"CASE WHEN {text} = '' THEN '' ELSE coalesce({alias}.folded, {text}) END"


def substring_checks(terms: tuple[str, ...], text: str) -> tuple[str, list[Any]]:
    """SQL conditions that ``text`` holds every one of ``terms`` (case folded: ``text``
    is a :func:`scanned_text`, or holds no letters beyond ASCII that fold)."""
    checks = "".join(f" AND instr(lower({text}), ?) > 0" for _ in terms)
    return checks, [case_folded(t) for t in terms]


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
    text = row_text("p", columns)
    scanned = scanned_text("p", columns)
    has, has_args = substring_checks(include, scanned)
    has += "".join(f" AND instr(lower({scanned}), ?) = 0" for _ in exclude)
    sql = (
        "SELECT * FROM (SELECT e.session_id, e.seq, e.kind, s.title, "
        f"substr({text}, max(1, instr(lower({text}), ?) - 1024), 4096) AS snip, "
        "e.created_at AS at, (e.kind <> 'user') AS tier, 0.0 AS score "
        f"FROM {PENDING} p JOIN conversation_events e ON e.id = p.id "
        f"JOIN sessions s ON s.id = e.session_id WHERE 1{has}{where} "
        "ORDER BY tier, p.id DESC LIMIT ?)"
    )
    return sql, [include[0].lower(), *has_args, *(case_folded(t) for t in exclude)]


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
