"""Copy on the session screen (a mixin) and the code-block picker.

Shift+Tab from the prompt focuses the newest event (again for older ones, Tab for
newer ones). On a focused event ``y`` copies all of it (a message, a tool call's
arguments, a tool result), ``c`` a code block of it, asking which one when there are
several, and ``v`` opens it in the pager, where the mouse selects text (Textual cannot
select inside the log's rich renderables; the pager's ``Log`` can). Copying goes
through Textual's ``copy_to_clipboard`` (the terminal's OSC 52 escape); where a
terminal ignores OSC 52 the notification says what else works.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from tui.safe_text import safe_line, safe_text
from tui.widgets.copying import CodeBlock, code_blocks, copy_label, copy_text
from tui.widgets.events import EventView

__all__ = ["CodeBlockPicker", "SessionCopy", "copy_help"]


def copy_help(session_id: str | None) -> str:
    """What to do when the terminal does not take OSC 52 clipboard writes."""
    show = f"turnkeep sessions show {session_id}" if session_id else "turnkeep sessions show ID"
    return (
        "Nothing to paste? Your terminal may refuse clipboard writes (OSC 52; in tmux "
        "set -g set-clipboard on): select with shift+drag instead, or run "
        f"`{show}`."
    )


class CodeBlockPicker(ModalScreen[CodeBlock | None]):
    """Choose one of a message's code blocks; ``None`` when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, blocks: list[CodeBlock]) -> None:
        super().__init__(classes="dialog")
        self.blocks = blocks

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Copy which code block?", id="dialog-title")
            yield OptionList(
                *(
                    Option(f"{n}. {block.label}", id=str(n - 1))
                    for n, block in enumerate(self.blocks, 1)
                ),
                id="code-blocks",
            )
            yield Static("Enter copies it · Esc cancels", id="dialog-help", markup=False)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.blocks[int(event.option.id or 0)])

    def action_cancel(self) -> None:
        self.dismiss(None)


class SessionCopy:
    """``y`` / ``c`` on a focused event. The screen lists :attr:`COPY_BINDINGS` and asks
    :meth:`check_copy_action` about :attr:`COPY_ACTIONS`."""

    COPY_BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "copy_event", "Copy", tooltip="Copy the focused event to the clipboard"),
        Binding(
            "c",
            "copy_code",
            "Copy code",
            tooltip="Copy a code block of the focused message (choose when there are several)",
        ),
        Binding(
            "v",
            "select_text",
            "Select text",
            tooltip="Open the focused event in a pager where the mouse selects text "
            "(ctrl+c copies the selection)",
        ),
    ]
    COPY_ACTIONS: ClassVar[frozenset[str]] = frozenset({"copy_event", "copy_code", "select_text"})

    def check_copy_action(self, action: str) -> bool | None:
        """Copy keys work (and show) while an event has the focus."""
        screen: Any = self
        return isinstance(screen.focused, EventView)

    def _copy(self, text: str, what: str) -> None:
        screen: Any = self
        screen.app.copy_to_clipboard(text)
        size = f"{len(text):,} character" + ("" if len(text) == 1 else "s")
        # ``what`` may name a code block's language and the help the session id: both
        # come from the database, so the line is made safe as a whole.
        screen.notify(
            safe_line(f"Copied {what} ({size}). {copy_help(screen.session_id)}", 2000),
            title="Copied",
            markup=False,
        )

    def action_copy_event(self) -> None:
        """Copy everything the focused event holds."""
        view = getattr(self, "focused", None)
        if isinstance(view, EventView):
            self._copy(copy_text(view), copy_label(view))

    def action_select_text(self) -> None:
        """Show the focused event whole in the pager, where mouse selection works.

        The log draws rich renderables, which Textual cannot select; the pager's
        :class:`~textual.widgets.Log` can (drag, then ctrl+c).
        """
        view = getattr(self, "focused", None)
        if isinstance(view, EventView):
            view.post_message(EventView.FullTextRequested(view.full_title(), copy_text(view)))

    def action_copy_code(self) -> None:
        """Copy a code block of the focused message (a picker when there are several)."""
        screen: Any = self
        view = screen.focused
        if not isinstance(view, EventView):
            return
        text = getattr(view, "text", None)
        blocks = code_blocks(text) if isinstance(text, str) else []
        if not blocks:
            screen.notify(
                "This event holds no code block; y copies all of it.", markup=False, timeout=3
            )
            return
        if len(blocks) == 1:
            self._copy_block(blocks[0])
            return

        def chosen(block: CodeBlock | None) -> None:
            if block is not None:
                self._copy_block(block)

        screen.app.push_screen(CodeBlockPicker(blocks), chosen)

    def _copy_block(self, block: CodeBlock) -> None:
        self._copy(safe_text(block.text), f"the {block.language or 'code'} block")
