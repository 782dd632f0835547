"""Search every conversation from the TUI, and find inside a session.

:class:`SearchScreen` (``s`` / ``ctrl+f`` on the home screen) searches titles and
content as you type: each keystroke restarts one exclusive worker that waits
:attr:`SearchScreen.DEBOUNCE` for the next key, then runs one ranked query (one round
trip remotely) on the database thread, so typing never waits for the database; the
query of a prefix typed past is cancelled there too (``memory.drivers.cancellable``).
Each hit shows the session title, time, role and a snippet with the matches
highlighted (:class:`~tui.widgets.search_hits.HitList`: one line-API widget painting
only the rows in view; a result set's rows and lines are made ahead, a few per loop
turn, then swapped in, so no single callback holds the loop for long); Enter opens the
session at the hit. A keystroke repaints the field, the list and the status row, never
the layout of the screen (the largest stall while typing was that layout pass).

:class:`SessionFind` is mixed into the session screen: opening at a hit (a window of
events around it, the hit highlighted, more loading as the reader scrolls either way),
and find with next/previous over the whole session, loading the window around a match
that is not mounted yet. Stored text is shown through :mod:`tui.safe_text` as Rich
``Text`` (never markup).
"""

from __future__ import annotations

import asyncio
import gc
from time import monotonic
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.geometry import Size
from textual.reactive import Reactive
from textual.screen import ModalScreen
from textual.strip import Strip
from textual.widgets import Footer, Input, Label, Static

from memory.search_records import SearchHit
from runtime.semantic_search import SearchMode
from runtime.sessions_search import parse_query, unused_note
from tui.collector import FrozenBudget, refreeze
from tui.messages import OpenSession
from tui.safe_text import safe_line
from tui.screens.base import TurnkeepScreen
from tui.semantic import searcher_of, semantic_enabled
from tui.widgets.event_log import EventLog
from tui.widgets.header import TitleHeader
from tui.widgets.inputs import StillInput
from tui.widgets.search_hits import HitList, hit_rows

if TYPE_CHECKING:
    from tui.services import Services

__all__ = ["FindDialog", "SearchInput", "SearchScreen", "SessionFind"]


#: Added to the status line when Enter finds no hit to open.
_NOTHING_TO_OPEN = " · nothing to open"


def _too_short(query: str) -> bool:
    """Only single Latin letters or digits: as the first key of a word, not worth a search.

    Two-letter words (``go``, ``db``, ``CI``) are searched: the word index finds them as
    whole words, and inside longer words among the newest events (tens of ms at a
    million events). ``turnkeep search`` runs single letters too; a CJK character is
    a word of its own and is searched.
    """
    parsed = parse_query(query)
    return not parsed.include and all(term.isascii() and len(term) < 2 for term in parsed.short)


class SearchInput(StillInput):
    """The search field: a keystroke repaints the field without a layout pass.

    Textual's ``Input`` sets its virtual width to the text's width on every change,
    and that reactive asks for a layout of the whole screen (a full repaint, the
    largest stall while typing). The field's size never depends on its text (its
    width and height are fixed), so here a changed virtual size only repaints it.
    Its own keys (Ctrl+U, Backspace, Enter...) act in the order typed (``StillInput``).
    """

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)


