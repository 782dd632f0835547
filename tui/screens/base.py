"""What every turnkeep screen shares: failed workers are reported up to the app, and an
event view's request for its full text opens the pager."""

from __future__ import annotations

from typing import TypeVar

from textual import on
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tui.messages import WorkerFailed
from tui.widgets.events import EventView

__all__ = ["TurnkeepScreen"]

R = TypeVar("R")


class TurnkeepScreen(Screen[R]):
    """A screen whose failed workers are shown by the app's one error handler.

    Textual's worker state messages do not bubble, so each screen passes failures up.
    """

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.post_message(WorkerFailed(event.worker.error, event.worker.group))

    @on(EventView.FullTextRequested)
    def _show_full_text(self, message: EventView.FullTextRequested) -> None:
        from tui.screens.full_text import FullTextScreen

        message.stop()
        self.app.push_screen(FullTextScreen(message.title, message.text))
