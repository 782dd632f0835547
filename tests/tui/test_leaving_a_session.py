"""Leaving a session with Esc loses nothing typed, and leaves nothing that was never used.

Review findings: Esc with an unsent message threw it away; ``n`` then Esc left an
empty "Untitled" session in the list.
"""

from __future__ import annotations

from pathlib import Path

from memory import open_embedded
from tests.tui.conftest import SIZE, make_app, settings_for, settle, wait_until
from tests.tui.seed import seed_demo
from tui.screens.home import HomeScreen
from tui.screens.session import SessionScreen
from tui.widgets.inputs import PromptArea


async def session_ids(path: Path) -> set[str]:
    memory = await open_embedded(path)
    try:
        page = await memory.list_sessions(limit=1000)
        return {s.id for s in page.sessions}
    finally:
        await memory.close()


async def open_prompt(pilot, app) -> tuple[SessionScreen, PromptArea]:  # type: ignore[no-untyped-def]
    screen = app.screen
    assert isinstance(screen, SessionScreen)
    prompt = screen.query_one("#prompt", PromptArea)
    await wait_until(pilot, lambda: not prompt.disabled and prompt.has_focus, "prompt ready")
    return screen, prompt


async def test_an_unsent_message_is_still_there_when_the_session_is_opened_again(
    db_file: Path,
) -> None:
    await seed_demo(db_file)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the newest session
        screen, prompt = await open_prompt(pilot, app)
        first = screen.session_id
        await pilot.press(*"half a thought")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
        await settle(pilot)
        await pilot.press("enter")  # the same session (still selected)
        screen, prompt = await open_prompt(pilot, app)
        assert screen.session_id == first
        assert prompt.text == "half a thought"
        await pilot.press(*" finished", "escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
        await settle(pilot)
        await pilot.press("enter")
        screen, prompt = await open_prompt(pilot, app)
        assert prompt.text == "half a thought finished"
        prompt.clear()  # emptied: nothing kept
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
        assert first not in app.services.drafts  # type: ignore[attr-defined]


async def test_a_new_session_left_without_a_word_is_not_kept(db_file: Path) -> None:
    await seed_demo(db_file)
    before = await session_ids(db_file)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        screen, _prompt = await open_prompt(pilot, app)
        new = screen.session_id
        assert new is not None and new not in before
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
        await settle(pilot)
    assert await session_ids(db_file) == before


async def test_a_new_session_with_a_draft_or_a_message_is_kept(db_file: Path) -> None:
    await seed_demo(db_file)
    before = await session_ids(db_file)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        screen, _prompt = await open_prompt(pilot, app)
        drafted = screen.session_id
        await pilot.press(*"not yet sent", "escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
        await settle(pilot)
        await pilot.press("n")
        screen, _prompt = await open_prompt(pilot, app)
        sent = screen.session_id
        await pilot.press(*"hello", "enter")
        await wait_until(pilot, lambda: not screen.running, "the turn ends")
        await wait_until(pilot, lambda: app.save_state.pending == 0, "saved")  # type: ignore[attr-defined]
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
        await settle(pilot)
    assert await session_ids(db_file) == before | {drafted, sent}
