"""What a search returns: ranked hits, and how far the index backfill is.

Kept apart from the SQL (:mod:`memory.sql.search_statements`) so the protocol and the UI can name
them without the statements.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["COMPLETE", "SETTLE_BATCH", "SearchHit", "SearchProgress", "TextOf"]

#: Waiting substring rows moved into the index per transaction
#: (:meth:`memory.protocol.EventSearch.settle_search`): a few ms of writing (about 30 us
#: an event), so a save point queued behind a move hardly waits.
SETTLE_BATCH = 200

#: ``(kind, payload) -> text`` a person may search for.
TextOf = Callable[[str, Mapping[str, Any]], str]


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One ranked search result: an event, or a session title (``kind == "title"``).

    Attributes:
        session_id: the session.
        seq: the event's position (0 for a title hit).
        kind: the event kind, or ``"title"``.
        title: the session's title (``None`` when it has none).
        snippet: a one-line excerpt of the matched text (folded: no diacritics).
        marks: ``(start, end)`` offsets of the matches in ``snippet``.
        at: when the event was saved (the session's last activity for a title).
        score: the ranking score, lower is better (bm25 weighted by column).
    """

    session_id: str
    seq: int
    kind: str
    title: str | None
    snippet: str
    marks: tuple[tuple[int, int], ...]
    at: str
    score: float

    def marked(self, open_mark: str = "«", close_mark: str = "»") -> str:
        """The snippet with each match wrapped in the given marks."""
        out: list[str] = []
        last = 0
        for start, end in self.marks:
            out += [self.snippet[last:start], open_mark, self.snippet[start:end], close_mark]
            last = end
        out.append(self.snippet[last:])
        return "".join(out)

    def as_dict(self) -> dict[str, Any]:
        """The hit as JSON-ready values (the CLI's ``--json`` objects)."""
        return {
            "session_id": self.session_id,
            "seq": self.seq,
            "kind": self.kind,
            "title": self.title,
            "snippet": self.marked(),
            "text": self.snippet,
            "marks": [list(mark) for mark in self.marks],
            "at": self.at,
            "score": self.score,
        }


@dataclass(frozen=True, slots=True)
class SearchProgress:
    """How far the index is from covering events saved before it existed.

    Attributes:
        pending_events: older events not yet indexed.
        titles_pending: older session titles not yet indexed.
        indexed_upto: the backfill has indexed every event with an id up to this.
        backfill_until: events with ids up to this predate the index.
        waiting_rows: the newest saved events whose text waits to be moved into the
            substring index (``settle_search``); searches scan it meanwhile.
    """

    pending_events: int
    titles_pending: bool
    indexed_upto: int
    backfill_until: int
    waiting_rows: int = 0

    @property
    def complete(self) -> bool:
        """Everything is indexed."""
        return self.pending_events == 0 and not self.titles_pending

    def as_dict(self) -> dict[str, Any]:
        """For ``db status --json``."""
        return {
            "complete": self.complete,
            "pending_events": self.pending_events,
            "titles_pending": self.titles_pending,
            "indexed_upto": self.indexed_upto,
            "backfill_until": self.backfill_until,
            "waiting_rows": self.waiting_rows,
        }


COMPLETE = SearchProgress(0, False, 0, 0)
