"""The recent-sessions table: keyset pages appended as the reader moves down.

It never holds "everything": the screen loads one page, and the next only when the
cursor or the scroll position nears the end of what is loaded
(:class:`SessionTable.NearEnd`). Columns are re-laid out to the table's width so long
titles are cut with an ellipsis instead of pushing the other columns off screen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import ClassVar, TypedDict

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.events import Resize
from textual.message import Message
from textual.widgets import DataTable

from memory.records import SessionInfo, parse_ts
from tui.format import relative_time
from tui.safe_text import safe_line

__all__ = ["SessionTable", "list_filters", "session_model", "session_title"]


def session_title(info: SessionInfo) -> str:
    """The title a person sees (untitled sessions are named by their id), on one line
    with every terminal control shown as a stand-in."""
    return safe_line(info.title or f"Untitled {info.id[-6:]}")


def session_model(info: SessionInfo) -> str:
    """``provider · model`` or a dash; an imported session shows its source first (``⇣codex``)."""
    source = info.metadata.get("source")
    tool = source.get("tool") if isinstance(source, dict) else None
    marker = f"⇣{safe_line(tool, 20)}" if isinstance(tool, str) else None
    return safe_line(" · ".join(p for p in (marker, info.provider, info.model) if p) or "—")


class ListFilters(TypedDict):
    """``list_sessions`` keyword arguments from the home filter."""

    title_filter: str | None
    source: str | None


def list_filters(text: str) -> ListFilters:
    """The home filter's text as ``list_sessions`` arguments: ``source:TOOL rest``."""
    if text.startswith("source:"):
        tool, _, rest = text[len("source:") :].partition(" ")
        return {"source": tool or None, "title_filter": rest.strip() or None}
    return {"source": None, "title_filter": text or None}


