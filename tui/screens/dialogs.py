"""Modal dialogs, each returning a typed value with ``dismiss``."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from tui.widgets.inputs import StillInput

__all__ = ["ConfirmDialog", "RenameDialog"]


class ConfirmDialog(ModalScreen[bool]):
    """Ask before doing something that cannot be undone; ``True`` means go ahead.

    Cancel has the focus, so a stray Enter never deletes anything.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "answer(False)", "Cancel"),
        Binding("y", "answer(True)", "Confirm"),
        Binding("left,right", "app.focus_next", "Switch", show=False),
    ]

    def __init__(self, title: str, message: str, *, confirm: str = "Delete") -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.message = message
        self.confirm_label = confirm

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, id="dialog-title")
            yield Static(self.message, id="dialog-message", markup=False)
            with Horizontal(id="dialog-buttons"):
                yield Button("Cancel", id="cancel", variant="default")
                yield Button(f"{self.confirm_label} (y)", id="confirm", variant="error")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(False)

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class RenameDialog(ModalScreen[str | None]):
    """Ask for a new title; ``None`` means cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: str) -> None:
        super().__init__(classes="dialog")
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Rename session", id="dialog-title")
            yield StillInput(
                value=self.current, placeholder="A title you will recognise", id="title"
            )
            yield Static("Enter to save · Esc to cancel", id="dialog-help")

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    @on(Input.Submitted, "#title")
    def _submit(self, event: Input.Submitted) -> None:
        title = " ".join(event.value.split())
        if not title:
            self.notify("A title cannot be empty.", severity="warning")
            return
        self.dismiss(title)

    def action_cancel(self) -> None:
        self.dismiss(None)
