"""The home screen: recent sessions, newest activity first, with a title filter.

Sessions are read one keyset page at a time (never all of them), in workers; the filter
re-reads the first page as you type, and a newer request cancels the older one.
"""

from __future__ import annotations

import asyncio
import re
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import ScreenResume, ScreenSuspend
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Static

from memory.records import Event, SessionInfo, SessionPage, parse_ts
from runtime import payloads
from tui.messages import OpenSession
from tui.safe_text import safe_line
from tui.screens.dialogs import ConfirmDialog, RenameDialog
from tui.screens.home_organize import SESSION_ACTIONS, HomeOrganizeMixin, organize_preview
from tui.screens.tags import split_filter
from tui.services import Services
from tui.widgets.event_text import message_text, plural
from tui.widgets.header import TitleHeader
from tui.widgets.inputs import StillInput
from tui.widgets.session_table import SessionTable, list_filters, session_model, session_title

__all__ = ["HomeScreen"]

#: Markdown emphasis and code marks, left out of the one-line excerpts.
_MARKUP = re.compile(r"(\*\*|__|`+|^#+\s*)", re.MULTILINE)

WELCOME = """\
[b]Welcome to turnkeep[/b]

Every turn you have with an agent is kept here, in order, and survives crashes.

Press [b $accent]n[/] to start a new session,
or from a shell:  [b]turnkeep ask "hello"[/b]

[dim]Your sessions are stored in {location}[/dim]
[dim]Press [b]h[/b] to check the database, [b]ctrl+p[/b] for every command.[/dim]\
"""


def _last_exchange(events: list[Event]) -> list[tuple[str, str]]:
    """The last question and how *that* turn ended: ``[("You", …), ("Assistant", …)]``.

    An answer from an older turn is never paired with a newer question; a turn that was
    cancelled or failed says so.
    """
    question = next((e for e in reversed(events) if e.kind == "user"), None)
    if question is None:
        return []
    lines: list[tuple[str, str]] = []
    try:
        lines.append(("You", message_text(question.payload)))
    except Exception:  # an unreadable payload is shown as missing, not fatal
        return []
    answer: tuple[str, str] | None = None
    for event in events:
        if event.seq <= question.seq or event.turn != question.turn:
            continue
        try:
            payload = event.payload
        except Exception:
            continue
        if event.kind == "assistant" and message_text(payload).strip():
            answer = ("Assistant", message_text(payload))
        elif event.kind in ("cancelled", "error"):
            said = answer[1] if answer is not None else payloads.partial_text(payload) or ""
            ended = "cancelled by the user" if event.kind == "cancelled" else "failed"
            answer = ("Assistant", f"{said} ({ended})" if said else f"({ended})")
    if answer is not None:
        lines.append(answer)
    return lines


#: The home list's first page, and the number of sessions when the list is not filtered.
FirstRead = tuple[SessionPage, int | None]


async def read_first_page(services: Services, title_filter: str = "") -> FirstRead:
    """The home list's first read: pins first, filtered by title, ``#tag`` and source."""
    sessions = services.sessions
    filters = list_filters(title_filter)
    title, tags = split_filter(filters["title_filter"] or "")
    listing = sessions.page(
        limit=HomeScreen.PAGE_SIZE,
        title_filter=title or None,
        tags=tags,
        pinned_first=True,
        source=filters["source"],
    )
    if title_filter:
        return await listing, None
    # Both reads sent at once: one round trip to a remote server, not two.
    # The count is of the sessions the list holds: archived ones are in their view (v).
    page, total = await asyncio.gather(listing, sessions.count(archived=False))
    return page, total


