"""Tool calls and their results: one line each until expanded.

A tool event is collapsed to a single line (name, arguments or result cut to the width)
and focusable; Enter, Space or a click expands it to the pretty-printed JSON, which is
only built when shown and cut to a size a terminal can hold.
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.highlighter import JSONHighlighter
from rich.padding import Padding
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.reactive import reactive

from tui.safe_text import safe_line, safe_text
from tui.widgets.event_text import one_line, pretty_json
from tui.widgets.events import EventView

__all__ = ["ToolCallView", "ToolResultView", "ToolView"]

_JSON = JSONHighlighter()


class ToolView(EventView, can_focus=True):
    """A collapsible tool event: one line until expanded (Enter, Space or a click)."""

    DEFAULT_CSS = """
    ToolView {
        padding: 0 1;
        margin: 0 1 0 3;
        color: $text-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    ToolView:focus { background: $boost; color: $text; }
    ToolView:hover { background: $boost; }
    ToolView.-expanded { color: $text; margin: 0 1 1 3; text-wrap: wrap; }
    ToolView.-failed { color: $error; }
    ToolView > .event--heading { color: $accent; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space", "expand", "Expand", tooltip="Show or hide the full JSON"),
    ]

    expanded: reactive[bool] = reactive(False, layout=True)

    def summary(self) -> Text:
        """The collapsed line."""
        raise NotImplementedError

    def body(self) -> Any:
        """The value shown when expanded."""
        raise NotImplementedError

    def render(self) -> RenderableType:
        marker = "▾ " if self.expanded else "▸ "
        line = Text(marker) + self.summary()
        line.no_wrap = True
        line.overflow = "ellipsis"
        if not self.expanded:
            return line
        text, note = pretty_json(self.body())
        parts: list[RenderableType] = [line, Padding(_JSON(Text(safe_text(text))), (0, 0, 0, 2))]
        if note:
            parts.append(Text(f"… {note} · o shows everything", style="dim italic"))
        return Group(*parts)

    def full_text(self) -> str | None:
        if pretty_json(self.body())[1] is None:
            return None  # the expanded view already shows all of it
        return pretty_json(self.body(), max_lines=sys.maxsize, max_chars=sys.maxsize)[0]

    def action_expand(self) -> None:
        self.expanded = not self.expanded

    def on_click(self, event: Click) -> None:
        event.stop()
        self.focus()
        self.action_expand()

    def watch_expanded(self, expanded: bool) -> None:
        self.set_class(expanded, "-expanded")


class ToolCallView(ToolView):
    """The model called a tool."""

    running: reactive[bool] = reactive(False)

    def __init__(
        self,
        name: str,
        arguments: Any,
        *,
        call_id: str | None,
        seq: int | None,
        turn: int,
        when: str = "",
        running: bool = False,
    ) -> None:
        super().__init__(seq=seq, turn=turn, when=when, classes="tool-call")
        self.tool = name
        self.arguments = arguments
        self.call_id = call_id
        self.set_reactive(ToolCallView.running, running)

    def summary(self) -> Text:
        text = Text.assemble(("⚙ ", "bold"), self.heading(self.tool), " ")
        text.append(safe_line(one_line(self.arguments, 200)))
        if self.running:
            text.append("  running…", style="italic")
        return text

    def body(self) -> Any:
        return self.arguments


class ToolResultView(ToolView):
    """What a tool returned (or how it failed)."""

    def __init__(
        self,
        name: str,
        result: Any,
        error: str | None,
        *,
        call_id: str | None,
        seq: int | None,
        turn: int,
        when: str = "",
    ) -> None:
        super().__init__(seq=seq, turn=turn, when=when, classes="tool-result")
        self.tool = name
        self.result = result
        self.error = error
        self.call_id = call_id
        if error:
            self.add_class("-failed")

    def summary(self) -> Text:
        text = Text.assemble(("↳ ", "bold"), self.heading(self.tool), " ")
        if self.error:
            text.append(f"✗ {safe_line(one_line(self.error, 200))}")
        else:
            text.append("✓ ")
            text.append(safe_line(one_line(self.result, 200)))
        return text

    def body(self) -> Any:
        if self.error and self.result is None:
            return self.error
        return self.result
