"""Saving fails during a session: a banner and a notification, cleared on recovery.

The fault is real: another connection adds a trigger that makes the database refuse
every new event (as a full disk or a revoked write permission would), then drops it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.tui.conftest import (
    SIZE,
    TOOL_SCRIPT,
    make_app,
    settings_for,
    settle,
    wait_until,
    write_script,
)
from tui.screens.dialogs import ConfirmDialog
from tui.screens.session import SessionScreen
from tui.widgets.save_status import SaveBanner, StatusLine, save_label, saving_fails


def refuse_writes(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TRIGGER refuse_events BEFORE INSERT ON conversation_events "
            "BEGIN SELECT RAISE(ABORT, 'disk quota exceeded'); END"
        )


def accept_writes(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER refuse_events")


async def test_banner_and_notification_while_saving_fails(demo_db: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path, TOOL_SCRIPT)
    app = make_app(settings_for(demo_db, script=script))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        banner = screen.query_one(SaveBanner)
        assert not banner.has_class("-shown")

        refuse_writes(demo_db)
        await pilot.press(*"hello", "enter")
        await wait_until(pilot, lambda: saving_fails(app.save_state), "saving fails")
        assert banner.has_class("-shown")
        assert "disk quota exceeded" in str(banner.render())
        label, kind = save_label(screen.query_one(StatusLine).save_state)
        assert kind == "failed" and label.startswith("⚠ failed, retrying")
        assert "Saving failed" in [n.title for n in app._notifications]
        assert app.services.last_error is not None

        accept_writes(demo_db)
        await wait_until(pilot, lambda: app.save_state.pending == 0, "the queue drains")
        await settle(pilot)
        assert not banner.has_class("-shown")
        assert save_label(screen.query_one(StatusLine).save_state) == ("✓ saved", "ok")
        assert "Saving works" in [n.title for n in app._notifications]
        memory = app.services.require_memory()
        assert screen.session_id is not None
        events = await memory.recall(screen.session_id)
        assert [e.kind for e in events] == [
            "user",
            "assistant",
            "tool_call",
            "tool_result",
            "assistant",
        ]
        assert [e.seq for e in events] == list(range(1, 6))


async def test_quitting_while_saving_fails_asks_first(demo_db: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path, TOOL_SCRIPT)
    app = make_app(settings_for(demo_db, script=script))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        refuse_writes(demo_db)
        await pilot.press(*"hello", "enter")
        await wait_until(pilot, lambda: saving_fails(app.save_state), "saving fails")
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen), "cancel keeps the app running"
        accept_writes(demo_db)
        await wait_until(pilot, lambda: app.save_state.pending == 0, "the queue drains")
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.unsaved == []
