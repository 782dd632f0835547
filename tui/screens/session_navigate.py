"""Jumping through a long session: start, end, turn N, next / previous question.

A mixin for the session screen. Each jump asks the runtime for the target's ``seq`` (one
indexed lookup: :meth:`runtime.sessions.Sessions.turn_start`,
:meth:`~runtime.sessions.Sessions.user_message`) and for a window of events around it,
then replaces the event log's window with it; the log pages older and newer from there
as it always does. Nothing in between is read, so turn 25,000 of a 50,000-event session
is as near as turn 1, and the log never holds more than its bounded window.

The screen provides ``services``, ``session_id``, ``info``, ``query_one``, ``notify``,
``app``, ``post_message`` and ``action_newest``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.message import Message

from tui.widgets.event_log import EventLog
from tui.widgets.superseded import OLD_ATTEMPT, SHOWING_OLD_ATTEMPTS

if TYPE_CHECKING:
    from runtime.sessions import Sessions

__all__ = ["SessionNavigation"]


class SessionNavigation:
    """Start / end / turn N / next and previous user message, without walking."""

    #: Events read on each side of where a jump lands.
    LANDING_AROUND: ClassVar[int] = 20

    NAV_BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+g",
            "go_to_turn",
            "Go to turn",
            tooltip="Go to turn N of this session",
        ),
        Binding(
            "g,ctrl+home",
            "go_start",
            "Start",
            show=False,
            tooltip="Go to the start of the session (Home in the history)",
        ),
        Binding(
            "G,shift+g",
            "go_end",
            "End",
            show=False,
            tooltip="Go to the end of the session (End in the history)",
        ),
        Binding(
            "left_square_bracket,alt+up",
            "previous_question",
            "Previous question",
            show=False,
            tooltip="Go to the previous user message ([ or alt+up)",
        ),
        Binding(
            "right_square_bracket,alt+down",
            "next_question",
            "Next question",
            show=False,
            tooltip="Go to the next user message (] or alt+down)",
        ),
    ]

    class Landed(Message):
        """A jump's target is on screen (tests and benchmarks wait for it)."""

        def __init__(self, session_id: str, seq: int | None) -> None:
            super().__init__()
            self.session_id = session_id
            #: Where the reader landed (``None``: there was nothing to go to).
            self.seq = seq

    def _facade(self) -> Sessions:
        screen: Any = self
        sessions: Sessions = screen.services.sessions
        return sessions

    # -- actions -------------------------------------------------------------------------

    def action_go_start(self) -> None:
        """Home: the first event of the session, read directly."""
        self._jump("start")

    def action_go_end(self) -> None:
        """End: the newest event (the window is read back if it let go of it)."""
        screen: Any = self
        screen.action_newest()

    def action_next_question(self) -> None:
        """] / alt+down: the next user message after where the reader is."""
        self._jump("next")

    def action_previous_question(self) -> None:
        """[ / alt+up: the user message before where the reader is."""
        self._jump("previous")

    def action_go_to_turn(self) -> None:
        """ctrl+g: ask for a turn number and go there."""
        from tui.screens.go_to import GoToTurnDialog

        screen: Any = self
        info = screen.info
        if screen.session_id is None or info is None or not info.turns:
            screen.notify("This session has no turns yet.", severity="information")
            return

        def chosen(turn: int | None) -> None:
            if turn is not None:
                self._jump("turn", turn)

        screen.app.push_screen(GoToTurnDialog(info.turns), chosen)

    # -- the jump ------------------------------------------------------------------------

    def _reference_seq(self) -> int | None:
        """Where the reader is: the landed (highlighted) event if it is in view, else
        the first event visible at the top of the history."""
        screen: Any = self
        log = screen.query_one(EventLog)
        views = [v for v in log.views if v.seq is not None]
        top, bottom = log.scroll_y, log.scroll_y + log.scrollable_content_region.height
        visible = [
            v for v in views if v.virtual_region.bottom > top and v.virtual_region.y < bottom
        ]
        for view in visible:
            if view.has_class("-search-hit"):
                return int(view.seq)
        return int(visible[0].seq) if visible else None

    def _jump(self, where: str, turn: int = 0) -> None:
        screen: Any = self
        if screen.session_id is None:
            return
        self.jump(screen.session_id, where, turn, self._reference_seq())

    @work(exclusive=True, group="window", exit_on_error=False)
    async def jump(self, session_id: str, where: str, turn: int, reference: int | None) -> None:
        """Find the target with one lookup, then show the window around it."""
        from runtime.navigation import first_seq

        screen: Any = self
        sessions = self._facade()
        log = screen.query_one(EventLog)
        if where == "start":
            seq = await first_seq(sessions.memory, session_id)
        elif where == "turn":
            seq = await sessions.turn_start(session_id, turn)
        elif reference is None:
            seq = None
        elif where == "next":
            seq = await sessions.user_message(session_id, after=reference)
        else:
            seq = await sessions.user_message(session_id, before=reference)
        if seq is None:
            what = {"next": "No later question.", "previous": "No earlier question."}
            screen.notify(what.get(where, "Nothing to go to."), severity="information")
            screen.post_message(self.Landed(session_id, None))
            return
        if log.highlight(seq) is None:
            log.hold_paging()  # the window is about to be replaced
            try:
                window = await sessions.window_at(session_id, seq, self.LANDING_AROUND)
            except Exception:
                log.request_failed()
                raise
            await log.show_around(
                window.events,
                focus=seq,
                has_older=window.has_older,
                at_end=window.at_end,
                now=screen.services.now(),
            )
        # The reader is reading now: Home, End, [ and ] act on the history.
        log.focus(scroll_visible=False)
        landed = next((v for v in log.views if v.seq == seq), None)
        if (
            landed is not None
            and landed.has_class(OLD_ATTEMPT)
            and not log.has_class(SHOWING_OLD_ATTEMPTS)
        ):
            # Turn numbers count every attempt: this one was replaced and is hidden.
            target = f"Turn {turn}" if where == "turn" else "That question"
            screen.notify(
                f"{target} is an earlier attempt, replaced by a regenerated answer or an "
                "edited question. F4 shows earlier attempts.",
                severity="information",
            )
        screen.post_message(self.Landed(session_id, seq))
