"""One widget per event of a session: messages, tool calls and results, markers.

Each view renders itself from its payload in ``render`` (one widget, no children), so a
page of events costs one widget per event. Tool calls and results are in
:mod:`tui.widgets.tool_views`; :func:`tui.widgets.views.view_for` picks the view of a
stored event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from runtime import payloads
from tui.safe_text import safe_line, safe_text
from tui.widgets.event_text import (
    cut,
    plural,
)

if TYPE_CHECKING:
    from rich.markdown import Markdown


def markdown(text: str, style: str | Any = "none") -> Markdown:
    """Rich's Markdown of ``text``, imported on first use: its parser (markdown-it,
    pygments) costs the home screen's start-up ~15 ms and only answers need it."""
    from rich.markdown import Markdown

    return Markdown(text, style=style)


__all__ = [
    "AssistantMessageView",
    "EventView",
    "MarkerView",
    "UserMessageView",
]


class EventView(Widget, can_focus=True):
    """Base of every event view.

    Attributes:
        seq: the stored event's ``seq``; ``None`` for a live event not yet read back.
        turn: the turn number.
        when: when it happened, for people ("3 min ago").
    """

    DEFAULT_CSS = """
    EventView {
        height: auto;
        padding: 0 1;
        margin: 0 1 1 1;
    }
    EventView:focus { background: $boost; }
    EventView > .event--heading { text-style: bold; }
    EventView > .event--meta { color: $text-muted; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"event--heading", "event--meta"}

    def __init__(self, *, seq: int | None, turn: int, when: str = "", classes: str = "") -> None:
        super().__init__(classes=f"event {classes}".strip())
        self.seq = seq
        self.turn = turn
        self.when = when

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "show_full", "Full text", show=False),
    ]

    def full_text(self) -> str | None:
        """The whole text when the log shows only a prefix of it (else ``None``)."""
        return None

    def full_title(self) -> str:
        """What the full-text view is titled."""
        return f"{type(self).__name__.removesuffix('View')} · turn {self.turn}"

    class FullTextRequested(Message):
        """The reader asked to see everything an event holds (the screen opens a pager)."""

        def __init__(self, title: str, text: str) -> None:
            super().__init__()
            self.title = title
            self.text = text

    def action_show_full(self) -> None:
        """Ask for everything this event holds in a pager (long text shows a prefix)."""
        text = self.full_text()
        if text is not None:
            self.post_message(self.FullTextRequested(self.full_title(), text))

    def bounded_text(self, text: str) -> tuple[str, Text | None]:
        """The prefix of ``text`` the log shows, and a note when some was left out.

        Enter, ``o`` or a click on a view that shows a prefix opens the whole text.
        """
        prefix, left = cut(text)
        if not left:
            return prefix, None
        note = Text(
            f"… {plural(left, 'more character')} · ctrl+o (or Enter, a click) shows everything",
            style="dim italic",
        )
        return prefix, note

    def heading(self, label: str, *details: str) -> Text:
        """A bold label followed by muted details."""
        text = Text(safe_line(label), style=self.get_component_rich_style("event--heading"))
        meta = safe_line(" · ".join(d for d in details if d))
        if meta:
            text.append(f"  {meta}", style=self.get_component_rich_style("event--meta"))
        return text


class UserMessageView(EventView):
    """What the person typed."""

    DEFAULT_CSS = """
    UserMessageView {
        border-left: outer $primary;
        background: $primary 8%;
        padding: 0 1;
    }
    UserMessageView > .event--heading { color: $primary; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "show_full", "Full text", show=False),
    ]

    def __init__(self, text: str, *, seq: int | None, turn: int, when: str = "") -> None:
        super().__init__(seq=seq, turn=turn, when=when)
        self.text = text

    def full_text(self) -> str | None:
        return self.text if cut(self.text)[1] else None

    def full_title(self) -> str:
        return f"You · turn {self.turn}"

    def on_click(self, event: Click) -> None:
        if self.full_text() is not None:
            event.stop()
            self.action_show_full()

    def render(self) -> RenderableType:
        prefix, note = self.bounded_text(self.text)
        parts: list[RenderableType] = [
            self.heading("You", f"turn {self.turn}", self.when),
            Text(safe_text(prefix)),
        ]
        if note is not None:
            parts.append(note)
        return Group(*parts)


#: Under an answer that stopped at its length limit.
CUT_OFF_NOTE = (
    "… cut off at the answer length limit (live turns: agent.max_tokens, "
    "TURNKEEP_AGENT__MAX_TOKENS)"
)


