"""Appending to an imported session: events with explicit seq, turn and timestamps.

``turnkeep import`` re-reads other tools' histories; a session that grew in its source
since the last import gets only its new events, written by :func:`append_statements`
as one batch (one transaction, one round trip remotely). The batch is guarded by the
session's ``last_seq``: if anything appended to the session since the importer looked,
no row is written and the caller gets :class:`~memory.errors.ImportConflictError`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Final

from memory.bundle import PortableEvent, PortableSession
from memory.errors import BundleFormatError
from memory.records import TokenCount, bounded_title

__all__ = ["EVENT_INSERT", "EVENT_ROW_INSERT", "append_statements", "check_contiguous"]


#: Events per multi-row INSERT (5 parameters each, well under SQLite's variable limit).
ROWS_PER_INSERT: Final = 32
_SHAPES: Final = (32, 16, 8, 4, 2, 1)

_GUARD: Final = "EXISTS (SELECT 1 FROM sessions WHERE id = ? AND last_seq = ?)"


#: How every event INSERT of an import starts.
EVENT_INSERT: Final = (
    "INSERT INTO conversation_events (session_id, seq, turn, kind, payload, created_at) "
)


#: One event, guarded by its value: a ``last_seq`` that is not the one expected (or no
#: such session) makes its ``seq`` NULL, which the NOT NULL constraint refuses. A plain
#: one-row ``VALUES``: an ``INSERT ... SELECT`` into this table (which has a row
#: trigger) first copies every row it inserts into a temporary table, payloads and all.
EVENT_ROW_INSERT: Final = (
    f"{EVENT_INSERT}VALUES "
    "(?1, CASE WHEN (SELECT last_seq FROM sessions WHERE id = ?1) = ?7 THEN ?2 END, "
    "?3, ?4, ?5, ?6)"
)
#: The constraint :data:`EVENT_ROW_INSERT` fails with when its guard does.
ROW_GUARD_FAILED: Final = "NOT NULL constraint failed: conversation_events.seq"


@functools.cache
def _insert_sql(rows: int) -> str:
    """The guarded INSERT of ``rows`` events (in order: their ids ascend with their seq)."""
    values = ", ".join(["(?, ?, ?, ?, ?)"] * rows)
    return (
        f"{EVENT_INSERT}SELECT ?, column1, column2, column3, column4, column5 "
        f"FROM (VALUES {values}) WHERE {_GUARD}"
    )


def check_contiguous(events: Sequence[PortableEvent], expect_last_seq: int) -> None:
    """Refuse events whose seqs do not continue ``expect_last_seq`` without a gap.

    Raises:
        BundleFormatError: names the first event that is out of place.
    """
    for index, event in enumerate(events):
        wanted = expect_last_seq + index + 1
        if event.seq != wanted:
            raise BundleFormatError(
                f"events[{index}].seq: expected {wanted}, got {event.seq}",
                where=f"events[{index}].seq",
            )


def append_statements(
    session_id: str,
    events: Sequence[PortableEvent],
    *,
    expect_last_seq: int,
    metadata_json: str | None,
    updated_at: str | None,
    create: PortableSession | None = None,
    tokens: TokenCount | None = None,
    single_rows: bool = False,
) -> list[tuple[str, list[Any]]]:
    """The batch that appends ``events`` if the session's ``last_seq`` is still the one expected.

    With ``single_rows`` each event is its own :data:`EVENT_ROW_INSERT`, whose failed
    guard *fails* (:data:`ROW_GUARD_FAILED`) instead of inserting nothing: for a batch
    that rolls the append back on any failure (the embedded file's savepoints), where
    it spares SQLite copying every payload through a temporary table.

    With ``create``, the batch first inserts that session's catalog row (it fails, and
    nothing is written, if the id exists). Every event INSERT carries the guard, and the
    UPDATE of the counters comes last (it moves ``last_seq``, which would fail the guard
    of any later INSERT); it also adds ``tokens`` to the session's token totals, as a
    save point does (so a re-import that appends only new events counts only theirs).
    The caller checks the UPDATE's ``rows_affected``: 0 means the
    guard failed and nothing was written. The batch ends with a read of ``last_seq``.

    Events go in multi-row INSERTs of two fixed texts (see :data:`ROWS_PER_INSERT`).
    """
    stmts: list[tuple[str, list[Any]]] = []
    if create is not None:
        stmts.append(
            (
                "INSERT INTO sessions (id, title, agent, provider, model, created_at, "
                "updated_at, metadata, forked_from, forked_at_seq) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    session_id,
                    bounded_title(create.title),
                    create.agent,
                    create.provider,
                    create.model,
                    create.created_at,
                    create.updated_at,
                    create.metadata_json,
                    create.forked_from,
                    create.forked_at_seq,
                ],
            )
        )
    # Rows go in groups of :data:`ROWS_PER_INSERT` (then single rows): one statement,
    # one step of SQLite, per group. The embedded driver releases the GIL for each
    # step and must take it back after it, so while the import's parsing thread holds
    # it (a multi-megabyte line being decoded) a statement a row made the writer wait
    # once a row. Only two statement texts: sqlite3 caches each and SQLite keeps the
    # values last bound to it, so at most one group's payloads and one row's stay alive.
    groups = []
    start = 0
    if single_rows:
        stmts.extend(
            (
                EVENT_ROW_INSERT,
                [session_id, e.seq, e.turn, e.kind, e.payload_json, e.created_at, expect_last_seq],
            )
            for e in events
        )
        start = len(events)
    for size in _SHAPES:
        while len(events) - start >= size:
            groups.append(events[start : start + size])
            start += size
    for group in groups:
        args: list[Any] = [session_id]
        for e in group:
            args.extend((e.seq, e.turn, e.kind, e.payload_json, e.created_at))
        args.extend((session_id, expect_last_seq))
        stmts.append((_insert_sql(len(group)), args))
    count = len(events)
    max_turn = max((e.turn for e in events), default=0)
    stmts.append(
        (
            "UPDATE sessions SET last_seq = last_seq + ?, event_count = event_count + ?, "
            "turn_count = max(turn_count, ?), updated_at = coalesce(?, updated_at), "
            "metadata = coalesce(?, metadata), prompt_tokens = prompt_tokens + ?, "
            "completion_tokens = completion_tokens + ?, "
            "tokens_estimated = max(tokens_estimated, ?) WHERE id = ? AND last_seq = ?",
            [
                count,
                count,
                max_turn,
                updated_at,
                metadata_json,
                tokens.prompt if tokens is not None else 0,
                tokens.completion if tokens is not None else 0,
                int(tokens.estimated) if tokens is not None else 0,
                session_id,
                expect_last_seq,
            ],
        )
    )
    stmts.append(("SELECT last_seq FROM sessions WHERE id = ?", [session_id]))
    return stmts
