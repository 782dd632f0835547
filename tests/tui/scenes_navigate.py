"""Snapshot scenes of issue 13's navigation: go to turn in a 50,000-event session, the
resume picker and the described command palette.

Builders import the shared helpers of :mod:`tests.tui.scenes` when called, so that
module can list these scenes without an import cycle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.pilot import Pilot

from tui.widgets.event_log import EventLog

if TYPE_CHECKING:
    from tests.tui.scenes import Scene

__all__ = ["NAVIGATE_SCENES"]

LONG_ID = "019a0000000000000000000000000000000000000000long"


def _long(home: Path) -> Path:
    from bench.seed import migrated, seed_long_session
    from tests.tui.scenes import prepare_home

    path = migrated(prepare_home(home))
    seed_long_session(path, LONG_ID, 50_000, payload_bytes=120, kinds=("user", "assistant"))
    return path


async def _until_still(pilot: Pilot[Any], log: Any) -> None:
    """Settle until the log's window and scroll position stop changing."""
    from tests.tui.scenes import settle

    state = None
    for _ in range(40):
        await settle(pilot)
        await pilot.pause(0.05)
        now = (log.oldest_seq, log.newest_seq, log.scroll_y, log.virtual_size.height)
        if now == state:
            return
        state = now


def go_to_turn_dialog(home: Path) -> Scene:
    """The "go to turn" dialog over a 50,000-event session, a number typed."""
    from tests.tui.scenes import Scene, _app, settle, wait_until
    from tui.screens.go_to import GoToTurnDialog

    _long(home)

    async def drive(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        # The conversation opens in a worker and then gives the prompt the focus: wait
        # for it, or the prompt under the dialog is drawn focused or not by chance.
        screen: Any = pilot.app.screen
        await wait_until(pilot, lambda: screen.conversation is not None, "conversation open")
        log = screen.query_one(EventLog)
        # The dialog is the subject: the history's scrollbar, whose thumb is drawn in
        # eighths of a cell, differed by one glyph now and then under load (a flake).
        log.styles.scrollbar_size_vertical = 0
        await _until_still(pilot, log)  # a page read after layout moves the scrollbar
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, GoToTurnDialog), "dialog")
        await pilot.press(*"12345")
        await settle(pilot)
        await pilot.wait_for_scheduled_animations()  # the dialog's fade-in, on a busy machine
        await _until_still(pilot, log)

    return Scene("go-to-turn-dialog", _app(resume=LONG_ID), drive)


def landed_on_turn(home: Path) -> Scene:
    """Turn 12,345 of 25,000, read straight from the database and highlighted."""
    from tests.tui.scenes import Scene, _app, settle, wait_until

    _long(home)

    async def drive(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("ctrl+g", *"12345", "enter")
        await wait_until(pilot, lambda: bool(pilot.app.screen.query(".-search-hit")), "landed")
        await settle(pilot)

    return Scene("landed-on-turn", _app(resume=LONG_ID), drive)


def resume_picker(home: Path) -> Scene:
    """``turnkeep --resume``: recent sessions, filtered as you type."""
    from tests.tui.scenes import Scene, _app, prepare_home, settle, wait_until
    from tests.tui.seed import seed_demo
    from tui.screens.resume import ResumePicker

    asyncio.run(seed_demo(prepare_home(home)))

    async def drive(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ResumePicker), "picker")
        screen: Any = pilot.app.screen
        await pilot.press(*"the")
        await wait_until(pilot, lambda: screen.shown_query == "the", "filtered")
        await settle(pilot)

    return Scene("resume-picker", _app(resume=""), drive)


def session_palette(home: Path) -> Scene:
    """The command palette of a session: actions found by name or by what they do,
    each described on its second line."""
    from textual.command import CommandList, CommandPalette

    from tests.tui.scenes import Scene, _app, prepare_home, settle, wait_until
    from tests.tui.seed import seed_demo, session_id

    asyncio.run(seed_demo(prepare_home(home)))

    async def drive(pilot: Pilot[Any]) -> None:
        from tui.screens.session import SessionScreen

        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SessionScreen), "opened")
        await settle(pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette), "palette")
        # Typed, so hits are ranked by score: with no query the providers' batches
        # arrive in an order that varies between runs (Textual keeps them as a set).
        await pilot.press(*"tag")
        listing = pilot.app.screen.query_one(CommandList)
        await wait_until(
            pilot,
            lambda: (
                listing.option_count > 0 and str(listing.get_option_at_index(0).hit.text) == "Tags"
            ),  # type: ignore[attr-defined]
            "commands",
        )
        await settle(pilot)

    return Scene("session-palette", _app(resume=session_id(1)), drive)


NAVIGATE_SCENES: dict[str, Callable[[Path], Scene]] = {
    "go-to-turn-dialog": go_to_turn_dialog,
    "landed-on-turn": landed_on_turn,
    "resume-picker": resume_picker,
    "session-palette": session_palette,
}
