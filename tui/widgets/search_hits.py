"""The search screen's result list: one line-API widget that paints only visible rows.

Each hit is two rows (session title, time and role; then the snippet with its matches
highlighted). :func:`hit_rows` turns hits into ready :class:`~textual.strip.Strip` rows
(plain segments: no markup parsing, no wrapping, no Rich layout) and touches nothing of
Textual's state, so the screen builds them before it hands them over;
:class:`HitList` only crops the visible rows to its width when it paints. Replacing the
results costs no widget mounts and no layout pass of the screen.

While typing, no single turn of the event loop may hold it for long (issue 14: the
largest stall while typing <= 2x idle). A new result set is therefore painted ahead:
:meth:`HitList.prepare` renders the lines in view a few per loop turn into a spare line
cache, :meth:`HitList.show` swaps it in and marks only the lines that differ from those
on screen. The paint of a result set then only composes ready lines. The list has no
scrollbar widget: a scrollbar repainted itself through Rich for every new row count
(1-5 ms, a paint of its own) and cut every line of the list into more pieces for the
compositor. Its last column shows instead which part of the hits is in view
(:meth:`HitList.thumb_lines`), painted with the lines it belongs to.

Stored text (titles, snippets, unknown kinds) goes through :mod:`tui.safe_text`; it is
never parsed as markup.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual._styles_cache import StylesCache
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from memory.records import parse_ts
from memory.search_records import SearchHit
from tui.format import relative_time
from tui.safe_text import safe_line, safe_text

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
#: The list's last column: this on the lines beside the part of the hits in view.
THUMB = "▐"
#: Characters of a snippet kept when no width is given.
_SNIPPET_CHARS = 240
#: Whitespace that is not a space, each made one space (see :func:`snippet_segments`).
_ONE_LINE = str.maketrans(dict.fromkeys("\n\r\t\v\f\x85\u2028\u2029", " "))


def snippet_segments(hit: SearchHit, chars: int = _SNIPPET_CHARS) -> list[Segment]:
    """The hit's snippet (its first ``chars`` characters) as segments, each match in the
    mark style; the text stays plain text."""
    out: list[Segment] = []
    last = 0
    # One row: line breaks and tabs would move the terminal's cursor inside a strip.
    # One space each, so the marks' offsets still point at the same characters.
    text = hit.snippet[:chars].translate(_ONE_LINE)
    for start, end in hit.marks:
        if start >= len(text):
            break
        if start > last:
            out.append(Segment(safe_text(text[last:start])))
        out.append(Segment(safe_text(text[start:end]), _MARK))
        last = end
    if last < len(text):
        out.append(Segment(safe_text(text[last:])))
    return [segment for segment in out if segment.text]


def _fit(segments: list[Segment], width: int) -> Strip:
    """One row exactly ``width`` cells wide (cut with ``…`` when longer)."""
    strip = Strip(segments)
    if strip.cell_length > width:
        strip = Strip([*strip.crop(0, max(0, width - 1)), Segment(_ELLIPSIS)])
    return strip.extend_cell_length(width)


def hit_rows(hits: Sequence[SearchHit], now: datetime, width: int = 200) -> list[Strip]:
    """Two rows per hit, ``width`` cells each: title, time and role; then the indented
    snippet with its matches highlighted."""
    rows: list[Strip] = []
    width = max(1, width)
    for hit in hits:
        title = safe_line(hit.title, 70) if hit.title else "(untitled)"
        role = ROLES.get(hit.kind, safe_line(hit.kind, 20))
        meta = f"  ·  {relative_time(parse_ts(hit.at), now)}  ·  {role}"
        rows.append(_fit([Segment(title, _TITLE), Segment(meta, _META)], width))
        # A character takes at least one cell: no more than ``width`` are needed.
        rows.append(_fit([Segment("  "), *snippet_segments(hit, width)], width))
    return rows


@dataclass(frozen=True, slots=True)
class _Prepared:
    """Painted lines of a result set not shown yet (see :meth:`HitList.prepare`)."""

    rows: list[Strip]
    #: Textual's per-widget cache of finished lines, filled for every line in view.
    lines: StylesCache
    #: What those lines depend on besides the rows (size, styles, focus).
    key: tuple[object, ...]


class HitList(ScrollView, can_focus=True):
    """Search hits, two rows each, one highlighted; Enter (or a click) selects it."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"hit-list--cursor", "hit-list--thumb"}

    DEFAULT_CSS = """
    HitList { height: 1fr; width: 1fr; overflow-x: hidden; overflow-y: hidden;
              padding: 0 1; background: $surface; }
    HitList > .hit-list--thumb { color: $scrollbar; }
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

    class AtEnd(Message):
        """The highlight moved onto the last hit (the screen may read more)."""

        def __init__(self, hit_list: HitList) -> None:
            super().__init__()
            self.hit_list = hit_list

        @property
        def control(self) -> HitList:
            """The list whose end was reached."""
            return self.hit_list

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

    #: Its row count changes with each result set; the list's own size never depends
    #: on it (height and width 1fr), so a change asks for no layout of the screen.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False, repaint=False)

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self._rows: list[Strip] = []
        #: Styles of a plain and a highlighted row and of the scroll mark, computed
        #: once per paint.
        self._styles: tuple[Style, Style, Style] | None = None
        #: The lines beside which the scroll mark is painted, during a paint.
        self._thumb: range | None = None
        #: The highlighted hit (``None`` when there are none).
        self.highlighted: int | None = None
        #: The scroll offset painted, when painting rows not shown yet (``prepare``).
        self._offset: int | None = None
        self._prepared: _Prepared | None = None
        #: Where :meth:`prepare` paints (the widget's own line cache is the other one).
        self._spare_lines = StylesCache()
        #: The hits the rows shown were made of, and "now" for their times: the rows are
        #: made again at the new width when the list is resized (see :meth:`on_resize`).
        self._source: tuple[Sequence[SearchHit], datetime] | None = None

    @property
    def hit_count(self) -> int:
        """How many hits are shown."""
        return len(self._rows) // ROWS

    @property
    def row_width(self) -> int:
        """The width rows are painted at (give it to :func:`hit_rows`): the content
        width but the scroll mark's column."""
        return max(1, self.scrollable_content_region.width - 1)

    def thumb_lines(self, rows: int | None = None, offset: int | None = None) -> range:
        """The lines in view beside which the scroll mark is painted (none when every
        row fits), for ``rows`` rows scrolled by ``offset`` (default: those shown)."""
        rows = len(self._rows) if rows is None else rows
        offset = int(self.scroll_offset.y) if offset is None else offset
        height = self.scrollable_content_region.height
        if rows <= height or height <= 0:
            return range(0)
        size = max(1, height * height // rows)
        top = min(height - size, round(offset * (height - size) / (rows - height)))
        return range(top, top + size)

    def _paint_styles(self) -> tuple[Style, Style, Style]:
        """The styles of a plain row, a highlighted one and the scroll mark."""
        return (
            self.rich_style,
            self.get_component_rich_style("hit-list--cursor"),
            self.get_component_rich_style("hit-list--thumb"),
        )

    @property
    def _top(self) -> int:
        """The first row in view (that of the rows being painted ahead, see ``prepare``)."""
        return int(self.scroll_offset.y) if self._offset is None else self._offset

    def _paint_key(self) -> tuple[object, ...]:
        """What painted lines depend on besides the rows, scroll and highlight."""
        return (
            self.region.size,
            self.scrollable_content_region,
            *self._paint_styles(),
            self.background_colors,
        )

    async def prepare(self, rows: list[Strip], lines_per_turn: int = 6) -> None:
        """Paint the lines ``rows`` will show, a few per turn of the event loop.

        A result set repainted in one go (every line in view through Textual's line
        pipeline: padding, background, filters) held the loop for milliseconds, the
        largest stall while typing. Here those lines are made ahead, a few at a time
        (other callbacks, keys included, run in between), into a cache of their own;
        :meth:`show` of the same ``rows`` hands it to the next paint, which then only
        composes them. Nothing on screen changes until :meth:`show`. If the list's
        size or styles change meanwhile, the lines are dropped and :meth:`show` paints
        as usual. Cancelling this (a newer search) leaves nothing behind.
        """
        self._prepared = None
        key = self._paint_key()
        # Into the spare of two caches, swapped by show(): Textual keeps each cache it
        # has seen in an lru_cache (StylesCache.get_inner_outer), so one made per result
        # set would keep every result set's lines alive.
        lines = self._spare_lines
        lines.clear()
        width, height = self.region.size
        for top in range(0, height, max(1, lines_per_turn)):
            if self._paint_key() != key:
                return
            self._paint_as(rows, lines, Region(0, top, width, min(lines_per_turn, height - top)))
            await asyncio.sleep(0)
        if self._paint_key() == key:
            self._prepared = _Prepared(rows, lines, key)

    def _paint_as(self, rows: list[Strip], lines: StylesCache, crop: Region) -> None:
        """Render ``crop`` into ``lines`` as :meth:`show` of ``rows`` would show it."""
        shown = self._rows, self.highlighted, self._styles_cache
        self._rows, self.highlighted, self._styles_cache = rows, 0 if rows else None, lines
        self._offset = 0
        try:
            self.render_lines(crop)
        finally:
            self._rows, self.highlighted, self._styles_cache = shown
            self._offset = None

    def show(
        self,
        rows: list[Strip],
        hits: Sequence[SearchHit] | None = None,
        now: datetime | None = None,
        *,
        keep: int = 0,
    ) -> None:
        """Show ``rows`` (from :func:`hit_rows`), the first hit highlighted.

        Lines made by :meth:`prepare` for these very ``rows`` are used by the next
        paint (if nothing they depend on changed since). Given the ``hits`` and ``now``
        they were made of, the rows are made again at the new width on a resize (a
        row cut at a narrower width would otherwise stay cut when the list widens).
        """
        self._source = (hits, now) if hits is not None and now is not None else None
        prepared, self._prepared = self._prepared, None
        changed = self._changed_lines(rows)
        self._rows = rows
        self.highlighted = min(keep, len(rows) // ROWS - 1) if rows else None
        size = Size(self.size.width, len(rows))
        if self.virtual_size != size:
            self.virtual_size = size
            self._scroll_update(size)  # no scrollbar to repaint: scroll limits only
        if self.highlighted:  # more hits read in below: the reader stays where they were
            self.call_after_refresh(self._highlight_into_view)
        else:
            self.scroll_to(y=0, animate=False, immediate=True)
        if changed is None:
            self.refresh()
        elif changed:
            self.refresh(*changed)  # only the lines that differ are composed again
        if prepared is not None and prepared.rows is rows and prepared.key == self._paint_key():
            # After refresh(), which empties the widget's line cache: the new lines are
            # those the next paint would render, already rendered.
            self._spare_lines, self._styles_cache = self._styles_cache, prepared.lines

    def _changed_lines(self, rows: list[Strip]) -> list[Region] | None:
        """The lines in view that showing ``rows`` changes (``None``: all of them).

        The next key often finds the same first hits: their lines are not repainted.
        """
        if self.scroll_offset.y or self.highlighted not in (0, None):
            return None
        old, width = self._rows, self.size.width
        old_thumb, new_thumb = self.thumb_lines(len(old), 0), self.thumb_lines(len(rows), 0)
        changed: list[Region] = []
        for y in range(self.scrollable_content_region.height):
            if (old[y] if y < len(old) else None) != (rows[y] if y < len(rows) else None) or (
                (y in old_thumb) != (y in new_thumb)
            ):
                changed.append(Region(0, y, width, 1))
        return changed

    @property
    def allow_vertical_scroll(self) -> bool:
        """The mouse wheel scrolls the hits (there is no scrollbar widget to say so)."""
        return not self._check_disabled() and self.max_scroll_y > 0

    def on_resize(self, event: events.Resize) -> None:
        """Make the rows again at the new width (more of each snippet when wider)."""
        width = self.row_width
        if self._source is None or not self._rows or self._rows[0].cell_length == width:
            return
        hits, now = self._source
        self._rows = hit_rows(hits, now, width)
        self._prepared = None
        self.refresh()

    def row_text(self, index: int) -> str:
        """The plain text of a row (for tests and the screen's status)."""
        return self._rows[index].text if 0 <= index < len(self._rows) else ""

    def render_lines(self, crop: Region) -> list[Strip]:
        self._styles = self._paint_styles()
        self._thumb = self.thumb_lines(len(self._rows), self._top)
        try:
            return super().render_lines(crop)
        finally:
            self._styles = self._thumb = None

    def render_line(self, y: int) -> Strip:
        width, top = self.row_width, self._top
        row = top + y
        plain, cursor, thumb = self._styles or self._paint_styles()
        lines = self._thumb if self._thumb is not None else self.thumb_lines(None, top)
        mark = Segment(THUMB, thumb) if y in lines else Segment(" ")
        if row >= len(self._rows) or self.scrollable_content_region.width <= 0:
            return Strip([*Strip.blank(width), mark], width + 1).apply_style(plain)
        strip = self._rows[row]
        if strip.cell_length != width:  # prepared for another width (a resize since)
            strip = _fit(list(strip), width)
        highlighted = self.highlighted is not None and row // ROWS == self.highlighted
        return Strip([*strip, mark], width + 1).apply_style(cursor if highlighted else plain)

    def action_cursor(self, step: int) -> None:
        """Move the highlight ``step`` hits (clamped), keeping it in view."""
        if not self._rows:
            return
        old = self.highlighted
        current = old if old is not None else 0
        self.highlighted = max(0, min(self.hit_count - 1, current + step))
        if step > 0 and self.highlighted == self.hit_count - 1:
            self.post_message(self.AtEnd(self))
        if self.highlighted == old:
            return
        self.refresh()
        self._highlight_into_view()

    def _highlight_into_view(self) -> None:
        if self.highlighted is not None:
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

    async def _on_click(self, event: events.Click) -> None:
        row = int(self.scroll_offset.y) + event.y
        if 0 <= row < len(self._rows):
            self.highlighted = row // ROWS
            self.refresh()
            self.select()
