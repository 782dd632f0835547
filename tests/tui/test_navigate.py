"""Moving through a 50,000-event session without walking it (issue 13).

The session is seeded with raw SQL (``bench.seed``), two events a turn, so it has 25,000
turns. Each jump must land on its target with the log still holding a bounded window.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.seed import migrated, seed_long_session
from tests.tui.conftest import SIZE, make_app, screen_text, settings_for, settle, wait_until
from tui.screens.go_to import GoToTurnDialog
from tui.screens.session import SessionScreen
from tui.widgets.event_log import EventLog

EVENTS = 50_000
SID = "019a0000000000000000000000000000000000000000long"


@pytest.fixture(scope="module")
def long_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = migrated(tmp_path_factory.mktemp("navigate") / "turnkeep.db")
    seed_long_session(path, SID, EVENTS, payload_bytes=80, kinds=("user", "assistant"))
    return path


def landed_seq(log: EventLog) -> int | None:
    hits = [v.seq for v in log.views if v.has_class("-search-hit")]
    return hits[0] if hits else None


async def opened(pilot: Any) -> EventLog:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen), "the session opens")
    # (Under load the screen is current a moment before its history is mounted.)
    await wait_until(
        pilot,
        lambda: any(log.views for log in app.screen.query(EventLog)),
        "events shown",
    )
    await settle(pilot)
    return app.screen.query_one(EventLog)


async def jumped(pilot: Any, log: EventLog, seq: int, what: str) -> None:
    await wait_until(pilot, lambda: landed_seq(log) == seq, what)
    await settle(pilot)
    # Landed in view, and only a bounded window is mounted.
    view = next(v for v in log.views if v.seq == seq)
    assert log.scrollable_content_region.height > 0
    top, bottom = log.scroll_y, log.scroll_y + log.scrollable_content_region.height
    assert view.virtual_region.y < bottom and view.virtual_region.bottom > top
    assert len(log.views) <= EventLog.MAX_MOUNTED
    assert f"#{seq} " in screen_text(pilot.app)


async def test_go_to_turn_start_and_end_in_a_50000_event_session(long_db: Path) -> None:
    app = make_app(settings_for(long_db), resume=SID)
    async with app.run_test(size=SIZE) as pilot:
        log = await opened(pilot)
        assert log.newest_seq == EVENTS
        # Go to turn 12,345: its user message is seq 24,689.
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, GoToTurnDialog), "the dialog")
        await pilot.press(*"12345", "enter")
        await jumped(pilot, log, 24_689, "landed on turn 12,345")
        assert log.oldest_seq is not None and log.oldest_seq >= 24_689 - 50
        assert app.focused is log
        # Next and previous question, from where the reader landed.
        await pilot.press("right_square_bracket")
        await jumped(pilot, log, 24_691, "the next question")
        await pilot.press("left_square_bracket", "left_square_bracket")
        await jumped(pilot, log, 24_687, "two questions back")
        # Home: the first event, read directly (not ten turns per press).
        await pilot.press("home")
        await jumped(pilot, log, 1, "the start")
        assert not log.has_older
        await pilot.press("alt+down")
        await jumped(pilot, log, 3, "the next question from the start")
        # End: back at the newest event.
        await pilot.press("end")
        await wait_until(pilot, lambda: log.newest_seq == EVENTS, "the newest window")
        await settle(pilot)
        assert log.at_end and log.is_vertical_scroll_end
        assert f"#{EVENTS} " in screen_text(app)
        # Turn 25,000 (the last) from the end.
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, GoToTurnDialog), "the dialog")
        await pilot.press(*"25000", "enter")
        await jumped(pilot, log, 49_999, "landed on turn 25,000")


async def test_out_of_range_turns_are_refused_in_the_dialog(long_db: Path) -> None:
    app = make_app(settings_for(long_db), resume=SID)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, GoToTurnDialog), "the dialog")
        dialog = app.screen
        await pilot.press(*"25001", "enter")
        await wait_until(
            pilot,
            lambda: any("from 1 to 25,000" in str(n.message) for n in app._notifications),
            "told the range",
        )
        assert app.screen is dialog  # still asking
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen), "cancelled")


async def test_no_question_before_the_first(long_db: Path) -> None:
    app = make_app(settings_for(long_db), resume=SID)
    async with app.run_test(size=SIZE) as pilot:
        log = await opened(pilot)
        await pilot.press("ctrl+home")
        await jumped(pilot, log, 1, "the start")
        await pilot.press("alt+up")
        await wait_until(
            pilot,
            lambda: any("No earlier question" in str(n.message) for n in app._notifications),
            "told there is none",
        )
        assert landed_seq(log) == 1


async def test_a_burst_of_page_ups_moves_a_page_each(long_db: Path) -> None:
    """Review finding: 40 PageUps sent at once moved 11 turns (each animated page started
    from where the last one's animation had got to)."""
    from textual import events

    app = make_app(settings_for(long_db), resume=SID)
    async with app.run_test(size=SIZE) as pilot:
        log = await opened(pilot)
        await pilot.press("ctrl+l")  # the reader scrolls the history
        await wait_until(pilot, lambda: app.focused is log, "the history focused")
        page = log.scrollable_content_region.height
        # Older events read in until three pages fit above the view, and the history
        # stays clear of its top edge after them (where it would read older events in
        # and move: the test would then depend on how fast that read is).
        room = 3 * page + log.PREFETCH_LINES
        for _ in range(10):
            if log.scroll_y > room:
                break
            await pilot.press("pageup")
            await settle(pilot)
            await pilot.press("end")
            await settle(pilot)
        start = log.scroll_y
        assert start > room, (start, page)
        for _ in range(3):  # queued at once, as a terminal delivers a held key
            key = events.Key("pageup", None)
            key.set_sender(app)
            app._driver.send_message(key)  # type: ignore[union-attr]
        await settle(pilot)
        assert log.scroll_y == start - 3 * page
