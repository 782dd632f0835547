"""Moving through a long session: where to land, and the window of events around it.

A reader jumps to the start, to turn N or to the next user message of a 50,000-event
session without the events in between being read: one indexed lookup finds the target's
``seq`` (:class:`memory.navigation.EventNavigator`), then two keyset reads fetch a window
around it. The front end shows that window and pages older and newer from there.
"""

from __future__ import annotations

from dataclasses import dataclass

from memory import Event, MemoryBackend

__all__ = ["Window", "first_seq", "window_at"]


@dataclass(frozen=True, slots=True)
class Window:
    """Events around a target, oldest first.

    Attributes:
        events: the window (the target and up to ``size`` events on either side).
        focus: ``seq`` of the target.
        has_older: events exist before the window.
        at_end: the window reaches the newest event.
    """

    events: list[Event]
    focus: int
    has_older: bool
    at_end: bool


async def first_seq(memory: MemoryBackend, session_id: str) -> int | None:
    """``seq`` of a session's first event (``None`` for an empty session).

    Raises:
        NotFoundError: the session does not exist.
    """
    events = await memory.recall(session_id, limit=1)
    return events[0].seq if events else None


async def window_at(memory: MemoryBackend, session_id: str, seq: int, size: int) -> Window:
    """The event ``seq`` with up to ``size`` events before it and ``size`` after it.

    Raises:
        NotFoundError: the session does not exist.
    """
    before = await memory.recall(session_id, before=seq, limit=size, newest=True)
    after = await memory.recall(session_id, after=seq - 1, limit=size + 1)
    events = [*before, *after]
    return Window(
        events=events,
        focus=seq,
        has_older=bool(events) and events[0].seq > 1,
        at_end=len(after) < size + 1,
    )
