"""The campaign's oracle: reads what is stored with plain sqlite3 / libsql-client (never
turnkeep's own code) and says what is wrong with it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "Stored",
    "file_hashes",
    "integrity",
    "read_file",
    "read_remote",
    "shape_problems",
]


@dataclass(frozen=True)
class StoredEvent:
    session_id: str
    seq: int
    turn: int
    kind: str
    payload: str

    @property
    def data(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.payload)
        return value


@dataclass
class Stored:
    """Everything in a turnkeep database, by session, events in ``seq`` order."""

    events: dict[str, list[StoredEvent]]
    counters: dict[str, tuple[int, int]]  # session -> (last_seq, event_count)

    def all_events(self) -> Iterable[StoredEvent]:
        for events in self.events.values():
            yield from events


_EVENTS_SQL = (
    "SELECT session_id, seq, turn, kind, payload FROM conversation_events ORDER BY session_id, seq"
)
_COUNTERS_SQL = "SELECT id, last_seq, event_count FROM sessions"


def _build(event_rows: Sequence[Sequence[Any]], counter_rows: Sequence[Sequence[Any]]) -> Stored:
    events: dict[str, list[StoredEvent]] = defaultdict(list)
    for sid, seq, turn, kind, payload in event_rows:
        events[str(sid)].append(StoredEvent(str(sid), int(seq), int(turn), str(kind), payload))
    counters = {str(r[0]): (int(r[1]), int(r[2])) for r in counter_rows}
    return Stored(dict(events), counters)


def read_file(path: Path) -> Stored:
    """Read a database file with plain sqlite3 (recovering a WAL left by a killed process)."""
    conn = sqlite3.connect(path, timeout=30)
    try:
        return _build(conn.execute(_EVENTS_SQL).fetchall(), conn.execute(_COUNTERS_SQL).fetchall())
    finally:
        conn.close()


def integrity(path: Path) -> list[str]:
    """``PRAGMA integrity_check`` of a file, with plain sqlite3."""
    conn = sqlite3.connect(path, timeout=30)
    try:
        return [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
    finally:
        conn.close()


async def read_remote(url: str, token: str) -> Stored:
    """Read a sqld database with a plain libsql-client."""
    import libsql_client

    async with libsql_client.create_client(url, auth_token=token) as client:
        events = await client.execute(_EVENTS_SQL)
        counters = await client.execute(_COUNTERS_SQL)
        return _build([r.astuple() for r in events.rows], [r.astuple() for r in counters.rows])


def shape_problems(stored: Stored) -> list[str]:
    """What is wrong with the shape of every session.

    Checks: ``seq`` is contiguous from 1; the counters match the events; every
    ``tool_call`` is followed, in the same turn, by exactly one ``tool_result`` with its
    call id, and no result comes without its call.
    """
    problems: list[str] = []
    for sid, events in stored.events.items():
        seqs = [e.seq for e in events]
        if seqs != list(range(1, len(seqs) + 1)):
            problems.append(f"session {sid}: seq not contiguous from 1 ({_gaps(seqs)})")
        last_seq, count = stored.counters.get(sid, (-1, -1))
        if (last_seq, count) != (len(seqs), len(seqs)):
            problems.append(
                f"session {sid}: counters last_seq={last_seq} events={count} "
                f"but {len(seqs)} events are stored"
            )
        open_calls: dict[str, int] = {}
        for event in events:
            if event.kind not in ("tool_call", "tool_result"):
                continue
            try:
                call_id = str(event.data.get("call_id"))
            except ValueError:
                problems.append(f"session {sid} seq {event.seq}: payload is not JSON")
                continue
            if event.kind == "tool_call":
                open_calls[call_id] = event.turn
            elif open_calls.pop(call_id, None) is None:
                problems.append(f"session {sid} seq {event.seq}: a tool result without its call")
        for call_id in open_calls:
            problems.append(f"session {sid}: tool call {call_id} has no result")
    return problems


def _gaps(seqs: list[int]) -> str:
    if not seqs:
        return "empty"
    dupes = len(seqs) - len(set(seqs))
    missing = sorted(set(range(1, max(seqs) + 1)) - set(seqs))
    return f"{dupes} duplicated, missing {missing[:5]}{'...' if len(missing) > 5 else ''}"


def file_hashes(directory: Path) -> dict[str, str]:
    """SHA-256 of every file under ``directory`` (relative names), to prove nothing changed."""
    hashes: dict[str, str] = {}
    for root, _dirs, files in os.walk(directory):
        for name in files:
            path = Path(root) / name
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError as exc:
                digest = f"unreadable: {exc.strerror}"
            hashes[str(path.relative_to(directory))] = digest
    return hashes