class SearchScreen(TurnkeepScreen[None]):
    """Search across every session; Enter opens the session at the selected hit."""

    AUTO_FOCUS = "#search-input"
    #: Typing waits this long for the next key before searching. Short (it counts in
    #: every keystroke's latency): a query is bounded (tens of ms at a million events,
    #: memory.sql.search_words) and a stale one is cancelled, so results follow the
    #: keys; a burst of keys (a paste) still runs one query.
    DEBOUNCE: ClassVar[float] = 0.015
    #: Hits shown: a screenful and a little more (each hit is two rows). Their rows are
    #: built on each new result set, so this bounds the work of a keystroke.
    LIMIT: ClassVar[int] = 25
    #: Hits read in at a time when the highlight reaches the last one, up to MAX_HITS.
    MORE: ClassVar[int] = 50
    MAX_HITS: ClassVar[int] = 500
    #: Hits whose rows are built in one turn of the event loop (see :meth:`_prepare`).
    HITS_PER_TURN: ClassVar[int] = 5
    #: Seconds without a change of the text after which frozen garbage is collected.
    PAUSE: ClassVar[float] = 2.0

    DEFAULT_CSS = """
    SearchScreen #search-input { margin: 0 1; }
    SearchScreen #search-status { color: $text-muted; padding: 0 2; height: 1; width: 1fr; }
    SearchScreen #search-results { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Back to the sessions"),
        Binding(
            "enter",
            "open_hit",
            "Open at hit",
            tooltip="Open the session at the selected hit",
            priority=True,  # from the search box too: Enter opens the best hit
        ),
        Binding("down", "focus_results", "Results", show=False),
        Binding("ctrl+f", "focus_input", "Edit search", tooltip="Edit the search text"),
        Binding(
            "f2",
            "cycle_mode",
            "Mode",
            tooltip="Rank by words (text), by meaning (semantic) or both (hybrid)",
        ),
    ]

    def __init__(self, services: Services, query: str = "") -> None:
        super().__init__(id="search")
        self.services = services
        self.initial = query
        self.hits: list[SearchHit] = []
        #: The query whose hits are shown (``None`` before the first search).
        self.shown_query: str | None = None
        #: The ranking asked for (``None``: the default) and the one that last ran.
        self.mode: SearchMode | None = None
        self.ran_mode: str = "text"
        self.mode_note: str | None = None
        #: What the status row shows (it is repainted only when this changes).
        self.status_shown: Text | str | None = None
        #: Hits asked for: LIMIT for each new text, more as the reader reaches the end.
        self.limit = self.LIMIT
        #: Hits and their rows made ahead by :meth:`_prepare` for the next :meth:`_show`.
        self._prepared: tuple[list[SearchHit], list[Strip]] | None = None
        #: The text Enter was pressed on before its results arrived: its best hit opens
        #: when they do (see :meth:`action_open_hit`).
        self._open_when_shown: str | None = None
        #: Freezes the heap after each result set's paint (only where the app froze its
        #: start-up heap, see :meth:`on_mount`).
        self._frozen: FrozenBudget | None = None
        #: When the search text last changed (a pause is used to collect garbage).
        self._last_key = 0.0

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        with Vertical():
            yield SearchInput(
                value=self.initial,
                placeholder='Search every conversation: words, "a phrase", -exclude',
                id="search-input",
            )
            yield Static("Type to search titles, messages and tool output.", id="search-status")
            yield HitList(id="search-results")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "search"
        # Every object alive now (the app, its screens, the session list) is left out
        # of the garbage collector's full passes while the screen is open: those passes
        # walked the whole heap for ~20 ms, the largest stall left while typing.
        # Objects made from here on are collected as usual. Only in the app that froze
        # its start-up heap (launch_tui): a test process keeps its collector as it is.
        # Once more after the first paint: the screen's own rendered lines (header,
        # footer, field) then stay out of those passes too (they walked ~15,000
        # objects for 1-5 ms; ~9,000 after).
        if self._freezes_heap:
            gc.freeze()
            self._frozen = FrozenBudget()
            self.call_after_refresh(self._frozen.freeze)
            self.set_interval(1.0, self._collect_in_pause)
        if self.initial:
            self.run_search(self.initial, debounce=0.0)

    def _collect_in_pause(self) -> None:
        """Free what the result sets left frozen once the person has paused typing.

        Only while this screen is shown: under a session opened at a hit, the person may
        be typing there (the collection waits for them to come back, or for this screen
        to close, which collects as well).
        """
        frozen = self._frozen
        if (
            frozen is not None
            and frozen.due
            and self.is_active  # the top screen, not one under a session
            and monotonic() - self._last_key > self.PAUSE
        ):
            frozen.collect()

    @property
    def _freezes_heap(self) -> bool:
        """Whether this screen freezes the heap while open (on mount; refreezes on unmount)."""
        return bool(getattr(self.app, "freeze_startup_heap", False))

    def on_unmount(self) -> None:
        if self._freezes_heap:
            # Once this screen is gone: free its widgets, keep start-up's objects frozen.
            self.app.call_later(refreeze)

    @on(Input.Changed, "#search-input")
    def _changed(self, event: Input.Changed) -> None:
        self._last_key = monotonic()
        if event.value == self._open_when_shown:
            # A key typed before Enter, handled after it: search now, as Enter asked.
            self.run_search(event.value, debounce=0.0)
            return
        self._open_when_shown = None  # typed on after Enter: that search is not wanted
        self.limit = self.LIMIT
        self.run_search(event.value, debounce=self.DEBOUNCE)

    @on(Input.Submitted, "#search-input")
    def _submitted(self, event: Input.Submitted) -> None:
        self._open_hit(event.value)

    @work(exclusive=True, group="search", exit_on_error=False)
    async def run_search(self, query: str, debounce: float) -> None:
        """Wait for the next key (a newer search cancels this one), then search."""
        if debounce:
            await asyncio.sleep(debounce)
        if not query.strip() or _too_short(query):
            self._show(query, [])
            return
        if not self.hits:
            # Only over an empty list: a status change costs a layout pass of the
            # screen, and with results shown the next ones replace them in place.
            self._status("Searching…")
        if semantic_enabled(self.services):
            outcome = await searcher_of(self.services).search(
                query, mode=self.mode, limit=self.limit
            )
            self.ran_mode, self.mode_note = outcome.mode, outcome.note
            await self._prepare(outcome.hits)
            self._show(query, outcome.hits)
            return
        hits = await self.services.sessions.search(query, limit=self.limit)
        await self._prepare(hits)
        self._show(query, hits)

    async def _prepare(self, hits: list[SearchHit]) -> None:
        """Make the rows of ``hits`` and paint them ahead, a little per loop turn.

        So that no single callback holds the loop for long while typing: the rows are
        built a few hits at a time, then :meth:`HitList.prepare` renders the lines in
        view; :meth:`_show` only swaps them in. A newer key cancels this midway.
        """
        if hits == self.hits:
            return
        results = self.query_one("#search-results", HitList)
        now, width = self.services.now(), results.row_width
        rows: list[Strip] = []
        for start in range(0, len(hits), self.HITS_PER_TURN):
            rows += hit_rows(hits[start : start + self.HITS_PER_TURN], now, width)
            await asyncio.sleep(0)
        self._prepared = (hits, rows)
        await results.prepare(rows)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cycle_mode":
            return semantic_enabled(self.services)
        return True

    def action_cycle_mode(self) -> None:
        """auto → text → semantic → hybrid → auto, and search again."""
        order: list[SearchMode | None] = [None, "text", "semantic", "hybrid"]
        self.mode = order[(order.index(self.mode) + 1) % len(order)]
        self.notify(f"Search mode: {self.mode or 'automatic'}", markup=False)
        self.run_search(self.query_one("#search-input", Input).value, debounce=0.0)

    def _mode_prefix(self) -> Text:
        """``hybrid · `` (and a fallback note) when semantic search is on."""
        if not semantic_enabled(self.services):
            return Text()
        asked = self.mode or "auto"
        prefix = Text(f"{self.ran_mode} ({asked}) · ", style="bold")
        if self.mode_note:
            prefix.append(safe_line(self.mode_note, 160) + " · ", style="yellow")
        error = self.services.semantic_error
        if error and not self.mode_note:
            prefix.append(safe_line(error, 160) + " · ", style="red")
        return prefix

    def _show(self, query: str, hits: list[SearchHit]) -> None:
        same = hits == self.hits
        previous = self.shown_query
        self.hits = hits
        self.shown_query = query
        prepared, self._prepared = self._prepared, None
        if not same:
            # Skipped when the next key finds the very same hits (no repaint at all).
            results = self.query_one("#search-results", HitList)
            now = self.services.now()
            if prepared is not None and prepared[0] is hits:
                rows = prepared[1]
            else:
                rows = hit_rows(hits, now, results.row_width)
            # More hits of the same text keep the highlight where the reader was.
            keep = (results.highlighted or 0) if query == previous else 0
            results.show(rows, hits, now, keep=keep)
            if self._frozen is not None:
                # What this result set leaves alive sits out the collector's later
                # passes (tui.collector.FrozenBudget).
                results.call_after_refresh(self._frozen.freeze)
        if not query.strip():
            status: Text | str = "Type to search titles, messages and tool output."
        elif _too_short(query):
            status = "Type 2 or more letters (a single letter matches everywhere)."
        elif hits:
            more = "+" if len(hits) == self.limit else ""
            line = f"{len(hits)}{more} hit{'s' if len(hits) != 1 else ''}, best first"
            status = self._mode_prefix().append(line)
        else:
            status = self._mode_prefix().append(
                f"No match for “{safe_line(query, 60)}” (words of 3+ letters match inside)"
            )
        unused = unused_note(query) if query.strip() and self.ran_mode != "semantic" else None
        if unused is not None and unused not in (self.mode_note or ""):
            # First: the line is one row, and what was left out explains the result.
            status = Text(safe_line(unused, 120) + " · ", style="yellow").append(
                status if isinstance(status, Text) else Text(status)
            )
        self._status(status)
        if self._open_when_shown is not None and query == self._open_when_shown:
            # Enter was pressed on this text before its results arrived.
            self._open_when_shown = None
            if hits:
                self._open(0)
            else:
                self._no_hit_to_open(query)

    def _status(self, status: Text | str) -> None:
        """Show ``status`` in its one-row line (a repaint of that row, no layout pass)."""
        if status != self.status_shown:
            self.status_shown = status
            self.query_one("#search-status", Static).update(status, layout=False)

    @on(HitList.AtEnd, "#search-results")
    def _at_end(self) -> None:
        """The reader reached the last hit: read more of them, if there may be more."""
        query = self.shown_query
        if query is None or len(self.hits) < self.limit or self.limit >= self.MAX_HITS:
            return
        self.limit = min(self.MAX_HITS, self.limit + self.MORE)
        self.run_search(query, debounce=0.0)

    @on(HitList.Selected, "#search-results")
    def _selected(self, event: HitList.Selected) -> None:
        self._open(event.index)

    def action_open_hit(self) -> None:
        """Enter: open the selected hit (see :meth:`_open_hit`)."""
        search_input = self.query_one("#search-input", Input)
        if self.focused is search_input:
            # The field takes it (``Input.Submitted``, :meth:`_submitted`) once it has
            # the keys typed before it: this binding is checked as the key arrives, and
            # keys typed fast are still queued in the field then.
            raise SkipAction
        self._open_hit(search_input.value)

    def _open_hit(self, query: str) -> None:
        """Open the selected hit of ``query``; before its results are shown (Enter right
        after typing), search for it now and open its best hit when they arrive."""
        if query != self.shown_query:
            self._open_when_shown = query
            self.run_search(query, debounce=0.0)
            return
        if not self.hits:
            self._no_hit_to_open(query)
            return
        highlighted = self.query_one("#search-results", HitList).highlighted
        self._open(highlighted if highlighted is not None else 0)

    def _no_hit_to_open(self, query: str) -> None:
        """Enter found no hit: say so in the status line (what else to type is in it)."""
        shown = self.status_shown
        line = shown.copy() if isinstance(shown, Text) else Text(shown or "")
        if not line.plain.endswith(_NOTHING_TO_OPEN):
            self._status(line.append(_NOTHING_TO_OPEN, style="bold"))

    def _open(self, index: int) -> None:
        if 0 <= index < len(self.hits):
            hit = self.hits[index]
            self.post_message(OpenSession(hit.session_id, at_seq=hit.seq or None))

    def action_focus_results(self) -> None:
        if self.hits:
            self.query_one("#search-results", HitList).focus()

    def action_focus_input(self) -> None:
        self.query_one("#search-input", Input).focus()

    def action_back(self) -> None:
        self.dismiss(None)


class FindDialog(ModalScreen[str | None]):
    """Ask what to find in the open session."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, query: str = "") -> None:
        # The app's dialog style (as go to turn and rename): the session stays in view
        # behind it, and it fits narrow terminals (it blanked the screen and ran off the
        # right edge at 60 columns).
        super().__init__(classes="dialog")
        self.initial = query

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Find in this session", id="dialog-title")
            yield StillInput(value=self.initial, id="find-input")
            yield Static(
                "Enter: the first match · F3 / shift+F3: next, previous · Esc to cancel",
                id="dialog-help",
                markup=False,
            )

    @on(Input.Submitted, "#find-input")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SessionFind:
    """Open-at-hit and find-in-session for the session screen (a mixin).

    The screen provides ``services``, ``session_id``, ``query_one``, ``notify``,
    ``app``, ``_set_info`` and ``open_conversation``.
    """

    #: Events read on each side of a hit.
    AROUND: ClassVar[int] = 20

    FIND_BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+f", "find", "Find", tooltip="Find in this session"),
        Binding("f3", "find_next", "Next match", tooltip="Go to the next match"),
        Binding("shift+f3", "find_previous", "Previous match", tooltip="Go to the previous match"),
    ]

    services: Services
    session_id: str | None
    find_query: str | None = None
    find_seqs: list[int]
    find_index: int = -1

    @work(exclusive=True, group="window", exit_on_error=False)
    async def load_around(self, session_id: str, seq: int, *, first: bool = False) -> None:
        """Show a window of events around ``seq`` with it highlighted."""
        screen: Any = self
        log = screen.query_one(EventLog)
        log.hold_paging()  # the window is about to be replaced: no page requests meanwhile
        sessions = self.services.sessions
        try:
            if first:
                screen._set_info(await sessions.get(session_id))
            events, at_end = await sessions.around(session_id, seq, self.AROUND)
        except Exception:
            log.request_failed()  # paging may ask again; the error is shown by the app
            raise
        await log.show_around(
            events,
            focus=seq,
            has_older=bool(events) and events[0].seq > 1,
            at_end=at_end,
            now=self.services.now(),
        )
        if first:
            screen.post_message(screen.Loaded(session_id, len(events)))
            screen.open_conversation()

    def action_find(self) -> None:
        screen: Any = self

        def found(query: str | None) -> None:
            if query:
                self.find(query)

        screen.app.push_screen(FindDialog(self.find_query or ""), found)

    @work(exclusive=True, group="find", exit_on_error=False)
    async def find(self, query: str) -> None:
        """Find every match in the session (oldest first) and go to the first one."""
        screen: Any = self
        if self.session_id is None:
            return
        seqs = await self.services.sessions.find_in_session(self.session_id, query)
        self.find_query = query
        self.find_seqs = seqs
        self.find_index = -1
        if not self.find_seqs:
            screen.notify(f"No match for “{safe_line(query, 40)}” in this session.", markup=False)
            return
        note = unused_note(query)
        if note is not None:  # words left out are named, as in search
            screen.notify(safe_line(note, 200), markup=False)
        self._go_to_match(0)

    def _go_to_match(self, index: int) -> None:
        screen: Any = self
        seqs = getattr(self, "find_seqs", [])
        if not seqs or self.session_id is None:
            screen.notify("Nothing to go to: press ctrl+f to find.", markup=False)
            return
        self.find_index = index % len(seqs)
        seq = seqs[self.find_index]
        screen.sub_title = f"match {self.find_index + 1} of {len(seqs)}"
        log = screen.query_one(EventLog)
        if log.highlight(seq) is None:
            self.load_around(self.session_id, seq)

    def action_find_next(self) -> None:
        self._go_to_match(self.find_index + 1)

    def action_find_previous(self) -> None:
        self._go_to_match(self.find_index - 1)
