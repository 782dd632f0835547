"""``turnkeep --resume`` without an id: the picker; with a prefix: one session or the picker.

Driven with Pilot on the demo history (a real SQLite file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.tui.conftest import SIZE, make_app, settings_for, settle, wait_until
from tests.tui.seed import session_id
from tui.screens.home import HomeScreen
from tui.screens.resume import ResumePicker
from tui.screens.session import SessionScreen


def listed(picker: ResumePicker) -> list[str]:
    from textual.widgets import OptionList

    listing = picker.query_one("#resume-list", OptionList)
    return [
        str(listing.get_option_at_index(i).id)
        for i in range(listing.option_count)
        if listing.get_option_at_index(i).id is not None
    ]


async def picker_shown(pilot: Any, query: str) -> ResumePicker:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, ResumePicker), "the picker opens")
    picker: ResumePicker = app.screen
    await wait_until(pilot, lambda: picker.shown_query == query, f"the list for {query!r}")
    await settle(pilot)
    return picker


async def test_picker_filters_as_you_type_and_enter_opens(demo_db: Path) -> None:
    app = make_app(settings_for(demo_db), resume="")
    async with app.run_test(size=SIZE) as pilot:
        picker = await picker_shown(pilot, "")
        everything = listed(picker)
        assert len(everything) == 6
        assert everything[0] == session_id(1)  # newest activity first
        await pilot.press(*"release")
        await wait_until(pilot, lambda: picker.shown_query == "release", "filtered")
        assert listed(picker) == [session_id(5)]
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen), "opened")
        assert app.screen.session_id == session_id(5)
        # Back goes to the list, with the session selected.
        await settle(pilot)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")


async def test_arrows_choose_and_id_prefixes_match(demo_db: Path) -> None:
    app = make_app(settings_for(demo_db), resume="")
    async with app.run_test(size=SIZE) as pilot:
        picker = await picker_shown(pilot, "")
        await pilot.press(*session_id(3)[:12])
        await wait_until(pilot, lambda: picker.shown_query == session_id(3)[:12], "by id")
        assert listed(picker)[0] == session_id(3)
        await pilot.press("ctrl+a", "ctrl+k")  # clear the filter
        await wait_until(pilot, lambda: picker.shown_query == "", "cleared")
        third = listed(picker)[2]
        await pilot.press("down", "down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen), "opened")
        assert app.screen.session_id == third


async def test_nothing_matches_and_escape_closes(demo_db: Path) -> None:
    app = make_app(settings_for(demo_db), resume="")
    async with app.run_test(size=SIZE) as pilot:
        picker = await picker_shown(pilot, "")
        await pilot.press(*"no such thing")
        await wait_until(pilot, lambda: picker.shown_query == "no such thing", "filtered")
        assert listed(picker) == []
        await pilot.press("enter")  # nothing to open: the picker stays
        await pilot.pause()
        assert app.screen is picker
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")


async def test_a_unique_prefix_opens_the_session(demo_db: Path) -> None:
    app = make_app(settings_for(demo_db), resume=session_id(3)[:12])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen), "opened")
        assert app.screen.session_id == session_id(3)


async def test_an_ambiguous_prefix_opens_the_picker_filtered(demo_db: Path) -> None:
    prefix = session_id(1)[:10]
    app = make_app(settings_for(demo_db), resume=prefix)
    async with app.run_test(size=SIZE) as pilot:
        picker = await picker_shown(pilot, prefix)
        assert sorted(listed(picker)) == sorted(session_id(n) for n in range(1, 7))
        notes = [n for n in app._notifications if n.title == "Ambiguous session id"]
        assert notes and "is the start of more than 5" in notes[0].message
