"""The whole text of one long event, read-only, in a pager.

The log shows a bounded prefix of a long message or tool output; this screen shows all
of it. The text is neutralised and cut into lines off the UI loop (a thread), and shown
in a :class:`~textual.widgets.Log`, which only renders the lines in view: a 5 MB answer
opens in well under a second and scrolls freely. It is never parsed as Markdown.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Log

from tui.safe_text import safe_line, safe_text

__all__ = ["FullTextScreen", "pager_lines"]


def pager_lines(text: str, width: int) -> list[str]:
    """``text`` neutralised and hard-wrapped to ``width`` columns (long lines sliced)."""
    width = max(20, width)
    lines: list[str] = []
    for line in safe_text(text).expandtabs(4).split("\n"):
        if len(line) <= width:
            lines.append(line)
        else:
            lines.extend(line[i : i + width] for i in range(0, len(line), width))
    return lines


class FullTextScreen(ModalScreen[None]):
    """Everything an event holds; Esc or q closes it.

    Args:
        title: what the text is ("Assistant · turn 3").
        text: the full, untrusted text.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close"),
        Binding("home", "top", "Top", show=False),
        Binding("end", "bottom", "End", show=False),
    ]

    DEFAULT_CSS = """
    FullTextScreen { align: center middle; }
    FullTextScreen > Vertical {
        width: 100%; height: 100%; border: round $primary; background: $surface;
        padding: 0 1;
    }
    FullTextScreen #full-text-title { text-style: bold; color: $primary; height: 1; }
    FullTextScreen Log { height: 1fr; }
    """

    def __init__(self, title: str, text: str) -> None:
        super().__init__(classes="full-text")
        self.title_text = title
        self.text = text
        #: How many lines are shown once loaded (``None`` while they are prepared).
        self.lines: list[str] | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                f"{safe_line(self.title_text)} · {len(self.text):,} characters · Esc closes",
                id="full-text-title",
                markup=False,
            )
            yield Log(id="full-text", highlight=False, auto_scroll=False)

    def on_mount(self) -> None:
        log = self.query_one(Log)
        log.loading = True
        self.prepare(max(20, self.app.size.width - 6))

    @work(exclusive=True, exit_on_error=False)
    async def prepare(self, width: int) -> None:
        lines = await asyncio.to_thread(pager_lines, self.text, width)
        log = self.query_one(Log)
        log.write_lines(lines)
        log.loading = False
        self.lines = lines
        log.focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_top(self) -> None:
        self.query_one(Log).scroll_home(animate=False)

    def action_bottom(self) -> None:
        self.query_one(Log).scroll_end(animate=False)
