"""Enter on the search screen before the results of the text typed have arrived."""

from __future__ import annotations

from pathlib import Path

from tests.tui.conftest import (
    SIZE,
    make_app,
    open_search,
    screen_text,
    settings_for,
    settle,
    wait_until,
)
from tests.tui.seed import seed_demo, seed_long_session
from tests.tui.test_home_filter_typing import burst
from tests.tui.test_search_screen import plant
from tui.screens.search import SearchScreen
from tui.screens.session import SessionScreen


async def _planted(db_file: Path, seqs: list[int]) -> str:
    """The demo sessions and a 40-turn one holding "needle-174" at ``seqs``; its id."""
    await seed_demo(db_file)
    sid = await seed_long_session(db_file, 40)
    await plant(db_file, sid, seqs, "needle-174")
    return sid


async def test_enter_right_after_typing_opens_the_best_hit(db_file: Path) -> None:
    sid = await _planted(db_file, [45])
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_search(pilot)
        burst(app, [*"needle-174", "enter"])  # as fast as a terminal delivers them
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, SessionScreen) or screen.shown_query == "needle-174",
            "the session opened, or the results shown",
        )
        await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen), "session opened")
        assert app.screen.session_id == sid and app.screen.at_seq == 45


async def test_enter_with_the_results_shown_opens_the_selected_hit(db_file: Path) -> None:
    await _planted(db_file, [45, 50])
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_search(pilot)
        await pilot.press(*"needle-174")
        await wait_until(pilot, lambda: screen.shown_query == "needle-174", "results")
        assert [hit.seq for hit in screen.hits] == [50, 45]
        await pilot.press("down", "down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen), "session opened")
        assert app.screen.at_seq == 45


async def test_enter_with_no_hit_says_so(db_file: Path) -> None:
    await seed_demo(db_file)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_search(pilot)
        burst(app, [*"zzqqxx", "enter"])
        await wait_until(pilot, lambda: screen.shown_query == "zzqqxx", "results")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        assert "nothing to open" in screen_text(app)
        await pilot.press("enter")  # once more: said once
        await settle(pilot)
        assert screen_text(app).count("nothing to open") == 1


async def test_ctrl_u_then_typing_then_enter_in_one_burst(db_file: Path) -> None:
    sid = await _planted(db_file, [45])
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_search(pilot)
        await pilot.press(*"old")
        await wait_until(pilot, lambda: screen.shown_query == "old", "results")
        # Ctrl+U acts before the letters typed after it, Enter after them.
        burst(app, ["ctrl+u", *"needle-174", "enter"])
        await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen), "session opened")
        assert app.screen.session_id == sid and app.screen.at_seq == 45
