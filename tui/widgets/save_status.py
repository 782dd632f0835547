"""The status line of a session and the banner shown while saving fails.

Both are given the persistence worker's state (attributes down); neither reads anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from tui.safe_text import safe_line
from tui.services import tilde

if TYPE_CHECKING:
    from textual.timer import Timer

    from runtime.persistence import WorkerState

__all__ = ["SaveBanner", "StatusLine", "save_label", "saving_fails"]


def saving_fails(state: WorkerState | None) -> bool:
    """Saving is failing: a write failed and events wait to be retried.

    The worker flips between ``retrying`` and ``saving`` on each attempt; the error
    stays set until a write succeeds, so that is what marks the failure episode.
    """
    return (
        state is not None
        and state.last_error is not None
        and state.pending > 0
        and state.status != "stopped"
    )


def save_label(state: WorkerState | None, *, disabled: bool = False) -> tuple[str, str]:
    """A short save-state label and its CSS class (``ok``, ``busy``, ``failed``, ``off``)."""
    if disabled or (state is not None and state.disabled):
        return "memory off: nothing is saved", "off"
    if state is None:
        return "not started", "off"
    if saving_fails(state):
        return f"⚠ failed, retrying ({state.pending:,} queued)", "failed"
    if state.status == "stopped":
        return "✗ saving stopped", "failed"
    if state.pending or state.status == "saving":
        return f"↻ saving {max(state.pending, 1):,}", "busy"
    return "✓ saved", "ok"


class StatusLine(Static):
    """``provider · model``, its tools, what the turn is doing, and the save state."""

    DEFAULT_CSS = """
    StatusLine { height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    StatusLine > .status--model { color: $text; }
    StatusLine > .status--running { color: $accent; text-style: bold; }
    StatusLine > .status--ok { color: $success; }
    StatusLine > .status--busy { color: $warning; }
    StatusLine > .status--failed { color: $error; text-style: bold; }
    StatusLine > .status--off { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "status--model",
        "status--running",
        "status--ok",
        "status--busy",
        "status--failed",
        "status--off",
    }

    #: A save must run this long before the line says "saving". Most save points take a
    #: millisecond: without the delay the line would flicker saving/saved, and a busy
    #: worker (two state changes per save point) would repaint the UI on every one of
    #: them, each repaint costing the UI loop a millisecond or two. "saved" and failures
    #: are shown at once.
    BUSY_DELAY: ClassVar[float] = 0.2

    provider: reactive[str] = reactive("")
    model: reactive[str] = reactive("")
    #: ``tools: calculator, search_sessions`` or ``no tools`` (empty: not known yet).
    tools: reactive[str] = reactive("")
    activity: reactive[str] = reactive("")
    save_state: reactive[Any] = reactive(None, repaint=False)
    memory_disabled: reactive[bool] = reactive(False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._painted_label: tuple[str, str] | None = None
        self._busy_timer: Timer | None = None

    def watch_save_state(self, state: WorkerState | None) -> None:
        label = save_label(state, disabled=self.memory_disabled)
        if label == self._painted_label:
            self._cancel_busy()
        elif label[1] != "busy":
            self._cancel_busy()
            self.refresh()
        elif self._busy_timer is None:
            self._busy_timer = self.set_timer(self.BUSY_DELAY, self._show_busy)

    def _show_busy(self) -> None:
        self._busy_timer = None
        self.refresh()

    def _cancel_busy(self) -> None:
        if self._busy_timer is not None:
            self._busy_timer.stop()
            self._busy_timer = None

    def render(self) -> Text:
        left = Text()
        model = safe_line(" · ".join(p for p in (self.provider, self.model) if p)) or "starting…"
        left.append(f"● {model}", style=self.get_component_rich_style("status--model"))
        if self.tools:
            left.append(f" · {safe_line(self.tools)}")
        if self.activity:
            left.append(
                f"   {self.activity}", style=self.get_component_rich_style("status--running")
            )
        label, kind = save_label(self.save_state, disabled=self.memory_disabled)
        self._painted_label = (label, kind)
        right = Text(label, style=self.get_component_rich_style(f"status--{kind}"))
        width = self.content_region.width or 80
        gap = max(1, width - left.cell_len - right.cell_len)
        return Text.assemble(left, " " * gap, right)


class SaveBanner(Static):
    """A persistent warning while the persistence worker cannot save.

    Hidden while saving works; shown, with the last error, while it retries.
    """

    DEFAULT_CSS = """
    SaveBanner {
        display: none;
        height: auto;
        padding: 0 2;
        background: $error 25%;
        color: $text;
        border-left: outer $error;
    }
    SaveBanner.-shown { display: block; }
    """

    # No repaint of its own: the banner is hidden while saving works, and while it
    # fails the watcher updates (and so repaints) it. A busy worker changes state twice
    # per save point; each needless repaint request costs the UI loop.
    save_state: reactive[Any] = reactive(None, repaint=False)

    def watch_save_state(self, state: WorkerState | None) -> None:
        failing = saving_fails(state)
        self.set_class(failing, "-shown")
        if not failing or state is None:
            return
        events = f"{state.pending:,} event{'s' if state.pending != 1 else ''}"
        message = Text.assemble(
            ("⚠ Saving failed: ", "bold"),
            tilde(state.last_error or "the database did not accept the last save point"),
            f"\nturnkeep keeps retrying; {events} wait in order and are saved as soon as "
            "the database answers again.",
        )
        self.update(message)
