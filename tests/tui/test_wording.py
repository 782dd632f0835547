"""Counts agree with their nouns, and a cancelled turn is worded as everywhere else."""

from __future__ import annotations

from pathlib import Path

from memory import EventDraft, open_embedded
from tests.tui.conftest import (
    HANG_SCRIPT,
    SIZE,
    make_app,
    screen_text,
    settings_for,
    settle,
    wait_until,
    write_script,
)
from tests.tui.seed import session_id
from tui.screens.dialogs import ConfirmDialog
from tui.screens.health import HealthScreen
from tui.screens.session import SessionScreen
from tui.widgets.events import AssistantMessageView, MarkerView


async def test_one_of_a_thing_is_singular(db_file: Path) -> None:
    memory = await open_embedded(db_file)
    try:
        await memory.store(session_id(1), [EventDraft("user", {"role": "user", "content": "hi"})])
    finally:
        await memory.close()
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        home = screen_text(app)
        assert "1 session" in home and "1 sessions" not in home
        assert "· 1 event" in home and "1 events" not in home
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "and its 1 event will be deleted" in app.screen.message
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, HealthScreen)
        health = screen_text(app)
        assert "1 session ·" in health and "1 event" in health, health
        assert "1 sessions" not in health and "1 events" not in health


async def test_a_turn_cancelled_live_says_cancelled_by_the_user(
    db_file: Path, tmp_path: Path
) -> None:
    script = write_script(tmp_path, HANG_SCRIPT)
    app = make_app(settings_for(db_file, script=script))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await pilot.press(*"why?", "enter")
        await wait_until(
            pilot,
            lambda: any(v.text.endswith("here is why") for v in screen.query(AssistantMessageView)),
            "the answer streams",
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.running, "cancelled")
        await settle(pilot)
        marker = list(screen.query(MarkerView))[-1]
        assert marker.kind == "cancelled"
        assert marker.text.startswith("cancelled by the user")
        assert "cancelled by you" not in screen_text(app)