class SessionTable(DataTable[Text]):
    """Sessions, newest activity first, one row each."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", tooltip="Open the selected session"),
        Binding("home", "first_row", "First", show=False),
        Binding("end", "last_row", "Last loaded", show=False),
    ]

    #: Ask for the next page when the cursor is this close to the last loaded row.
    PREFETCH_ROWS: ClassVar[int] = 15
    _FIXED: ClassVar[dict[str, int]] = {"when": 13, "turns": 6, "model": 30}

    class NearEnd(Message):
        """The cursor or the viewport is near the last loaded row."""

    def __init__(self, now: Callable[[], datetime], *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._now = now
        self.sessions: list[SessionInfo] = []
        self.more = False
        self._title_width = 40
        self._model_width = self._FIXED["model"]

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        self.add_column("Title", width=self._title_width, key="title")
        self.add_column("Last activity", width=self._FIXED["when"], key="when")
        self.add_column(Text("Turns", justify="right"), width=self._FIXED["turns"], key="turns")
        self.add_column("Provider · model", width=self._model_width, key="model")

    def _fit_widths(self, width: int) -> tuple[int, int]:
        """The title's and the model's widths for a table ``width`` cells wide: below
        about 120 columns the model column gives up cells first (down to 14), so a
        narrow terminal keeps the titles readable (at 80 columns the title had 22
        cells, the model 30)."""
        # Each column has one cell of padding either side.
        fixed = self._FIXED["when"] + self._FIXED["turns"] + 2 * (len(self._FIXED) + 1)
        shared = max(32, width - fixed - 1)
        model = min(self._FIXED["model"], max(14, shared - 58))
        return max(16, shared - model), model

    def on_resize(self, event: Resize) -> None:
        wanted, model = self._fit_widths(event.size.width)
        if (wanted, model) != (self._title_width, self._model_width):
            self._title_width, self._model_width = wanted, model
            row = self.cursor_row
            self.clear(columns=True)
            self._add_columns()
            self._add_rows(self.sessions)
            if self.sessions:
                self.move_cursor(row=min(row, len(self.sessions) - 1), animate=False)
        # The preview below grows when its text arrives and the table loses rows of
        # height: the cursor's row (often the last one) must not slip below the fold.
        self.call_after_refresh(self._cursor_into_view)

    # -- what the screen calls ---------------------------------------------------------

    @property
    def selected(self) -> SessionInfo | None:
        """The session under the cursor."""
        if not self.sessions or not 0 <= self.cursor_row < len(self.sessions):
            return None
        return self.sessions[self.cursor_row]

    def show(self, sessions: Iterable[SessionInfo], *, more: bool, keep: str | None = None) -> None:
        """Replace the rows (the first page), keeping the cursor on ``keep`` if present."""
        self.clear()
        self.sessions = list(sessions)
        self.more = more
        self._add_rows(self.sessions)
        index = next((i for i, s in enumerate(self.sessions) if s.id == keep), 0)
        if self.sessions:
            self.move_cursor(row=index, animate=False)

    def extend(self, sessions: Iterable[SessionInfo], *, more: bool) -> None:
        """Append the next page."""
        known = {s.id for s in self.sessions}
        fresh = [s for s in sessions if s.id not in known]
        self.sessions.extend(fresh)
        self.more = more
        self._add_rows(fresh)
        # The cursor may already sit at (or near) the new end, where no key moves it: ask
        # for the next page now rather than wait for a move that cannot happen.
        self.call_after_refresh(self._maybe_near_end)
        self.call_after_refresh(self._cursor_into_view)

    def replace_session(self, info: SessionInfo) -> None:
        """Show a renamed session in place."""
        for index, existing in enumerate(self.sessions):
            if existing.id == info.id:
                self.sessions[index] = info
                self.update_cell(info.id, "title", self._title_cell(info), update_width=False)
                return

    def remove_session(self, session_id: str) -> None:
        """Drop a deleted session's row."""
        self.sessions = [s for s in self.sessions if s.id != session_id]
        if session_id in self.rows:
            self.remove_row(session_id)

    # -- rows --------------------------------------------------------------------------

    def _title_cell(self, info: SessionInfo) -> Text:
        style = "" if info.title else "italic"
        cell = Text(no_wrap=True, overflow="ellipsis")
        if info.pinned:
            cell.append("📌 ")
        cell.append(session_title(info), style=style)
        if info.forked_from:
            cell.append(" ⑂", style="dim")
        for tag in info.tags:
            cell.append(f" #{safe_line(tag)}", style="dim")
        return cell

    def _add_rows(self, sessions: Iterable[SessionInfo]) -> None:
        now = self._now()
        for info in sessions:
            self.add_row(
                self._title_cell(info),
                Text(relative_time(parse_ts(info.updated_at), now)),
                Text(f"{info.turns:,}", justify="right"),
                Text(session_model(info), no_wrap=True, overflow="ellipsis"),
                key=info.id,
            )

    def action_first_row(self) -> None:
        self.move_cursor(row=0)

    def action_last_row(self) -> None:
        """Go to the last loaded row (which reads the next page, if there is one)."""
        self.move_cursor(row=max(0, len(self.sessions) - 1))
        self._maybe_near_end()  # already on the last row: the cursor does not move

    def action_page_down(self) -> None:
        # DataTable scrolls a page and moves the cursor without scrolling to it; when rows
        # arrived since the last layout the scroll is clamped short and the cursor's row
        # (the last rows) ends up below the fold. Bring it into view once laid out.
        super().action_page_down()
        self._maybe_near_end()
        self.call_after_refresh(self._cursor_into_view)

    def _cursor_into_view(self) -> None:
        if self.sessions and self.is_attached:
            self.move_cursor(row=self.cursor_row, animate=False, scroll=True)

    def action_cursor_down(self) -> None:
        super().action_cursor_down()
        self._maybe_near_end()

    # -- paging ------------------------------------------------------------------------

    def _maybe_near_end(self) -> None:
        if self.more and self.sessions:
            near_cursor = self.cursor_row >= len(self.sessions) - self.PREFETCH_ROWS
            # The last row on screen (the header takes one line); a table not laid out
            # yet has no height and is never "near the end".
            height = self.scrollable_content_region.height
            last_visible = self.scroll_y + height - 1
            near_view = height > 0 and last_visible >= len(self.sessions) - self.PREFETCH_ROWS
            if near_cursor or near_view:
                self.post_message(self.NearEnd())

    def watch_cursor_coordinate(self, old: Coordinate, new: Coordinate) -> None:
        super().watch_cursor_coordinate(old, new)
        self._maybe_near_end()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._maybe_near_end()
