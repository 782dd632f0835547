"""The scrolling replay of a session: a bounded window of mounted events.

A session may hold tens of thousands of events; mounting them all is what makes other
chat UIs take minutes to open a long chat. This log only ever holds a window of at most
:attr:`EventLog.MAX_MOUNTED` event widgets. It opens at the newest events; when the
reader scrolls near the top it asks for older ones (:class:`EventLog.NeedOlder`), and
when the window has let go of the newest events and the reader scrolls back down, it asks
for newer ones (:class:`EventLog.NeedNewer`). The screen reads them in a worker and hands
them back with :meth:`EventLog.prepend` / :meth:`EventLog.extend`; widgets far from the
viewport are removed as new ones arrive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import MountError

from memory.records import Event
from tui.widgets.events import EventView
from tui.widgets.superseded import OLD_ATTEMPT, SHOWING_OLD_ATTEMPTS, OldAttempts, SupersededView
from tui.widgets.tool_views import ToolView
from tui.widgets.views import view_for

__all__ = ["EventLog"]

V = TypeVar("V", bound=EventView)


class EventLog(VerticalScroll):
    """A window over a session's events, newest at the bottom.

    Attributes:
        oldest_seq: ``seq`` of the oldest mounted stored event (``None`` when empty).
        newest_seq: ``seq`` of the newest mounted stored event.
        has_older: stored events exist before :attr:`oldest_seq`.
        at_end: the window reaches the newest stored event (live turns append here).
    """

    #: Home and End go to the session's start and end, not the loaded window's
    #: (the screen reads the target directly: :mod:`tui.screens.session_navigate`).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "screen.go_start", "Start", show=False),
        Binding("end", "screen.go_end", "End", show=False),
    ]

    #: The most event widgets mounted at once.
    MAX_MOUNTED: ClassVar[int] = 240
    #: Ask for more when the viewport is this many lines from either end.
    PREFETCH_LINES: ClassVar[int] = 8

    DEFAULT_CSS = """
    EventLog { height: 1fr; padding: 1 0 0 0; }
    EventLog > .log--placeholder { color: $text-muted; padding: 1 2; height: auto; }
    EventLog > .-search-hit { background: $accent 25%; }
    EventLog > .log--error { height: auto; padding: 1 2; color: $error; }
    EventLog > .log--error > Static { height: auto; margin-bottom: 1; }
    EventLog > .-old-attempt { display: none; }
    EventLog.-show-old-attempts > .-old-attempt { display: block; opacity: 55%; }
    """

    class NeedOlder(Message):
        """The reader is near the top and older events exist."""

        def __init__(self, log: EventLog, before: int) -> None:
            super().__init__()
            self.log = log
            self.before = before

        @property
        def control(self) -> EventLog:
            return self.log

    class NeedNewer(Message):
        """The reader is near the bottom of a window that let go of the newest events."""

        def __init__(self, log: EventLog, after: int) -> None:
            super().__init__()
            self.log = log
            self.after = after

        @property
        def control(self) -> EventLog:
            return self.log

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.oldest_seq: int | None = None
        self.newest_seq: int | None = None
        self.has_older = False
        self.at_end = True
        self._waiting = False
        self._follow = True
        self._landing = False
        #: Tool calls and results are shown expanded (the screen's "expand tools").
        self.tools_expanded = False
        #: Superseded attempts (regenerated or edited): hidden unless asked for.
        self.old_attempts = OldAttempts()

    # -- what the screen calls ---------------------------------------------------------

    def _views_for(self, events: Sequence[Event], now: datetime) -> list[EventView]:
        views = [view_for(event, now) for event in events]
        if self.old_attempts.note(views):
            self.old_attempts.mark(self.views)  # a marker newer than what is mounted
        self.old_attempts.mark(views)
        if self.tools_expanded:
            for view in views:
                if isinstance(view, ToolView):
                    view.expanded = True
        return views

    def expand_tools(self, expanded: bool) -> None:
        """Expand or collapse every tool call and result, now and as more load."""
        self.tools_expanded = expanded
        for view in self.query(ToolView):
            view.expanded = expanded

    def show_old_attempts(self, shown: bool) -> None:
        """Show superseded attempts (dimmed) or hide them again."""
        self.set_class(shown, SHOWING_OLD_ATTEMPTS)
        for marker in self.query(SupersededView):
            marker.refresh()

    def mark_old_attempt(self, from_seq: int) -> None:
        """Hide the newest views, from the one stored as ``from_seq`` on: an attempt
        being superseded now (its live views may not all know their ``seq``)."""
        for view in reversed(self.views):
            if view.seq is not None and view.seq < from_seq:
                break
            view.add_class(OLD_ATTEMPT)

    @property
    def views(self) -> list[EventView]:
        """The mounted event views, oldest first."""
        return [child for child in self.children if isinstance(child, EventView)]

    async def show_newest(self, events: Sequence[Event], *, has_older: bool, now: datetime) -> None:
        """Replace the window with the newest events of the session and scroll to the end.

        Returns once they are laid out and on screen.
        """
        await self.remove_children()
        self.oldest_seq = events[0].seq if events else None
        self.newest_seq = events[-1].seq if events else None
        self.has_older = has_older
        self.at_end = True
        self._waiting = False
        self._follow = True
        # No page is asked for until the view has landed at the end: at scroll_y 0 (before
        # the anchor's scroll lands) the log would look "near the top" and read older
        # events, which used to win the race and keep the oldest view of the first page.
        self._landing = True
        try:
            if events:
                await self.mount_all(self._views_for(events, now))
            await self._refreshed()
            await self._land_at_end()
        finally:
            self._landing = False
        # From the end, older pages are only read when the newest events do not fill
        # the screen (or once the reader scrolls up).
        self._check_edges()

    async def show_around(
        self, events: Sequence[Event], *, focus: int, has_older: bool, at_end: bool, now: datetime
    ) -> EventView | None:
        """Replace the window with ``events`` (a window around ``focus``) and show that one.

        The focused event is highlighted and scrolled to the middle of the viewport;
        older and newer events load as the reader scrolls either way.
        """
        await self.remove_children()
        self.oldest_seq = events[0].seq if events else None
        self.newest_seq = events[-1].seq if events else None
        self.has_older = has_older
        self.at_end = at_end
        self._waiting = True  # no paging until the hit is in view
        self._follow = False
        self.release_anchor()
        if events:
            await self.mount_all(self._views_for(events, now))
        await self._refreshed()
        target = self.highlight(focus)
        await self._refreshed()
        # A busy frame can lay the views out after the first scroll was clamped: centre
        # again (a few frames at most) before paging may start from the wrong place.
        for _ in range(5):
            if target is None or target.region.overlaps(self.region):
                break
            self.scroll_to_center(target, animate=False, immediate=True)
        if target is not None:
            # Heights of the new views can settle a frame after the first layout, which
            # leaves the target off-centre (even out of view): centre it again.
            self.highlight(focus)
            await self._refreshed()
        self._waiting = False
        self._check_edges()
        return target

    def hold_paging(self) -> None:
        """Ask for no more pages until the window is replaced (:meth:`show_around`)."""
        self._waiting = True

    def highlight(self, seq: int) -> EventView | None:
        """Mark the mounted event ``seq`` as the current search hit and scroll to it."""
        target = None
        for view in self.views:
            if view.seq == seq:
                view.add_class("-search-hit")
                target = view
            else:
                view.remove_class("-search-hit")
        if target is not None:
            self._follow = False
            self.release_anchor()
            self.scroll_to_center(target, animate=False, immediate=True)
        return target

    async def _land_at_end(self) -> None:
        """Anchor to the newest event and wait (a few frames at most) until it shows."""
        for _ in range(20):
            if not self.is_attached:
                return
            viewport = self.scrollable_content_region.height
            if viewport <= 0:
                return  # not laid out (a screen that is not shown): nothing to land
            if self.virtual_size.height <= viewport:
                self._keep_following()
                return  # it all fits: read from the top
            if not self.is_anchored:
                self.anchor()
            if self.max_scroll_y > 0 and self.scroll_y >= self.max_scroll_y:
                return
            self.scroll_end(animate=False, immediate=True, x_axis=False)
            await self._refreshed()

    def following(self) -> bool:
        """The window reaches the newest event and the reader has not scrolled away."""
        return (
            self.at_end
            and self._follow
            and (self.is_vertical_scroll_end or (self.is_anchored and not self._anchor_released))
        )

    async def prepend(self, events: Sequence[Event], *, has_older: bool, now: datetime) -> None:
        """Add older events above the window, keeping what the reader sees in place."""
        self.has_older = has_older
        first = self._first_view()
        if not events or first is None:
            if events:
                self.oldest_seq, self.newest_seq = events[0].seq, events[-1].seq
                await self.mount_all(self._views_for(events, now))
            self._waiting = False
            return
        self.oldest_seq = events[0].seq
        # A reader who opened at the end and has not scrolled away stays at the newest
        # event even if the anchor's scroll has not landed yet.
        at_bottom = self.following()
        # Where the first old view sits in the viewport; it must stay there.
        offset = first.virtual_region.y - self.scroll_y
        if not at_bottom:
            self.release_anchor()
        await self.mount_all(self._views_for(events, now), before=first)
        if at_bottom:
            await self._refreshed()
            self.anchor()  # the reader was at the newest event: stay there
            await self._refreshed()
        else:
            # Heights of the new views can take a frame or two to settle; scrolling past
            # the old end before they do would be clamped (and re-anchor at the bottom).
            for _ in range(3):
                await self._refreshed()
                if first.parent is not self:
                    return
                target = first.virtual_region.y - offset
                if target <= self.max_scroll_y:
                    self.scroll_to(y=target, animate=False, immediate=True)
                    break
        await self._evict()

    async def extend(self, events: Sequence[Event], *, at_end: bool, now: datetime) -> None:
        """Add newer stored events below the window (after it let go of them)."""
        self.at_end = at_end
        if not events:
            self._waiting = False
            return
        self.newest_seq = events[-1].seq
        if self.oldest_seq is None:
            self.oldest_seq = events[0].seq
        await self.mount_all(self._views_for(events, now))
        await self._refreshed()
        await self._evict()

    async def append_stored(self, events: Sequence[Event], *, now: datetime) -> None:
        """Add stored events another writer added after the window's newest event.

        Only for a window that reaches the newest event (:attr:`at_end`). A reader at
        the newest event follows them; one who scrolled up keeps their place.
        """
        if not events or not self.at_end:
            return
        follow = self.following()
        await self.query(".log--placeholder").remove()
        self.newest_seq = max(self.newest_seq or 0, events[-1].seq)
        if self.oldest_seq is None:
            self.oldest_seq = events[0].seq
        await self.mount_all(self._views_for(events, now))
        await self._refreshed()
        if follow:
            self._stick_to_end()
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        await self._evict()

    async def _refreshed(self) -> None:
        """Wait until what was just mounted is laid out and on screen."""
        done = asyncio.Event()
        self.call_after_refresh(done.set)
        await done.wait()

    async def add_live(self, view: V) -> V:
        """Append a live event (a turn in progress) and follow it."""
        if self.tools_expanded and isinstance(view, ToolView):
            view.expanded = True
        self.old_attempts.note([view])
        follow = self.is_vertical_scroll_end  # the reader is at the newest event
        try:
            await self.mount(view)
        except MountError:  # the screen is closing (the app quits mid-turn)
            return view
        if follow:
            self.call_after_refresh(self._stick_to_end)
        return view

    def _stick_to_end(self) -> None:
        if self.scrollable_content_region.height > 0 and self.max_scroll_y > 0:
            self.anchor()

    def watch_virtual_size(self) -> None:
        self._keep_following()

    def _keep_following(self) -> None:
        """Stick to the newest event once the content is taller than the viewport.

        Textual's anchor also bottom-aligns content shorter than the viewport; a short
        session reads better from the top, so the anchor is only held while it scrolls.
        """
        viewport = self.scrollable_content_region.height
        if viewport <= 0:  # not laid out yet
            return
        overflows = self.virtual_size.height > viewport
        if not overflows and self.is_anchored:
            self.anchor(False)
        elif overflows and self._follow and not self.is_anchored:
            self.anchor()

    def saved_up_to(self, seq: int) -> None:
        """Live events were stored up to ``seq``: the window now reaches it."""
        if self.at_end:
            self.newest_seq = max(self.newest_seq or 0, seq)
            if self.oldest_seq is None:
                self.oldest_seq = min((v.seq for v in self.views if v.seq is not None), default=seq)

    # -- windowing ---------------------------------------------------------------------

    def _first_view(self) -> EventView | None:
        for child in self.children:
            if isinstance(child, EventView):
                return child
        return None

    async def _evict(self) -> None:
        """Remove views beyond :attr:`MAX_MOUNTED` from the side farther from the reader.

        Only views at least a screen away from what is shown are removed, so reading is
        never disturbed. Ends the current request: the log may ask for more afterwards.
        """
        views = self.views
        excess = len(views) - self.MAX_MOUNTED
        if excess > 0:
            height = self.scrollable_content_region.height
            top, bottom = self.scroll_y - height, self.scroll_y + 2 * height
            above = [v for v in views if v.virtual_region.bottom <= top]
            below = [v for v in views if v.virtual_region.y >= bottom]
            if below and len(below) >= len(above) and not self.is_vertical_scroll_end:
                doomed = below[-excess:]
                remaining = views[: len(views) - len(doomed)]
                self.newest_seq = next(
                    (v.seq for v in reversed(remaining) if v.seq is not None), None
                )
                self.at_end = False
                self.release_anchor()
                await self.remove_children(doomed)
                await self._refreshed()
            elif above:
                doomed = above[:excess]
                kept = views[len(doomed)]
                shift = kept.virtual_region.y - doomed[0].virtual_region.y
                self.oldest_seq = next(
                    (v.seq for v in views[len(doomed) :] if v.seq is not None), None
                )
                self.has_older = True
                scroll_y = self.scroll_y
                with self.app.batch_update():
                    await self.remove_children(doomed)
                    self.scroll_to(
                        y=max(0, scroll_y - shift),
                        animate=False,
                        immediate=True,
                        release_anchor=False,
                    )
                await self._refreshed()
        self._waiting = False
        self._check_edges()

    def _check_edges(self) -> None:
        """Ask for more events when the viewport nears an end of the window."""
        if self._waiting or self._landing or not self.is_mounted:
            return
        if self.has_older and self.oldest_seq is not None and self.scroll_y <= self.PREFETCH_LINES:
            self._waiting = True
            self.post_message(self.NeedOlder(self, self.oldest_seq))
        elif (
            not self.at_end
            and self.newest_seq is not None
            and self.scroll_y >= self.max_scroll_y - self.PREFETCH_LINES
        ):
            self._waiting = True
            self.post_message(self.NeedNewer(self, self.newest_seq))

    def action_page_up(self) -> None:
        """A page up at once (see :meth:`_page`)."""
        self._page(-1)

    def action_page_down(self) -> None:
        """A page down at once (see :meth:`_page`)."""
        self._page(1)

    def _page(self, direction: int) -> None:
        """Scroll a page at once, not animated: an animated page starts from where the
        previous one's animation has got to, so a held or quickly repeated key lost
        most of its pages (40 PageUps moved 11 turns)."""
        page = self.scrollable_content_region.height
        self.scroll_to(y=self.scroll_y + direction * page, animate=False, immediate=True)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._check_edges()

    def request_failed(self) -> None:
        """The screen could not read the events asked for; allow asking again."""
        self._waiting = False
