"""Find-in-session's read of long events (see :mod:`memory.session_text`) in memory."""

from __future__ import annotations

from typing import Any

__all__ = ["EphemeralSessionText"]


class EphemeralSessionText:
    """:class:`memory.session_text.SessionTextScan` over the in-process sessions.

    Every long event is a candidate (the caller checks the text); the events are
    already in memory, so there is nothing to narrow ahead.
    """

    _sessions: dict[str, Any]

    async def session_text_candidates(
        self,
        session_id: str,
        terms: tuple[str, ...],
        *,
        after_seq: int,
        min_chars: int,
        limit: int,
    ) -> list[tuple[int, str, str]]:
        """See :meth:`memory.session_text.SessionTextScan.session_text_candidates`."""
        del terms
        session = self._sessions.get(session_id)
        if session is None:
            return []
        out: list[tuple[int, str, str]] = []
        for event in session.events:
            if event.seq > after_seq and len(event.payload_json) > min_chars:
                out.append((event.seq, event.kind, event.payload_json))
                if len(out) >= max(1, limit):
                    break
        return out
