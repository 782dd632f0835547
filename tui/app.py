"""The Textual application: wiring only. Screens live in :mod:`tui.screens`."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from memory import MemoryBackend
from runtime.settings import Settings
from tui.screens.home import HomeScreen

__all__ = ["TurnkeepApp"]


class TurnkeepApp(App[int]):
    """turnkeep's TUI.

    Args:
        settings: built once by the entry point.
        continue_last: open the most recent session after start.
        resume: open this session id after start.
    """

    CSS_PATH = "app.tcss"
    TITLE = "turnkeep"
    BINDINGS = [Binding("q", "quit", "Quit")]

    def __init__(
        self, settings: Settings, *, continue_last: bool = False, resume: str | None = None
    ) -> None:
        super().__init__()
        self.settings = settings
        self.continue_last = continue_last
        self.resume = resume
        self.memory: MemoryBackend | None = None

    def on_mount(self) -> None:
        self.push_screen(HomeScreen())

    async def on_unmount(self) -> None:
        if self.memory is not None:
            await self.memory.close()
