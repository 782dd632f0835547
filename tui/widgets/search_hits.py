"""The search screen's result list: one line-API widget that paints only visible rows.

Each hit is two rows (session title, time and role; then the snippet with its matches
highlighted). :func:`hit_rows` turns hits into ready :class:`~textual.strip.Strip` rows
(plain segments: no markup parsing, no wrapping, no Rich layout) and touches nothing of
Textual's state, so the screen builds them before it hands them over;
:class:`HitList` only crops the visible rows to its width when it paints. Replacing the
results costs no widget mounts and, while the number of rows stays the same, no layout
pass of the screen: a keystroke repaints the list's rows and nothing else.

Stored text (titles, snippets, unknown kinds) goes through :mod:`tui.safe_text`; it is
never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from memory.records import parse_ts
from memory.search_records import SearchHit
from tui.format import relative_time
from tui.safe_text import safe_line

__all__ = ["ROLES", "HitList", "hit_rows", "snippet_segments"]

ROLES = {
    "user": "you",
    "assistant": "assistant",
    "tool_call": "tool call",
    "tool_result": "tool result",
    "title": "title",
}

#: Rows per hit.
ROWS = 2
_TITLE = Style(bold=True)
_META = Style(dim=True)
_MARK = Style(bold=True, reverse=True)
_ELLIPSIS = "…"
#: Characters of a snippet kept (a row is cropped to the widget's width when painted).
_SNIPPET_CHARS = 240


def snippet_segments(hit: SearchHit) -> list[Segment]:
    """The hit's snippet as segments, each match in the mark style (text kept plain)."""
    out: list[Segment] = []
    last = 0
    text = hit.snippet[:_SNIPPET_CHARS]
    for start, end in hit.marks:
        if start >= len(text):
            break
        if start > last:
            out.append(Segment(safe_line(text[last:start])))
        out.append(Segment(safe_line(text[start:end]), _MARK))
        last = end
    if last < len(text):
        out.append(Segment(safe_line(text[last:])))
    return [segment for segment in out if segment.text]


def hit_rows(hits: Sequence[SearchHit], now: datetime) -> list[Strip]:
    """Two rows per hit: title, time and role; then the indented, highlighted snippet."""
    rows: list[Strip] = []
    for hit in hits:
        title = safe_line(hit.title, 70) if hit.title else "(untitled)"
        role = ROLES.get(hit.kind, safe_line(hit.kind, 20))
        meta = f"  ·  {relative_time(parse_ts(hit.at), now)}  ·  {role}"
        rows.append(Strip([Segment(title, _TITLE), Segment(meta, _META)]))
        rows.append(Strip([Segment("  "), *snippet_segments(hit)]))
    return rows


class HitList(ScrollView, can_focus=True):
    """Search hits, two rows each, one highlighted; Enter (or a click) selects it."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"hit-list--cursor"}

    DEFAULT_CSS = """
    HitList { height: 1fr; overflow-x: hidden; overflow-y: scroll; padding: 0 1;
              background: $surface; }
    HitList > .hit-list--cursor { background: $block-cursor-blurred-background; }
    HitList:focus > .hit-list--cursor { background: $block-cursor-background;
                                        color: $block-cursor-foreground; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "cursor(-1000000)", "First", show=False),
        Binding("end", "cursor(1000000)", "Last", show=False),
    ]

    class Selected(Message):
        """A hit was chosen (Enter on the list, or a click)."""

        def __init__(self, hit_list: HitList, index: int) -> None:
            super().__init__()
            self.hit_list = hit_list
            self.index = index

        @property
        def control(self) -> HitList:
            """The list the hit was chosen in."""
            return self.hit_list

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self._rows: list[Strip] = []
        #: The highlighted hit (``None`` when there are none).
        self.highlighted: int | None = None

    @property
    def hit_count(self) -> int:
        """How many hits are shown."""
        return len(self._rows) // ROWS

    def show(self, rows: list[Strip]) -> None:
        """Show ``rows`` (from :func:`hit_rows`), the first hit highlighted."""
        self._rows = rows
        self.highlighted = 0 if rows else None
        height = len(rows)
        if self.virtual_size.height != height:
            self.virtual_size = Size(self.size.width, height)  # a layout pass: rarely
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()

    def row_text(self, index: int) -> str:
        """The plain text of a row (for tests and the screen's status)."""
        return self._rows[index].text if 0 <= index < len(self._rows) else ""

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        row = int(self.scroll_offset.y) + y
        if row >= len(self._rows) or width <= 0:
            return Strip.blank(width, self.rich_style)
        strip = self._rows[row]
        if strip.cell_length > width:
            strip = Strip([*strip.crop(0, width - 1), Segment(_ELLIPSIS)])
        if self.highlighted is not None and row // ROWS == self.highlighted:
            base = self.get_component_rich_style("hit-list--cursor")
        else:
            base = self.rich_style
        return strip.extend_cell_length(width).apply_style(base)

    def action_cursor(self, step: int) -> None:
        """Move the highlight ``step`` hits (clamped), keeping it in view."""
        if not self._rows:
            return
        old = self.highlighted
        current = old if old is not None else 0
        self.highlighted = max(0, min(self.hit_count - 1, current + step))
        if self.highlighted == old:
            return
        self.refresh()
        self.scroll_to_region(
            Region(0, self.highlighted * ROWS, 1, ROWS), animate=False, immediate=True
        )

    def action_page(self, direction: int) -> None:
        """Move the highlight a screenful."""
        self.action_cursor(direction * max(1, self.scrollable_content_region.height // ROWS))

    def select(self) -> None:
        """Post :class:`Selected` for the highlighted hit."""
        if self.highlighted is not None:
            self.post_message(self.Selected(self, self.highlighted))

    def _on_click(self, event: events.Click) -> None:
        row = int(self.scroll_offset.y) + event.y
        if 0 <= row < len(self._rows):
            self.highlighted = row // ROWS
            self.refresh()
            self.select()

