"""The prompt's input history: the person's own recent questions, across sessions.

Nothing new is stored for it: the history is read back from the ``user`` events the
database already holds, so it survives restarts, works the same on a remote database,
and forgets what a deleted session held. The read is bounded whatever the database's
size: the most recently active sessions (the ``sessions_recent`` index) and, in each,
its newest events (the ``(session_id, seq)`` key), newest first.
"""

from __future__ import annotations

from typing import Final

from memory import MemoryBackend
from runtime import payloads

__all__ = ["HISTORY_SESSIONS", "HISTORY_SIZE", "HISTORY_TAIL", "recent_prompts"]

#: Most entries the history holds.
HISTORY_SIZE: Final = 200
#: Sessions read, most recently active first.
HISTORY_SESSIONS: Final = 25
#: Newest events read in each session.
HISTORY_TAIL: Final = 200


async def recent_prompts(
    memory: MemoryBackend,
    *,
    limit: int = HISTORY_SIZE,
    sessions: int = HISTORY_SESSIONS,
    tail: int = HISTORY_TAIL,
) -> list[str]:
    """The person's recent messages, newest first, each text once (its newest use).

    Args:
        memory: the backend.
        limit: most entries returned.
        sessions: how many of the most recently active sessions are read.
        tail: how many of each session's newest events are read.

    Raises:
        MemoryLayerError: the database failed.
    """
    page = await memory.list_sessions(limit=sessions)
    found: list[tuple[str, int, str]] = []
    for info in page.sessions:
        if not info.last_seq:
            continue
        events = await memory.recall(info.id, limit=tail, newest=True)
        for event in events:
            if event.kind != "user":
                continue
            try:
                text = payloads.message_text(event.payload)
            except Exception:  # an undecodable row is left out of the history, not fatal
                continue
            if text.strip():
                found.append((event.created_at, event.seq, text))
    found.sort(key=lambda item: (item[0], item[1]), reverse=True)
    seen: set[str] = set()
    history: list[str] = []
    for _created, _seq, text in found:
        if text not in seen:
            seen.add(text)
            history.append(text)
            if len(history) >= limit:
                break
    return history