class AssistantMessageView(EventView):
    """The model's answer, rendered as Markdown; streams while a turn runs."""

    DEFAULT_CSS = """
    AssistantMessageView { border-left: outer $success; }
    AssistantMessageView > .event--heading { color: $success; }
    AssistantMessageView.-cancelled { border-left: outer $warning; }
    """

    streaming: reactive[bool] = reactive(False)

    def __init__(
        self,
        text: str,
        *,
        seq: int | None,
        turn: int,
        when: str = "",
        model: str = "",
        streaming: bool = False,
        note: str = "",
        cut_off: bool = False,
    ) -> None:
        super().__init__(seq=seq, turn=turn, when=when)
        self.text = text
        self.model = model
        self.note = note
        #: The answer stopped at its length limit (said under it, not left to guess).
        self.cut_off = cut_off
        self.set_reactive(AssistantMessageView.streaming, streaming)
        self._flush_pending = False
        self._parsed: tuple[str, Markdown] | None = None

    def render(self) -> RenderableType:
        details = [self.model, self.when, self.note]
        if self.streaming:
            details.append("writing…")
        heading = self.heading("Assistant", *details)
        if not self.text:
            return Group(heading, Text("…" if self.streaming else "(no text)", style="dim"))
        prefix, note = self.bounded_text(self.text)
        parts: list[RenderableType] = [heading, self._markdown(prefix)]
        if note is not None:
            parts.append(note)
        if self.cut_off and not self.streaming:
            parts.append(Text(CUT_OFF_NOTE, style="dim italic"))
        return Group(*parts)

    def _markdown(self, text: str) -> Markdown:
        # Parsing is the expensive part of Markdown; parse once per text, not per paint,
        # and only the bounded prefix (a 5 MB answer is never parsed on the UI loop).
        if self._parsed is None or self._parsed[0] != text:
            # Escapes inside the Markdown (code blocks too) are neutralised before parsing.
            self._parsed = (text, markdown(safe_text(text)))
        return self._parsed[1]

    def full_text(self) -> str | None:
        return self.text if cut(self.text)[1] else None

    def full_title(self) -> str:
        return f"Assistant · turn {self.turn}"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "show_full", "Full text", show=False),
    ]

    def on_click(self, event: Click) -> None:
        if self.full_text() is not None:
            event.stop()
            self.action_show_full()

    def append(self, delta: str) -> None:
        """Add streamed text; repaints are coalesced to a few per second of output."""
        self.text += delta
        if not self._flush_pending:
            self._flush_pending = True
            self.set_timer(1 / 30, self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        self.refresh(layout=True)

    def finish(self, text: str | None = None, *, note: str = "") -> None:
        """The turn ended: show the final text (when given) and stop streaming."""
        if text is not None and text.strip():
            self.text = text
        self.note = note or self.note
        if note:
            self.add_class("-cancelled")
        self.streaming = False
        self.refresh(layout=True)

    def watch_streaming(self) -> None:
        self.refresh(layout=True)


#: Marker kinds with their own style (``-cancelled``, ``-error``); others are notes.
_MARKER_CLASSES: frozenset[str] = frozenset({"cancelled", "error"})


class MarkerView(EventView):
    """How a turn ended when it did not finish: cancelled or failed; or a system note.

    ``partial`` is the answer streamed before the end, shown as Markdown below the mark.
    """

    DEFAULT_CSS = """
    MarkerView { margin: 0 1 1 3; color: $text-muted; }
    MarkerView.-cancelled { color: $warning; }
    MarkerView.-error { color: $error; }
    MarkerView > .marker--partial { color: $text; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"marker--partial"}

    def __init__(
        self,
        kind: str,
        text: str,
        *,
        seq: int | None,
        turn: int,
        when: str = "",
        detail: str | None = None,
        partial: str | None = None,
    ) -> None:
        # A stored kind is any text (imports accept any): only known kinds become a CSS
        # class; the rest are generic notes (a class such as "-note.v2" is invalid).
        marker_class = f"-{kind}" if kind in _MARKER_CLASSES else "-note"
        super().__init__(seq=seq, turn=turn, when=when, classes=marker_class)
        self.kind = kind
        self.text = text
        self.detail = detail
        self.partial = partial

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "show_full", "Full text", show=False),
    ]

    def full_text(self) -> str | None:
        return self.partial if self.partial and cut(self.partial)[1] else None

    def full_title(self) -> str:
        return f"Partial answer · turn {self.turn}"

    def on_click(self, event: Click) -> None:
        if self.full_text() is not None:
            event.stop()
            self.action_show_full()

    def render(self) -> RenderableType:
        symbol = {"cancelled": "⊘", "error": "✗"}.get(self.kind, "•")
        label = {"cancelled": "Cancelled", "error": "Failed"}.get(
            self.kind, safe_line(self.kind, 60).capitalize()
        )
        line = Text(f"{symbol} {label}", style="bold")
        if self.text:
            line.append(f"  {safe_text(cut(self.text)[0])}")
        if self.when:
            line.append(f"  · {self.when}", style=self.get_component_rich_style("event--meta"))
        parts: list[RenderableType] = [line]
        if self.detail:
            parts.append(
                Text(safe_text(self.detail), style=self.get_component_rich_style("event--meta"))
            )
        if self.partial:
            prefix, note = self.bounded_text(self.partial)
            parts.append(Text("Partial answer:", style="italic"))
            parts.append(
                markdown(safe_text(prefix), style=self.get_component_rich_style("marker--partial"))
            )
            if note is not None:
                parts.append(note)
        return Group(*parts)


def partial_of(payload: dict[str, Any]) -> str | None:
    """What streamed before a turn was cancelled or failed (:mod:`runtime.payloads`)."""
    return payloads.partial_text(payload)


def usage_of(payload: dict[str, Any]) -> str:
    """``57 tokens · 1.2 s`` from an assistant event's usage and timings, when known."""
    parts = []
    tokens = payloads.answer_tokens(payload)
    if tokens:
        parts.append(plural(tokens, "token"))
    total = payloads.total_ms(payload)
    if total is not None:
        parts.append(f"{total / 1000:.1f} s" if total >= 100 else f"{total:.0f} ms")
    return " · ".join(parts)


def model_of(payload: dict[str, Any]) -> str:
    """``provider · model`` of an assistant event (:mod:`runtime.payloads`)."""
    return payloads.model_label(payload)
