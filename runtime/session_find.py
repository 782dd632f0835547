"""Find inside one session: every event whose text holds the query, in session order.

The index answers first (``memory.search`` limited to the session). It holds a bounded
prefix of each event's text (:data:`runtime.payloads.TOOL_TEXT_LIMIT` of tool output,
:data:`runtime.payloads.SEARCH_TEXT_LIMIT` of a message), and find in the open session
must reach whatever the session shows: the error at the end of a long build log, a
word at the end of a pasted 100 KB log. So the session's events too long for the index
are read as well, a page at a time (:data:`PAGE` events, so memory stays bounded), from
a statement that runs where the data is and keeps only events whose stored JSON may
hold the terms (:mod:`memory.sql.session_text`); their whole text is then checked, off
the event loop, with the index's rules (folded, case-insensitive substrings; excluded
terms absent).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Final

from memory.search_query import ParsedQuery, fold, parse_query
from memory.session_text import SessionTextScan
from runtime.payloads import TOOL_TEXT_LIMIT, searchable_text

if TYPE_CHECKING:
    from memory import MemoryBackend

__all__ = ["FIND_LIMIT", "PAGE", "find_in_session", "text_matches"]

#: Matches found in one session at most.
FIND_LIMIT: Final = 1000
#: Long events read per statement.
PAGE: Final = 32
#: Payloads up to this many characters are whole in the index (the index keeps at least
#: TOOL_TEXT_LIMIT characters of text; an event's text can be up to half again as long
#: as its stored JSON, tool arguments written with ", " and ": " separators).
WHOLE_IN_INDEX: Final = TOOL_TEXT_LIMIT // 2


def _required(parsed: ParsedQuery) -> tuple[str, ...]:
    """The terms an event must hold, as the index plans use them: one/two-letter
    Latin terms next to a longer term are left out (they would match nearly
    everything)."""
    if parsed.include:
        return (*parsed.include, *(t for t in parsed.short if not t.isascii()))
    return parsed.short


def text_matches(parsed: ParsedQuery, kind: str, payload_json: str) -> bool:
    """Whether the whole searchable text of an event matches ``parsed``."""
    try:
        payload = json.loads(payload_json)
    except ValueError:
        return False
    if not isinstance(payload, dict):
        return False
    text = fold(searchable_text(kind, payload, limit=None)).lower()
    required = _required(parsed)
    return (
        bool(required)
        and all(term.lower() in text for term in required)
        and not any(term.lower() in text for term in (*parsed.exclude, *parsed.short_exclude))
    )


def _confirmed(parsed: ParsedQuery, rows: list[tuple[int, str, str]]) -> list[int]:
    return [seq for seq, kind, payload in rows if text_matches(parsed, kind, payload)]


async def find_in_session(
    memory: MemoryBackend, session_id: str, query: str, *, limit: int = FIND_LIMIT
) -> list[int]:
    """The seqs of the events of ``session_id`` matching ``query``, oldest first.

    Raises:
        memory.MemoryLayerError: the database failed.
    """
    hits = await memory.search(query, session_id=session_id, limit=limit)
    found = {hit.seq for hit in hits if hit.kind != "title"}
    parsed = parse_query(query)
    required = _required(parsed)
    if not required or not isinstance(memory, SessionTextScan):
        return sorted(found)[:limit]
    after = 0
    while len(found) < limit:
        rows = await memory.session_text_candidates(
            session_id, required, after_seq=after, min_chars=WHOLE_IN_INDEX, limit=PAGE
        )
        fresh = [row for row in rows if row[0] not in found]
        if fresh:
            found.update(await asyncio.to_thread(_confirmed, parsed, fresh))
        if len(rows) < PAGE:
            break
        after = rows[-1][0]
    return sorted(found)[:limit]
