"""The tag editor dialog, and reading ``#tag`` words in the home filter."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from memory.errors import SerializationError
from memory.records import typed_tag
from tui.safe_text import safe_line
from tui.widgets.inputs import StillInput

__all__ = ["TagsDialog", "split_filter"]


def split_filter(text: str) -> tuple[str, list[str]]:
    """Split the home filter into title words and ``#tag`` words.

    ``"#work parser"`` filters on the tag ``work`` and ``parser`` in the title; every
    leading ``#`` goes (a tag never starts with one, see :func:`memory.records.typed_tag`).
    """
    words = text.split()
    tags = [w.lstrip("#") for w in words if w.startswith("#") and w.lstrip("#")]
    title = " ".join(w for w in words if not (w.startswith("#") and w.lstrip("#")))
    return title, tags


class TagsDialog(ModalScreen[list[str] | None]):
    """Edit a session's tags as space-separated words; ``None`` means cancelled.

    Every word is checked (:func:`memory.records.typed_tag`) before the dialog
    closes, so a bad tag is explained here and nothing is written.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, tags: tuple[str, ...]) -> None:
        super().__init__(classes="dialog")
        self.session_title = title
        self.current = tags

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Edit tags", id="dialog-title")
            yield Static(safe_line(self.session_title, 60), id="dialog-message", markup=False)
            yield StillInput(
                value=" ".join(self.current), placeholder="work parser urgent", id="tags"
            )
            yield Static(
                "Words separated by spaces · Enter to save · Esc to cancel",
                id="dialog-help",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one("#tags", Input).focus()

    @on(Input.Submitted, "#tags")
    def _submit(self, event: Input.Submitted) -> None:
        tags: list[str] = []
        for word in event.value.split():
            try:
                tag = typed_tag(word)
            except SerializationError as exc:
                self.notify(
                    safe_line(exc.message), title="Not a tag", severity="warning", markup=False
                )
                return
            if tag not in tags:
                tags.append(tag)
        self.dismiss(tags)

    def action_cancel(self) -> None:
        self.dismiss(None)
