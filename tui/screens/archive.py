"""The archive: archived sessions, newest activity first, to open or restore.

Archiving deletes nothing; an archived session opens and takes new turns like any other
and leaves the archive when restored (``u``).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from memory.records import SessionPage
from tui.messages import OpenSession
from tui.safe_text import safe_line
from tui.screens.base import TurnkeepScreen
from tui.services import Services
from tui.widgets.header import TitleHeader
from tui.widgets.session_table import SessionTable, session_title

__all__ = ["ArchiveScreen"]


class ArchiveScreen(TurnkeepScreen[None]):
    """Browse archived sessions; restore or open them."""

    AUTO_FOCUS = "#archived"
    PAGE_SIZE: ClassVar[int] = 100
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", tooltip="Open the selected archived session"),
        Binding("u", "restore", "Restore", tooltip="Restore the selected session to the list"),
        Binding("escape", "app.pop_screen", "Back", tooltip="Back to the sessions"),
    ]

    def __init__(self, services: Services) -> None:
        super().__init__(id="archive")
        self.services = services
        self._cursor: tuple[str, str] | None = None
        self.restored: list[str] = []

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        yield SessionTable(self.services.now, id="archived")
        yield Static(
            "No archived sessions.  Press a on a session to archive it.", id="archive-empty"
        )
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "archive"
        self.query_one("#archive-empty").display = False
        self.load_first_page()

    @work(exclusive=True, group="archive", exit_on_error=False)
    async def load_first_page(self) -> None:
        page = await self.services.sessions.page(limit=self.PAGE_SIZE, archived=True)
        self._show(page, first=True)

    def _show(self, page: SessionPage, *, first: bool) -> None:
        table = self.query_one(SessionTable)
        self._cursor = page.cursor
        if first:
            table.show(page.sessions, more=page.cursor is not None)
        else:
            table.extend(page.sessions, more=page.cursor is not None)
        empty = not table.sessions
        table.display = not empty
        self.query_one("#archive-empty").display = empty

    @on(SessionTable.NearEnd)
    def _near_end(self) -> None:
        if self._cursor is not None:
            self.load_next_page(self._cursor)

    @work(exclusive=True, group="archive-more", exit_on_error=False)
    async def load_next_page(self, cursor: tuple[str, str]) -> None:
        page = await self.services.sessions.page(limit=self.PAGE_SIZE, after=cursor, archived=True)
        self._show(page, first=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open", "restore"):
            return True if self.query_one(SessionTable).selected is not None else None
        return True

    @on(DataTable.RowSelected, "#archived")
    def action_open(self) -> None:
        info = self.query_one(SessionTable).selected
        if info is not None:
            self.app.post_message(OpenSession(info.id))

    def action_restore(self) -> None:
        info = self.query_one(SessionTable).selected
        if info is not None:
            self.restore(info.id)

    @work(group="restore", exit_on_error=False)
    async def restore(self, session_id: str) -> None:
        info = await self.services.sessions.set_archived(session_id, False)
        table = self.query_one(SessionTable)
        table.remove_session(session_id)
        self.restored.append(session_id)
        empty = not table.sessions
        table.display = not empty
        self.query_one("#archive-empty").display = empty
        self.notify(
            f"Restored “{safe_line(session_title(info), 60)}”.", title="Restored", markup=False
        )