class HomeScreen(HomeOrganizeMixin):
    """Browse, filter, open, rename and delete sessions."""

    AUTO_FOCUS = "#sessions"
    PAGE_SIZE: ClassVar[int] = 100
    #: The newest events the preview reads to find the last question and its answer.
    PREVIEW_EVENTS: ClassVar[int] = 24
    #: Typing in the filter waits this long for the next key before reading.
    FILTER_DEBOUNCE: ClassVar[float] = 0.15

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", tooltip="Open the selected session"),
        Binding("n", "new", "New", tooltip="Start a new session"),
        # The footer shows bindings in this order and cuts what does not fit: the keys
        # a newcomer needs first (Quit was cut at 120 columns).
        Binding("s", "search", "Search", tooltip="Search every conversation"),
        Binding("q", "app.quit", "Quit", tooltip="Quit turnkeep"),
        Binding("r", "rename", "Rename", tooltip="Rename the selected session"),
        Binding("d", "delete", "Delete", tooltip="Delete the selected session"),
        Binding(
            "slash",
            "focus_filter",
            "Filter",
            key_display="/",
            tooltip="Filter sessions by title",
            # Checked as the key arrives, before the keys typed after it are handed to
            # the focused table (a non-priority binding runs only once the key has
            # bubbled back up from the table: the keys behind it were lost there).
            priority=True,
        ),
        Binding("p", "pin", "Pin", tooltip="Pin or unpin the selected session"),
        Binding("a", "archive", "Archive", tooltip="Archive the selected session"),
        Binding("t", "tags", "Tags", tooltip="Edit the selected session's tags"),
        Binding("f", "fork", "Fork", tooltip="Fork the selected session at an event"),
        Binding("v", "archive_view", "Archived", tooltip="Browse and restore archived sessions"),
        Binding("h", "health", "Health", tooltip="Check the database health"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(
        self, services: Services, *, first_read: asyncio.Future[FirstRead] | None = None
    ) -> None:
        """``first_read``: the unfiltered first page and count, already being read (the
        app starts the read as soon as the database is open, before this screen is
        composed, so the first paint has the list in it)."""
        super().__init__(id="home")
        self.services = services
        self._first_read = first_read
        self.total: int | None = None
        self._cursor: tuple[str, str] | None = None
        self._loading_more: tuple[str, str] | None = None
        self._stale = True
        self._keep: str | None = None

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        with Horizontal(id="filter-bar"):
            yield StillInput(placeholder="Filter by title or #tag  ( / )", id="filter")
            yield Static("", id="count")
        with Vertical(id="sessions-pane"):
            yield SessionTable(self.services.now, id="sessions")
            yield Static("", id="no-match", markup=False)
            yield Static(
                WELCOME.format(location=self.services.location.replace("[", r"\[")), id="welcome"
            )
        yield Static("", id="preview")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "sessions"
        self.query_one("#welcome").display = False
        self.query_one("#no-match").display = False
        first_read = self._first_read
        if first_read is not None and first_read.done() and first_read.exception() is None:
            # Read while the screen was built: shown in the first paint, not after it.
            self._first_read, self._stale = None, False
            page, total = first_read.result()
            self._show_first_page(page, "", total, None)
        else:
            self.query_one(SessionTable).loading = True

    def on_screen_resume(self, event: ScreenResume) -> None:
        # Read on first show and after a session or another full screen was on top
        # (sessions may have changed); not after a dialog of this screen.
        if self._stale:
            self._stale = False
            self.reload()
        # Textual's own resume handler (AUTO_FOCUS) runs after this one, and picks the
        # table even when the welcome view hides it.
        self.call_later(self._unfocus_welcome)

    def _unfocus_welcome(self) -> None:
        """On the welcome view there is nothing to type into or move through: keys go to
        the screen's bindings, not to the hidden filter or table."""
        focused = self.focused
        welcome = self.query_one("#welcome").display
        if welcome and focused is not None and focused.id in ("filter", "sessions"):
            self.set_focus(None)
            self.refresh_bindings()

    def on_screen_suspend(self, event: ScreenSuspend) -> None:
        self._stale = not isinstance(self.app.screen, ModalScreen)

    @property
    def filter_text(self) -> str:
        return self.query_one("#filter", Input).value.strip()

    # -- reading -----------------------------------------------------------------------

    def select(self, session_id: str) -> None:
        """Read the first page again with the cursor on this session (back from it)."""
        self._keep = session_id
        self.reload()

    def reload(self, *, debounce: float = 0.0) -> None:
        """Read the first page again (filter changed, or back from a session)."""
        table = self.query_one(SessionTable)
        keep = self._keep or (table.selected.id if table.selected else None)
        self.workers.cancel_group(self, "sessions-more")
        self._loading_more = None
        self.load_first_page(self.filter_text, keep, debounce)

    @work(exclusive=True, group="sessions", exit_on_error=False)
    async def load_first_page(self, title_filter: str, keep: str | None, debounce: float) -> None:
        if debounce:
            await asyncio.sleep(debounce)
        first_read, self._first_read = self._first_read, None
        if first_read is not None and not title_filter:
            page, total = await first_read
        else:
            page, total = await read_first_page(self.services, title_filter)
        self._show_first_page(page, title_filter, total, keep)

    def _show_first_page(
        self, page: SessionPage, title_filter: str, total: int | None, keep: str | None
    ) -> None:
        table = self.query_one(SessionTable)
        table.loading = False
        self._keep = None
        self._cursor = page.cursor
        table.show(page.sessions, more=page.cursor is not None, keep=keep)
        self.total = total
        empty = not page.sessions
        welcome = empty and not title_filter
        table.display = not empty
        self.query_one("#welcome").display = welcome
        no_match = self.query_one("#no-match", Static)
        no_match.display = empty and bool(title_filter)
        words = title_filter.split()
        what = (
            "No session matches"  # #tags and source: are filters, not title text
            if any(w.startswith(("#", "source:")) for w in words)
            else "No session title contains"
        )
        no_match.update(f"{what} “{safe_line(title_filter)}”.  Esc clears the filter.")
        self.query_one("#filter-bar").display = not welcome
        self.query_one("#preview").display = not empty
        self._update_count()
        self._unfocus_welcome()
        if not empty:
            self.show_preview()

    def _update_count(self) -> None:
        table = self.query_one(SessionTable)
        shown = len(table.sessions)
        if self.filter_text:
            more = "+" if table.more else ""
            text = f"{shown:,}{more} matching"
        elif self.total is not None:
            text = plural(self.total, "session")
        else:
            text = ""
        self.query_one("#count", Static).update(text)

    @on(SessionTable.NearEnd)
    def _near_end(self) -> None:
        cursor = self._cursor
        if cursor is None or self._loading_more == cursor:
            return
        self._loading_more = cursor
        self.load_next_page(self.filter_text, cursor)

    @work(exclusive=True, group="sessions-more", exit_on_error=False)
    async def load_next_page(self, title_filter: str, cursor: tuple[str, str]) -> None:
        filters = list_filters(title_filter)
        title, tags = split_filter(filters["title_filter"] or "")
        try:
            page = await self.services.sessions.page(
                limit=self.PAGE_SIZE,
                after=cursor,
                title_filter=title or None,
                tags=tags,
                pinned_first=True,
                source=filters["source"],
            )
        finally:
            if self._loading_more == cursor:
                self._loading_more = None  # a failed read may be asked for again
        if cursor != self._cursor:
            return  # the list was read again meanwhile: this page belongs to another
        self._cursor = page.cursor
        self.query_one(SessionTable).extend(page.sessions, more=page.cursor is not None)
        self._update_count()

    # -- preview -----------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#sessions")
    def show_preview(self) -> None:
        info = self.query_one(SessionTable).selected
        if info is not None:
            self.query_one("#preview", Static).update(self._preview(info, []))
            self.load_preview(info)

    @work(exclusive=True, group="preview", exit_on_error=False)
    async def load_preview(self, info: SessionInfo) -> None:
        await asyncio.sleep(0.05)  # let the cursor settle while keys repeat
        if info.events == 0:
            return
        events = await self.services.sessions.newest(info.id, self.PREVIEW_EVENTS)
        table = self.query_one(SessionTable)
        if table.selected is None or table.selected.id != info.id:
            return  # deleted or moved away from while it was read
        self.query_one("#preview", Static).update(self._preview(info, events))

    def _preview(self, info: SessionInfo, events: list[Event]) -> Text:
        text = Text()
        text.append(session_title(info), style="bold")
        text.append(f"  {session_model(info)}", style="dim")
        created = parse_ts(info.created_at).strftime("%Y-%m-%d %H:%M")
        text.append(
            f"\n{safe_line(info.id)} · created {created} UTC · {plural(info.events, 'event')}",
            style="dim",
        )
        for label, line in _last_exchange(events):
            text.append(f"\n{label}: ", style="bold")
            text.append(safe_line(_MARKUP.sub("", line[:2000]), 300))
        if info.events == 0:
            text.append("\nNo turns yet.", style="dim italic")
        organize_preview(info, text)
        return text

    # -- filter ------------------------------------------------------------------------

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self.reload(debounce=self.FILTER_DEBOUNCE)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.query_one(SessionTable).focus()

    def action_focus_filter(self) -> None:
        filter_input = self.query_one("#filter", Input)
        if self.focused is filter_input:
            raise SkipAction  # a "/" typed in the filter is text
        self.query_one("#filter-bar").display = True
        # At once, not with ``Input.focus()`` (which focuses on a later turn of the
        # loop): keys typed right after ``/`` are already queued behind it, and would
        # go to the table and the screen's bindings (``s`` opened the search).
        self.set_focus(filter_input)

    def action_clear_filter(self) -> None:
        filter_input = self.query_one("#filter", Input)
        if filter_input.value:
            filter_input.value = ""
        self.query_one(SessionTable).focus()

    def key_down(self) -> None:
        if self.focused is self.query_one("#filter"):
            self.query_one(SessionTable).focus()

    # -- actions -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open", "rename", "delete", *SESSION_ACTIONS):
            return True if self.query_one(SessionTable).selected is not None else None
        return True

    @on(DataTable.RowSelected, "#sessions")
    def action_open(self) -> None:
        info = self.query_one(SessionTable).selected
        if info is not None:
            self.post_message(OpenSession(info.id))

    def action_new(self) -> None:
        self.post_message(OpenSession(None))

    def action_search(self) -> None:
        """Search titles and content of every session (tui.screens.search)."""
        from tui.screens.search import SearchScreen

        self.app.push_screen(SearchScreen(self.services, self.filter_text))

    def action_health(self) -> None:
        from tui.screens.health import HealthScreen

        self.app.push_screen(HealthScreen(self.services))

    def action_rename(self) -> None:
        info = self.query_one(SessionTable).selected
        if info is None:
            return

        def renamed(title: str | None) -> None:
            if title is not None and title != info.title:
                self.rename(info.id, title)

        self.app.push_screen(RenameDialog(safe_line(info.title or "")), renamed)

    @work(group="rename", exit_on_error=False)
    async def rename(self, session_id: str, title: str) -> None:
        info = await self.services.sessions.rename(session_id, title)
        self.query_one(SessionTable).replace_session(info)
        self.show_preview()
        self.notify(f"Renamed to “{safe_line(title)}”.", title="Renamed", markup=False)

    def action_delete(self) -> None:
        info = self.query_one(SessionTable).selected
        if info is None:
            return
        message = (
            f"“{session_title(info)}” and its {plural(info.events, 'event')} will be deleted "
            "for good."
            "\nThis cannot be undone."
        )

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.delete(info)

        self.app.push_screen(ConfirmDialog("Delete this session?", message), answered)

    @work(group="delete", exit_on_error=False)
    async def delete(self, info: SessionInfo) -> None:
        await self.services.sessions.forget(info.id)
        table = self.query_one(SessionTable)
        self.workers.cancel_group(self, "preview")
        table.remove_session(info.id)
        # The cursor's row index may not change, so no RowHighlighted follows: show the
        # session now under the cursor (never the deleted one).
        if table.sessions:
            self.show_preview()
        if self.total is not None:
            self.total -= 1
        self._update_count()
        self.notify(f"Deleted “{session_title(info)}”.", title="Deleted", markup=False)
        if not table.sessions:
            self.reload()
