"""Text inputs: a single-line input and the session's prompt, both still when headless."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input, TextArea

__all__ = ["PromptArea", "StillInput"]


class StillInput(Input):
    """An :class:`~textual.widgets.Input` whose cursor does not blink when headless.

    A blinking cursor would make every snapshot depend on when it was taken.
    """

    def on_mount(self) -> None:
        if self.app.is_headless:
            self.cursor_blink = False


class PromptArea(TextArea):
    """The session's prompt: Enter sends, a paste keeps every line it holds.

    A single-line :class:`~textual.widgets.Input` keeps only the first line of a
    bracketed paste; this keeps the pasted text exactly (newlines included) and grows
    to a few lines to show it. ``ctrl+j`` (or ``alt+enter``) starts a new line by hand.
    """

    DEFAULT_CSS = """
    PromptArea { height: auto; min-height: 3; max-height: 10; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+j,alt+enter", "newline", "New line", show=False),
    ]

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

    def on_mount(self) -> None:
        if self.app.is_headless:
            self.cursor_blink = False

    @property
    def value(self) -> str:
        """The prompt's text."""
        return self.text

    @value.setter
    def value(self, text: str) -> None:
        self.load_text(text)
        self.move_cursor(self.document.end)

    def clear(self) -> None:  # type: ignore[override]
        """Empty the prompt."""
        self.load_text("")

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
