"""The event rows of a save point as one ``INSERT ... SELECT FROM (VALUES ...)`` statement.

A save point used to send one ``INSERT`` per event; every statement costs a round of
driver work (arguments bound, a result object built) on top of SQLite's own, and a
three-event turn paid it three times (``bash scripts/bench --only save-embedded``).
One statement reads the session row once and inserts every event at
``last_seq + offset``, in offset order so event ids follow ``seq``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

__all__ = ["EVENTS_PER_INSERT", "event_insert_statements"]

#: Events per statement: 5 bound values each, well below SQLite's 32,766 variables.
EVENTS_PER_INSERT: Final = 500


def event_insert_statements(
    session_id: str,
    rows: Sequence[tuple[int, int, str, str]],
    *,
    turn_sql: str,
    turn_args: Sequence[Any],
    created_at: str,
    guard: str = "",
    guard_args: Sequence[Any] = (),
) -> list[tuple[str, list[Any]]]:
    """Statements inserting a save point's events (one per :data:`EVENTS_PER_INSERT`).

    They run before the batch's ``UPDATE`` moves ``last_seq``, so every chunk numbers its
    events from the same ``last_seq``.

    Args:
        session_id: the session (created earlier in the batch).
        rows: ``(offset, turn, kind, payload_json)`` per event, offsets from 1.
        turn_sql: the turn as an SQL expression over the session row ``s`` and the
            values row ``v`` (``v.column2`` is the event's own turn).
        turn_args: the arguments of ``turn_sql`` (bound once per statement).
        created_at: the events' timestamp.
        guard: ``AND ...`` conditions over ``s`` (the save point's claim check).
        guard_args: their arguments.
    """
    stmts: list[tuple[str, list[Any]]] = []
    for start in range(0, len(rows), EVENTS_PER_INSERT):
        chunk = rows[start : start + EVENTS_PER_INSERT]
        values: list[Any] = []
        for row in chunk:
            values.extend(row)
        marks = ", ".join(["(?, ?, ?, ?)"] * len(chunk))
        stmts.append(
            (
                "INSERT INTO conversation_events (session_id, seq, turn, kind, payload, "
                f"created_at) SELECT s.id, s.last_seq + v.column1, {turn_sql}, v.column3, "
                f"v.column4, ? FROM (VALUES {marks}) AS v JOIN sessions s ON s.id = ? "
                f"WHERE 1{guard} ORDER BY v.column1",
                [*turn_args, created_at, *values, session_id, *guard_args],
            )
        )
    return stmts
