"""Earlier attempts in the event log: the ``superseded`` marker and the events it names.

Regenerating an answer or editing a question keeps the earlier attempt stored and
opens the new turn with a ``superseded`` marker (:mod:`runtime.attempts`). The log
shows the marker and hides the attempt's events; the reader shows them again, dimmed,
with Enter on the marker or the screen's "Earlier attempts" key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.message import Message

from runtime import payloads
from runtime.context import SupersededRanges
from tui.widgets.events import EventView, MarkerView

__all__ = ["OLD_ATTEMPT", "SHOWING_OLD_ATTEMPTS", "OldAttempts", "SupersededView"]

#: The CSS class of a view that belongs to a superseded attempt.
OLD_ATTEMPT = "-old-attempt"
#: The CSS class of an event log that shows superseded attempts (dimmed).
SHOWING_OLD_ATTEMPTS = "-show-old-attempts"

_WHAT = {"regenerate": "Answer regenerated", "edit": "Question edited"}


class SupersededView(MarkerView):
    """The marker that opens a turn which replaced an earlier attempt."""

    DEFAULT_CSS = """
    SupersededView { color: $text-muted; }
    SupersededView:focus { background: $boost; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space", "toggle_attempts", "Earlier attempt", tooltip="Show or hide it"),
    ]

    class Toggled(Message):
        """The reader asked to show or hide the earlier attempts."""

    def __init__(
        self, payload: Mapping[str, Any], *, seq: int | None, turn: int, when: str = ""
    ) -> None:
        super().__init__("superseded", "", seq=seq, turn=turn, when=when)
        self.can_focus = True
        self.range = payloads.superseded_range(payload)
        reason = payload.get("reason")
        self.reason = reason if isinstance(reason, str) else ""
        old_turn = payload.get("turn")
        self.old_turn = old_turn if isinstance(old_turn, int) else None

    def _showing(self) -> bool:
        parent = self.parent
        return parent is not None and parent.has_class(SHOWING_OLD_ATTEMPTS)

    def render(self) -> RenderableType:
        line = Text("↺ ", style="bold")
        line.append(_WHAT.get(self.reason, "Earlier attempt replaced"), style="bold")
        if self.range is not None:
            low, high = self.range
            count = high - low + 1
            events = f"{count} event" if count == 1 else f"{count:,} events"
            line.append(f" · earlier attempt ({events}) ")
            line.append(
                "shown dimmed above" if self._showing() else "kept, hidden",
                style="italic",
            )
            line.append(" · f4 shows/hides", style="dim")
        if self.when:
            line.append(f" · {self.when}", style="dim")
        return line

    def on_click(self, event: Click) -> None:
        event.stop()
        self.action_toggle_attempts()

    def action_toggle_attempts(self) -> None:
        """Show or hide the earlier attempts (all of them, in the whole log)."""
        self.post_message(self.Toggled())

    def copy_text(self) -> str:
        """What ``y`` copies: the marker's line."""
        return str(self.render())


class OldAttempts:
    """Which mounted views of a log belong to superseded attempts."""

    def __init__(self) -> None:
        self.ranges = SupersededRanges()
        self.count = 0

    def note(self, views: Iterable[EventView]) -> bool:
        """Learn the ranges of the markers among ``views``; whether there were any."""
        found = False
        for view in views:
            if isinstance(view, SupersededView) and view.range is not None:
                low, high = view.range
                self.ranges.add(_Marker(low, high))
                self.count += 1
                found = True
        return found

    def mark(self, views: Iterable[EventView]) -> None:
        """Give the views inside a known range the old-attempt class."""
        if not self.ranges:
            return
        for view in views:
            if view.seq is not None and view in self.ranges:
                view.add_class(OLD_ATTEMPT)


class _Marker:
    """A ``superseded`` event as :class:`SupersededRanges` reads it."""

    kind = "superseded"

    def __init__(self, low: int, high: int) -> None:
        self.payload = {"from_seq": low, "to_seq": high}
