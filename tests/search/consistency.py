"""An ``integrity-check``-style comparison of the search index with the events.

Every event must have exactly one index row holding exactly the text the runtime's
reader gives for it (folded), every titled session exactly one title row, and nothing
else may be in the index.
"""

from __future__ import annotations

from typing import Any

from memory import EphemeralMemory, MemoryBackend
from memory.search_query import fold
from memory.sql.search_statements import TextOf, index_values
from memory.sql.store import LibsqlMemory
from runtime.payloads import searchable_text


async def _rows(memory: LibsqlMemory, sql: str) -> list[tuple[Any, ...]]:
    result = await memory.driver.execute(sql)
    return [tuple(row) for row in result.rows]


async def index_mismatches(memory: MemoryBackend, text_of: TextOf = searchable_text) -> list[str]:
    """What differs between the index and the events (``[]`` when exact).

    Args:
        text_of: the reader the writers indexed with.
    """
    if isinstance(memory, EphemeralMemory):
        db = memory._search._db  # the mirror is private; this check is its only reader
        events = {
            (sid, seq): (kind, payload)
            for session in memory._sessions.values()
            for sid, seq, kind, payload in (
                (e.session_id, e.seq, e.kind, e.payload_json) for e in session.events
            )
        }
        rows = db.execute(
            "SELECT e.session_id, e.seq, f.mine, f.reply, f.tool FROM search_events f "
            "LEFT JOIN conversation_events e ON e.id = f.rowid"
        ).fetchall()
        titles = db.execute("SELECT session_id, title FROM search_titles").fetchall()
        wanted_titles = {
            (s.info.id, fold(s.info.title))
            for s in memory._sessions.values()
            if s.info.title is not None
        }
    else:
        assert isinstance(memory, LibsqlMemory)
        stored = await _rows(
            memory, "SELECT session_id, seq, kind, payload FROM conversation_events"
        )
        events = {(sid, seq): (kind, payload) for sid, seq, kind, payload in stored}
        rows = await _rows(
            memory,
            "SELECT e.session_id, e.seq, f.mine, f.reply, f.tool FROM search_events f "
            "LEFT JOIN conversation_events e ON e.id = f.rowid",
        )
        titles = await _rows(memory, "SELECT session_id, title FROM search_titles")
        sessions = await _rows(memory, "SELECT id, title FROM sessions WHERE title IS NOT NULL")
        orphans = await _rows(
            memory,
            "SELECT session_id FROM search_title_keys "
            "WHERE session_id NOT IN (SELECT id FROM sessions)",
        )
        if orphans:
            return [f"title keys of sessions that are gone: {orphans}"]
        wanted_titles = {(sid, fold(title)) for sid, title in sessions}
    problems: list[str] = []
    seen: set[tuple[str, int]] = set()
    for sid, seq, *values in rows:
        key = (sid, seq)
        if sid is None:
            problems.append(f"index row without an event: {values!r}")
            continue
        if key in seen:
            problems.append(f"event {key} indexed twice")
        seen.add(key)
        kind, payload = events[key]
        if tuple(values) != index_values(text_of, kind, payload):
            problems.append(f"event {key} indexed with other text")
    problems += [f"event {key} not indexed" for key in sorted(set(events) - seen)]
    if sorted(titles) != sorted(wanted_titles):
        problems.append(f"titles differ: {sorted(titles)} != {sorted(wanted_titles)}")
    return problems
