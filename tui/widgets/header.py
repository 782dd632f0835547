"""Textual's ``Header``, with a title watcher that survives a header without its title.

Textual 8's ``Header`` watches the app's and the screen's title and, on a change, queries
its ``HeaderTitle`` child. When a screen is pushed while the previous one's header is
still being composed or already removed (``turnkeep --resume ID`` opens the session
screen at start), that query fails and the exception takes the app down (seen in a
fresh-clone test run). :class:`TitleHeader` watches the same titles and skips a header
that has no title widget at that moment; the next title change updates it.
"""

from __future__ import annotations

from textual.css.query import NoMatches
from textual.dom import NoScreen
from textual.events import Mount
from textual.widget import Widget
from textual.widgets import Header
from textual.widgets._header import HeaderTitle

__all__ = ["TitleHeader"]


class TitleHeader(Header):
    """A ``Header`` whose title updates never fail (see the module docstring)."""

    def _on_mount(self, event: Mount) -> None:
        event.prevent_default()  # replaces Header._on_mount, which has the failing query
        Widget._on_mount(self, event)

        async def set_title() -> None:
            try:
                self.query_one(HeaderTitle).update(self.format_title())
            except (NoScreen, NoMatches):
                pass

        self.watch(self.app, "title", set_title)
        self.watch(self.app, "sub_title", set_title)
        self.watch(self.screen, "title", set_title)
        self.watch(self.screen, "sub_title", set_title)
