"""The home screen: recent sessions, newest activity first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from memory import MemoryLayerError, SessionPage
from runtime.store import open_memory
from tui.cli.format import relative_time

if TYPE_CHECKING:
    from tui.app import TurnkeepApp

__all__ = ["HomeScreen"]


class HomeScreen(Screen[None]):
    """Recent sessions."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="sessions", cursor_type="row")
        yield Static("", id="empty")
        yield Footer()

    @property
    def tk_app(self) -> TurnkeepApp:
        from tui.app import TurnkeepApp

        assert isinstance(self.app, TurnkeepApp)
        return self.app

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Title", "Last activity", "Turns", "Model")
        self.query_one("#empty").display = False
        self.load()

    @work(exclusive=True, group="home-load", exit_on_error=False)
    async def load(self) -> None:
        app = self.tk_app
        try:
            if app.memory is None:
                app.memory = await open_memory(app.settings)
            page = await app.memory.list_sessions(limit=100)
        except MemoryLayerError as exc:
            self.show_error(exc)
            return
        self.show_page(page)

    def show_error(self, exc: MemoryLayerError) -> None:
        self.query_one(DataTable).display = False
        empty = self.query_one("#empty", Static)
        empty.update(f"{exc.title}\n\n{exc.message}\n\n{exc.hint}")
        empty.display = True

    def show_page(self, page: SessionPage) -> None:
        from memory.records import parse_ts

        table = self.query_one(DataTable)
        table.clear()
        if not page.sessions:
            table.display = False
            empty = self.query_one("#empty", Static)
            empty.update(
                "No sessions yet.\n\nStart one with `turnkeep ask --new \"hello\"`, "
                "or press n for a new session."
            )
            empty.display = True
            return
        for info in page.sessions:
            table.add_row(
                info.title or "(untitled)",
                relative_time(parse_ts(info.updated_at)),
                str(info.turns),
                "/".join(p for p in (info.provider, info.model) if p) or "-",
                key=info.id,
            )
