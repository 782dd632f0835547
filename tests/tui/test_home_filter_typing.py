"""Keys typed right after ``/`` on the home screen land in the filter (none lost)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import events
from textual.widgets import Input

from tests.tui.conftest import SIZE, make_app, settings_for, settle, wait_until
from tests.tui.seed import seed_many_sessions
from tui.screens.home import HomeScreen


def burst(app: Any, keys: list[str]) -> None:
    """Queue ``keys`` at once, as a terminal delivers keys typed fast (no pause between)."""
    for key in keys:
        char = {"slash": "/", "space": " "}.get(key, key if len(key) == 1 else None)
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)


async def test_keys_pressed_right_after_slash_land_in_the_filter(db_file: Path) -> None:
    await seed_many_sessions(db_file, 30)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("slash", "ctrl+u", *"session 12")
        await settle(pilot)
        assert app.screen.query_one("#filter", Input).value == "session 12"
        assert isinstance(app.screen, HomeScreen)  # "s" did not open the search


async def test_a_burst_of_keys_after_slash_lands_in_the_filter(db_file: Path) -> None:
    await seed_many_sessions(db_file, 30)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, ["slash", "ctrl+u", *"session", "space", *"12"])
        filter_input = app.screen.query_one("#filter", Input)
        # The last key lands in the filter, or a lost "s" opened the search screen.
        await wait_until(
            pilot,
            lambda: filter_input.value.endswith("2") or not isinstance(app.screen, HomeScreen),
            "every key handled",
        )
        await settle(pilot)
        assert filter_input.value == "session 12"
        assert isinstance(app.screen, HomeScreen)


async def test_a_slash_typed_in_the_filter_is_text(db_file: Path) -> None:
    await seed_many_sessions(db_file, 3)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"a", "slash", "b")
        await settle(pilot)
        assert app.screen.query_one("#filter", Input).value == "a/b"


async def test_a_backspace_in_a_burst_deletes_the_key_before_it(db_file: Path) -> None:
    await seed_many_sessions(db_file, 3)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, ["slash", "a", "b", "backspace", "c"])
        filter_input = app.screen.query_one("#filter", Input)
        await wait_until(pilot, lambda: filter_input.value.endswith("c"), "typed")
        await settle(pilot)
        assert filter_input.value == "ac"
