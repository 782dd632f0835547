"""Pick the event to fork a session at; the new session then opens ready for a turn."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from memory.records import Event, SessionInfo
from runtime import payloads
from tui.messages import OpenSession
from tui.safe_text import safe_line
from tui.screens.base import TurnkeepScreen
from tui.services import Services
from tui.widgets.header import TitleHeader
from tui.widgets.session_table import session_title

__all__ = ["ForkScreen"]


def event_summary(event: Event) -> str:
    """One line saying what an event holds (stored text neutralised)."""
    try:
        payload = event.payload
    except Exception:  # an unreadable payload is listed, not fatal
        return "(unreadable payload)"
    text = payloads.searchable_text(event.kind, payload, 400)
    return safe_line(text, 160) or "—"


class ForkScreen(TurnkeepScreen[None]):
    """A session's events, newest last; Enter forks the session at the one under the cursor.

    Loads the newest :attr:`LIMIT` events (the fork point is usually recent).
    """

    LIMIT: ClassVar[int] = 1000
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter", "fork", "Fork here", tooltip="Fork the session at this event", priority=True
        ),
        Binding("escape", "app.pop_screen", "Back", tooltip="Back without forking"),
    ]

    def __init__(self, services: Services, info: SessionInfo, at_seq: int | None = None) -> None:
        super().__init__(id="fork")
        self.services = services
        self.info = info
        self.at_seq = at_seq
        self.events: list[Event] = []

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        yield Static(
            Text(f"Fork “{safe_line(session_title(self.info), 60)}” at an event"),
            id="fork-help",
        )
        table: DataTable[Text] = DataTable(id="fork-events", cursor_type="row")
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "fork"
        table = self.query_one("#fork-events", DataTable)
        table.add_column("Seq", key="seq", width=6)
        table.add_column("Turn", key="turn", width=5)
        table.add_column("Kind", key="kind", width=12)
        table.add_column("Content", key="content")
        self.load()

    @work(exclusive=True, group="fork-load", exit_on_error=False)
    async def load(self) -> None:
        before = None if self.at_seq is None else self.at_seq + self.LIMIT // 2
        self.events = await self.services.sessions.newest(self.info.id, self.LIMIT, before=before)
        table = self.query_one("#fork-events", DataTable)
        for event in self.events:
            table.add_row(
                Text(str(event.seq), justify="right"),
                Text(str(event.turn), justify="right"),
                Text(safe_line(event.kind, 12)),
                Text(event_summary(event), no_wrap=True, overflow="ellipsis"),
                key=str(event.seq),
            )
        if self.events:
            seqs = [event.seq for event in self.events]
            row = seqs.index(self.at_seq) if self.at_seq in seqs else len(seqs) - 1
            table.move_cursor(row=row, animate=False)
        table.focus()

    @on(DataTable.RowSelected, "#fork-events")
    def action_fork(self) -> None:
        table = self.query_one("#fork-events", DataTable)
        if not self.events or not 0 <= table.cursor_row < len(self.events):
            return
        self.fork(self.events[table.cursor_row].seq)

    @work(exclusive=True, group="fork", exit_on_error=False)
    async def fork(self, seq: int) -> None:
        fork = await self.services.sessions.fork(self.info, at=seq)
        self.notify(
            f"Forked at event {seq} into “{safe_line(fork.title or fork.id, 60)}”.",
            title="Forked",
            markup=False,
        )
        self.dismiss(None)
        self.app.post_message(OpenSession(fork.id))
