"""The resume picker: ``turnkeep --resume`` without an id (like ``claude -r``).

Recent sessions, newest activity first; typing filters them by title and by the start
of their id as you type; Enter opens the highlighted one. The filter reads one page
from the database per keystroke in an exclusive worker (a stale read is cancelled).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from memory.records import SessionInfo, parse_ts
from tui.format import plural, relative_time
from tui.safe_text import safe_line
from tui.services import Services
from tui.widgets.inputs import StillInput
from tui.widgets.session_table import session_model, session_title

__all__ = ["ResumePicker", "picker_line"]


def picker_line(info: SessionInfo, now_text: str) -> Text:
    """One entry: title, then when, turns, model and the short id (dim)."""
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(session_title(info), style="bold")
    line.append(f"\n  {now_text} · {plural(info.turns, 'turn')} · ", style="dim")
    line.append(session_model(info), style="dim")
    line.append(f" · {safe_line(info.id[:12])}", style="dim")
    return line


class ResumePicker(ModalScreen[str | None]):
    """Pick a session to resume; dismisses with its id, or ``None`` on Esc.

    Args:
        services: the app's services (the open database).
        query: the filter to start with (a prefix that was ambiguous, for example).
    """

    #: Sessions listed at once (the filter narrows them; more is a keystroke away).
    LIMIT: ClassVar[int] = 50
    #: Sessions found by the start of their id, listed first.
    ID_MATCHES: ClassVar[int] = 10

    DEFAULT_CSS = """
    ResumePicker { align: center top; }
    ResumePicker > Vertical { width: 90; height: 80%; margin-top: 2; padding: 0 1;
                              border: round $accent; background: $surface; }
    ResumePicker #resume-title { text-style: bold; margin-bottom: 1; }
    ResumePicker OptionList { height: 1fr; border: none; padding: 0; }
    ResumePicker #resume-help { color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Close the picker"),
        Binding("down", "move(1)", "Next", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
        Binding("pagedown", "move(10)", "Page down", show=False),
        Binding("pageup", "move(-10)", "Page up", show=False),
    ]

    def __init__(self, services: Services, query: str = "") -> None:
        super().__init__()
        self.services = services
        self.initial = query
        #: The filter whose results are listed (tests wait for it).
        self.shown_query: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Resume a session", id="resume-title")
            yield StillInput(
                value=self.initial,
                placeholder="Type to filter by title or id",
                id="resume-filter",
            )
            yield OptionList(id="resume-list")
            yield Static("↑↓ choose · Enter open · Esc close", id="resume-help")

    def on_mount(self) -> None:
        self.query_one("#resume-filter", Input).focus()
        self.refresh_list(self.initial)

    @on(Input.Changed, "#resume-filter")
    def _changed(self, event: Input.Changed) -> None:
        self.refresh_list(event.value)

    @work(exclusive=True, group="resume-list", exit_on_error=False)
    async def refresh_list(self, text: str) -> None:
        """List the sessions matching ``text`` (id prefix first, then title matches)."""
        sessions = self.services.sessions
        query = text.strip()
        found: list[SessionInfo] = []
        if query:
            for session_id in await sessions.ids_with_prefix(query, self.ID_MATCHES):
                info = await sessions.find(session_id)
                if info is not None:
                    found.append(info)
        page = await sessions.page(limit=self.LIMIT, title_filter=query or None, pinned_first=True)
        seen = {info.id for info in found}
        found += [info for info in page.sessions if info.id not in seen]
        now = self.services.now()
        options = [
            Option(picker_line(info, relative_time(parse_ts(info.updated_at), now)), id=info.id)
            for info in found
        ]
        listing = self.query_one("#resume-list", OptionList)
        listing.clear_options()
        if options:
            listing.add_options(options)
            listing.highlighted = 0
        else:
            listing.add_option(
                Option(Text(f"No session matches {safe_line(repr(query))}."), disabled=True)
            )
        self.shown_query = text

    def action_move(self, by: int) -> None:
        listing = self.query_one("#resume-list", OptionList)
        if listing.option_count == 0:
            return
        current = listing.highlighted if listing.highlighted is not None else 0
        listing.highlighted = max(0, min(listing.option_count - 1, current + by))

    @on(Input.Submitted, "#resume-filter")
    def _submitted(self) -> None:
        listing = self.query_one("#resume-list", OptionList)
        if listing.highlighted is None:
            return
        option = listing.get_option_at_index(listing.highlighted)
        if option.id is not None and not option.disabled:
            self.dismiss(option.id)

    @on(OptionList.OptionSelected, "#resume-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
