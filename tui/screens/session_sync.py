"""Showing, live, the events other writers add to the open session.

Another process (``turnkeep ask --session ID``, a second TUI) may store turns in the
session this screen shows. While the screen is idle (no turn runs and nothing of this
conversation waits to be saved) it polls cheaply: one catalog read comparing the
session's ``last_seq`` with what it has seen; when it grew, it reads the new events and
appends those it does not show yet (this conversation's own events never twice).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.screen import Screen

from tui.widgets.event_log import EventLog

if TYPE_CHECKING:
    from memory.records import SessionInfo
    from runtime.conversation import Conversation
    from tui.services import Services

__all__ = ["OtherWriters"]


class OtherWriters(Screen[Any]):
    """The polling half of :class:`tui.screens.session.SessionScreen`."""

    #: While idle, look this often for events other writers added (seconds).
    POLL_SECONDS: ClassVar[float] = 1.5
    #: Most events read per poll (the rest come on the next one).
    PAGE: ClassVar[int] = 50

    services: Services
    session_id: str | None
    conversation: Conversation | None
    load_error: BaseException | None
    running: Any
    #: The newest ``seq`` looked at for other writers' events (``None`` until loaded).
    _seen_seq: int | None
    #: ``seq`` of this screen's own saved events (never shown twice by the poll).
    _own_seqs: set[int]
    _poll_failed: bool

    def _set_info(self, info: SessionInfo) -> None:
        raise NotImplementedError

    def start_polling(self) -> None:
        """Look for other writers' events every :attr:`POLL_SECONDS` while idle."""
        self._seen_seq = None
        self._own_seqs = set()
        self._poll_failed = False
        self.set_interval(self.POLL_SECONDS, self._poll_tick)

    def _idle(self) -> bool:
        """No turn runs and nothing of this conversation waits to be saved."""
        conversation = self.conversation
        return not self.running and (conversation is None or conversation.unsaved_save_points == 0)

    def _poll_tick(self) -> None:
        if (
            self.session_id is None
            or self._seen_seq is None
            or self.load_error is not None
            or not self._idle()
            or not self.query_one(EventLog).at_end
        ):
            return
        if any(w.group == "poll" and w.is_running for w in self.workers):
            return
        self.poll_others(self.session_id)

    @work(exclusive=True, group="poll", exit_on_error=False)
    async def poll_others(self, session_id: str) -> None:
        """Show events another writer (``turnkeep ask --session``, another TUI) stored.

        Cheap while nothing changed: one catalog read comparing ``last_seq``.
        """
        sessions = self.services.sessions
        since = self._seen_seq
        if since is None:
            return
        try:
            info = await sessions.find(session_id)
            if info is None or info.last_seq <= since:
                self._poll_failed = False
                return
            events = await sessions.newer(session_id, since, self.PAGE)
        except Exception as exc:  # told once; the next tick tries again
            if not self._poll_failed:
                self._poll_failed = True
                self.services.note_error(exc)
            return
        self._poll_failed = False
        log = self.query_one(EventLog)
        if not self._idle() or self._seen_seq != since or not log.at_end:
            return  # a turn started meanwhile: its own bookkeeping comes first
        self._seen_seq = events[-1].seq if events else info.last_seq
        shown = {v.seq for v in log.views if v.seq is not None}
        fresh = [e for e in events if e.seq not in shown and e.seq not in self._own_seqs]
        if fresh:
            await log.query(".log--placeholder").remove()
            await log.append_stored(fresh, now=self.services.now())
        self._set_info(info)
