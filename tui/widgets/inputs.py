"""Text inputs: a single-line input and the session's prompt, both still when headless."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input, TextArea

__all__ = ["PromptArea", "StillInput"]


class StillInput(Input):
    """An :class:`~textual.widgets.Input` whose cursor does not blink when headless, and
    whose own key bindings run in the order the keys were typed.

    A blinking cursor would make every snapshot depend on when it was taken.

    Textual runs a widget's (non-priority) bindings only once the key has bubbled from
    the widget up to the app, while a printable key is inserted as it reaches the
    widget. Keys typed fast arrive together: ``ctrl+u`` then ``abc`` cleared the line
    *after* ``abc`` was inserted, a Backspace between letters deleted the wrong one, and
    Enter submitted before the last letters. Here such a key runs its action at once and
    goes no further (the app's search for a binding would find this same one first); one
    whose action does not apply goes on up as before.
    """

    def on_mount(self) -> None:
        if self.app.is_headless:
            self.cursor_blink = False

    async def _on_key(self, event: events.Key) -> None:
        if event.is_printable:
            return  # inserted by Input's own handler, in order
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if not binding.priority and await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()
                return


class PromptArea(TextArea):
    """The session's prompt: Enter sends, a paste keeps every line it holds.

    A single-line :class:`~textual.widgets.Input` keeps only the first line of a
    bracketed paste; this keeps the pasted text exactly (newlines included) and grows
    to a few lines to show it, then scrolls. ``ctrl+j`` starts a new line by hand in
    every terminal (it sends a line feed, Enter a carriage return); ``alt+enter`` and
    ``shift+enter`` do too where the terminal reports them.

    Up on the first row recalls earlier messages (:meth:`set_history`, newest first),
    Down on the last row goes forward again and finally back to the draft being typed.
    """

    DEFAULT_CSS = """
    PromptArea { height: auto; min-height: 3; max-height: 10; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+j,alt+enter,shift+enter",
            "newline",
            "New line",
            key_display="ctrl+j",
            tooltip="Start a new line in the message (Enter sends it)",
        ),
    ]

    #: Earlier messages, newest first (``history`` is TextArea's undo history).
    earlier: list[str]
    #: Which history entry is shown (-1: the draft).
    history_index: int = -1
    _draft: str = ""

    class Submitted(Message):
        """Enter was pressed: ``value`` is the whole text, exactly as typed or pasted."""

        def __init__(self, prompt: PromptArea, value: str) -> None:
            super().__init__()
            self.prompt = prompt
            self.value = value

        @property
        def control(self) -> PromptArea:
            return self.prompt

    def __init__(
        self,
        *,
        placeholder: str = "",
        id: str | None = None,  # noqa: A002
        disabled: bool = False,
    ) -> None:
        super().__init__(
            "",
            id=id,
            disabled=disabled,
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            highlight_cursor_line=False,
            placeholder=placeholder,
        )
        self.earlier = []

    def on_mount(self) -> None:
        if self.app.is_headless:
            self.cursor_blink = False

    # -- input history -----------------------------------------------------------------

    def set_history(self, entries: list[str]) -> None:
        """Earlier messages to recall with Up, newest first (keeps entries added since)."""
        added = self.earlier
        self.earlier = [*added, *(e for e in entries if e not in added)]
        self.history_index = -1

    def remember(self, text: str) -> None:
        """Put a sent message at the front of the history (once)."""
        entries = [e for e in self.earlier if e != text]
        self.earlier = [text, *entries]
        self.history_index = -1
        self.border_subtitle = None

    def _show_entry(self, index: int) -> None:
        if self.history_index == -1:
            self._draft = self.text
        self.load_text(self._draft if index == -1 else self.earlier[index])
        self.move_cursor(self.document.end)
        self.history_index = index
        self.border_subtitle = (
            None if index == -1 else f"earlier message {index + 1} of {len(self.earlier)} · ↑↓"
        )

    def _visual_row(self) -> int:
        """The wrapped row the cursor is on (0: the prompt's first row)."""
        return self.wrapped_document.location_to_offset(self.cursor_location).y

    def action_cursor_up(self, select: bool = False) -> None:
        """Up: the previous row, or from the first row the previous message."""
        entries = self.earlier
        if not select and self._visual_row() == 0 and self.history_index + 1 < len(entries):
            self._show_entry(self.history_index + 1)
            return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        """Down: the next row, or from the last row a newer message (then the draft)."""
        last_row = self.wrapped_document.height - 1
        if not select and self.history_index >= 0 and self._visual_row() >= last_row:
            self._show_entry(self.history_index - 1)
            return
        super().action_cursor_down(select)

    @property
    def value(self) -> str:
        """The prompt's text."""
        return self.text

    @value.setter
    def value(self, text: str) -> None:
        self.load_text(text)
        self.move_cursor(self.document.end)
        self.history_index = -1
        self.border_subtitle = None

    def clear(self) -> None:  # type: ignore[override]
        """Empty the prompt (and stop browsing the history)."""
        self.load_text("")
        self.history_index = -1
        self.border_subtitle = None

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter" and not self.read_only:
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted(self, self.text))
            return
        await super()._on_key(event)

    def action_newline(self) -> None:
        if not self.read_only:
            self.insert("\n")
