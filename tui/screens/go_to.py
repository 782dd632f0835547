"""The "go to turn" dialog of the session screen."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tui.format import plural
from tui.widgets.inputs import StillInput

__all__ = ["GoToTurnDialog"]


class GoToTurnDialog(ModalScreen[int | None]):
    """Ask for a turn number between 1 and ``turns``; ``None`` means cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, turns: int) -> None:
        super().__init__(classes="dialog")
        self.turns = turns

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Go to turn", id="dialog-title")
            yield StillInput(placeholder=f"1 to {self.turns:,}", type="integer", id="turn-number")
            yield Static(
                f"This session has {plural(self.turns, 'turn')}. "
                "Enter to go · Esc to cancel\n"
                "Home / End: first and last turn · [ and ]: previous / next question",
                id="dialog-help",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one("#turn-number", Input).focus()

    @on(Input.Submitted, "#turn-number")
    def _submit(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        number = int(text) if text.lstrip("-").isdigit() else None
        if number is None or not 1 <= number <= max(1, self.turns):
            self.notify(
                f"Type a turn number from 1 to {self.turns:,}.", severity="warning", markup=False
            )
            return
        self.dismiss(number)

    def action_cancel(self) -> None:
        self.dismiss(None)
