"""Reading a session's long events for find-in-session, past what the index holds.

The search index keeps a bounded prefix of each event's text (``runtime.payloads``:
tool output and arguments 4 KB, messages 32 KB), so text further on is not in the
index. Find inside an open session must still find everything the session shows, so
the runtime (``runtime.session_find``) asks the backend for the session's events
that may hold text past the index (:meth:`SessionTextScan.session_text_candidates`),
a page at a time, and checks their whole text itself.

A backend narrows the candidates as far as it can without decoding payloads; every
event whose text could hold the terms is returned (no false negatives), and the
caller confirms each one.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["SessionTextScan"]


@runtime_checkable
class SessionTextScan(Protocol):
    """The optional capability of reading a session's long events page by page."""

    async def session_text_candidates(
        self,
        session_id: str,
        terms: tuple[str, ...],
        *,
        after_seq: int,
        min_chars: int,
        limit: int,
    ) -> list[tuple[int, str, str]]:
        """Events of ``session_id`` after ``after_seq`` whose stored payload is longer
        than ``min_chars`` characters and may hold every one of ``terms``, oldest first.

        Args:
            session_id: the session (an unknown one has no events).
            terms: folded terms that must all occur (case-insensitively); an event
                whose payload holds escapes or non-ASCII text is always a candidate.
            after_seq: read events after this position (0: from the start).
            min_chars: only payloads longer than this (shorter texts are whole in the
                index).
            limit: at most this many events (a page).

        Returns:
            ``(seq, kind, payload_json)`` per event.

        Raises:
            memory.MemoryLayerError: the database failed.
        """
        ...
