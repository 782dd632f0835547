"""The screens shown before the database is open: opening, and the error screen.

The error screen shows the typed error's title, message and what to do about it, with
Retry, Health and Quit. It never shows a traceback.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Horizontal, Middle, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Label, LoadingIndicator, Static

from tui.safe_text import safe_line, safe_text
from tui.services import Services, error_parts
from tui.widgets.header import TitleHeader

__all__ = ["ErrorChoice", "OpeningScreen", "StartupErrorScreen"]

ErrorChoice = Literal["retry", "quit"]


class OpeningScreen(Screen[None]):
    """Shown while the database opens (and migrates)."""

    def __init__(self, services: Services) -> None:
        super().__init__(classes="opening")
        self.services = services

    def compose(self) -> ComposeResult:
        # No header here: this screen may be replaced before it finishes mounting, and
        # Header's deferred title update fails on a removed screen.
        with Middle(), Center():
            yield LoadingIndicator()
            yield Label(Text(f"Opening {self.services.location}"), id="opening-label")


class StartupErrorScreen(Screen[ErrorChoice]):
    """The database could not be opened: say why and what to do.

    Dismisses with ``"retry"`` or ``"quit"``; Health is shown on top of it.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "retry", "Retry", tooltip="Try to open the database again"),
        Binding("h", "health", "Health", tooltip="Show what turnkeep knows about the database"),
        Binding("q", "quit", "Quit", tooltip="Quit turnkeep"),
        Binding("left", "app.focus_previous", "Previous", show=False),
        Binding("right", "app.focus_next", "Next", show=False),
    ]

    def __init__(self, services: Services, error: BaseException) -> None:
        super().__init__(classes="startup-error")
        self.services = services
        self.error = error

    def compose(self) -> ComposeResult:
        title, message, hint = error_parts(self.error)
        yield TitleHeader()
        with Middle(), Center(), Vertical(id="error-box"):
            yield Static(Text(f"✗ {safe_line(title)}", style="bold"), id="error-title")
            yield Static(Text(safe_text(message)), id="error-message")
            if hint:
                yield Static(
                    Text.assemble(("What to do  ", "bold"), safe_text(hint)), id="error-hint"
                )
            where = safe_line(f"{self.services.settings.mode} · {self.services.location}")
            yield Static(Text.assemble(("Database  ", "bold"), where), id="error-where")
            with Horizontal(id="error-buttons"):
                yield Button("Retry (r)", id="retry", variant="primary")
                yield Button("Health (h)", id="health")
                yield Button("Quit (q)", id="quit", variant="error")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "cannot open the database"
        self.query_one("#error-box").border_title = "turnkeep could not start"
        self.query_one("#retry", Button).focus()

    @on(Button.Pressed, "#retry")
    def action_retry(self) -> None:
        self.dismiss("retry")

    @on(Button.Pressed, "#quit")
    def action_quit(self) -> None:
        self.dismiss("quit")

    @on(Button.Pressed, "#health")
    def action_health(self) -> None:
        from tui.screens.health import HealthScreen

        self.app.push_screen(HealthScreen(self.services, startup_error=self.error))
