"""Regenerate, edit and earlier attempts on the session screen (a mixin).

ctrl+n asks the last question again; ctrl+e puts the last question in the prompt,
and Enter sends the edited text (Esc stops editing). Either way the earlier attempt
stays stored: the new turn opens with a ``superseded`` marker (see
:mod:`runtime.attempts`), the log hides the attempt behind that marker, and f4 (or
Enter on the marker) shows every earlier attempt dimmed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.binding import Binding, BindingType

from runtime import payloads
from runtime.errors import NothingToRetryError
from tui.safe_text import safe_line
from tui.widgets.event_log import EventLog
from tui.widgets.events import EventView
from tui.widgets.inputs import PromptArea
from tui.widgets.superseded import SupersededView

if TYPE_CHECKING:
    from runtime.conversation import Conversation

__all__ = ["SessionEdit"]

_EDITING = "Editing your last question · Enter resends it · Esc stops editing"


class SessionEdit:
    """Regenerate / edit last / earlier attempts for the session screen.

    The screen provides ``conversation``, ``running``, ``run_turn``, ``query_one``,
    ``notify`` and ``refresh_bindings``; it lists :attr:`EDIT_BINDINGS` first among its
    bindings (so Esc stops an edit before it goes back) and asks
    :meth:`check_edit_action` about :attr:`EDIT_ACTIONS`.
    """

    EDIT_BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "cancel_edit",
            "Stop editing",
            tooltip="Stop editing the last question (nothing is sent)",
        ),
        Binding(
            "ctrl+n",
            "regenerate",
            "Regenerate",
            tooltip="Regenerate the last answer (the earlier answer is kept)",
        ),
        Binding(
            "ctrl+e",
            "edit_last",
            "Edit last",
            priority=True,  # over the prompt's own ctrl+e (line end; End still does that)
            tooltip="Edit the last question and resend it (the earlier attempt is kept)",
        ),
        Binding(
            "f4",
            "toggle_old_attempts",
            "Earlier attempts",
            tooltip="Show or hide earlier attempts (regenerated answers, edited questions)",
        ),
    ]
    EDIT_ACTIONS: ClassVar[frozenset[str]] = frozenset(
        {"cancel_edit", "regenerate", "edit_last", "toggle_old_attempts"}
    )

    conversation: Conversation | None
    #: The prompt holds the last question being edited: Enter supersedes that attempt.
    editing: bool = False
    old_attempts_shown: bool = False

    def check_edit_action(self, action: str) -> bool | None:
        """Whether an edit action is available now.

        ``False`` hides it; ``None`` shows it dimmed (regenerate and edit stay in the
        footer, so people learn the keys before the first answer).
        """
        screen: Any = self
        if action == "cancel_edit":
            return self.editing
        if action == "toggle_old_attempts":
            return bool(screen.query_one(EventLog).old_attempts.count)
        conversation = self.conversation
        if conversation is None or conversation.turn == 0 or screen.running:
            return None
        return True

    def action_regenerate(self) -> None:
        """Ask the last question again; the earlier answer stays, hidden."""
        if self.editing:  # regenerating instead of sending the edit: drop the edit
            self._end_edit(clear=True)
        self.start_redo("regenerate", "")

    def start_redo(self, reason: str, text: str) -> None:
        """Run a turn that supersedes the last attempt (``reason``: regenerate or edit)."""
        screen: Any = self
        if self.conversation is None:
            return
        if screen.running:
            screen.notify("A turn is running. Esc cancels it.", severity="warning")
            return
        screen.running = True
        screen._turn_worker = screen.run_turn(text, redo=reason)

    def action_edit_last(self) -> None:
        """Put the last question in the prompt; Enter sends the edited text."""
        self.load_last_question()

    @work(exclusive=True, group="edit", exit_on_error=False)
    async def load_last_question(self) -> None:
        screen: Any = self
        conversation = self.conversation
        if conversation is None:
            return
        try:
            attempt = await conversation.last_attempt()
        except NothingToRetryError as exc:
            screen.notify(f"{exc.message} {exc.hint}", title=exc.title, markup=False)
            return
        prompt = screen.query_one("#prompt", PromptArea)
        prompt.value = attempt.question
        prompt.border_title = _EDITING
        prompt.add_class("-editing")
        self.editing = True
        prompt.focus()
        screen.refresh_bindings()

    def action_cancel_edit(self) -> None:
        """Leave the edit: the prompt empties and nothing is sent."""
        self._end_edit(clear=True)

    def take_edit(self) -> str | None:
        """``"edit"`` when the prompt's text is an edited question (the edit then ends)."""
        if not self.editing:
            return None
        self._end_edit(clear=False)
        return "edit"

    def _end_edit(self, *, clear: bool) -> None:
        screen: Any = self
        self.editing = False
        prompt = screen.query_one("#prompt", PromptArea)
        prompt.border_title = None
        prompt.remove_class("-editing")
        if clear:
            prompt.clear()
        screen.refresh_bindings()

    async def redo_opening(self, reason: str, text: str, turn: int) -> tuple[str, EventView] | None:
        """The question to send and the marker to show first, for a regenerate or edit.

        Hides the attempt being superseded. ``None`` (after saying why) when there is
        nothing to redo.
        """
        screen: Any = self
        assert self.conversation is not None
        try:
            attempt = await self.conversation.last_attempt()
        except NothingToRetryError as exc:
            screen.notify(f"{exc.message} {exc.hint}", title=exc.title, markup=False)
            return None
        question = attempt.question if reason == "regenerate" else text
        screen.query_one(EventLog).mark_old_attempt(attempt.from_seq)
        payload = payloads.superseded(
            attempt.from_seq, attempt.to_seq, reason=reason, turn=attempt.turn
        )
        screen.refresh_bindings()
        return question, SupersededView(payload, seq=None, turn=turn, when="just now")

    def action_toggle_old_attempts(self) -> None:
        """Show every earlier attempt dimmed, or hide them again."""
        screen: Any = self
        self.old_attempts_shown = not self.old_attempts_shown
        screen.query_one(EventLog).show_old_attempts(self.old_attempts_shown)
        shown = "shown dimmed" if self.old_attempts_shown else "hidden"
        screen.notify(safe_line(f"Earlier attempts {shown}."), markup=False, timeout=2)

    @work(exclusive=True, group="prompt-history", exit_on_error=False)
    async def load_prompt_history(self) -> None:
        """Give the prompt the person's recent messages across sessions (Up recalls)."""
        screen: Any = self
        if not screen.services.is_open:
            return
        entries = await screen.services.sessions.recent_prompts()
        screen.query_one("#prompt", PromptArea).set_history(entries)

    def on_superseded_view_toggled(self, _message: SupersededView.Toggled) -> None:
        self.action_toggle_old_attempts()
