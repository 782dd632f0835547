"""Text inputs that hold still in headless runs, so screenshots are reproducible."""

from __future__ import annotations

from textual.widgets import Input

__all__ = ["StillInput"]


class StillInput(Input):
    """An :class:`~textual.widgets.Input` whose cursor does not blink when headless.

    A blinking cursor would make every snapshot depend on when it was taken.
    """

    def on_mount(self) -> None:
        if self.app.is_headless:
            self.cursor_blink = False
