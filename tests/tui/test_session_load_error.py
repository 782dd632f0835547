"""A session that cannot be read says why on its screen and offers Retry (issue 11, 10).

The database really fails: its events table is renamed away by another connection while
the app runs (what a broken or half-restored file looks like), then put back.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.tui.conftest import SIZE, make_app, screen_text, settings_for, settle, wait_until
from tests.tui.seed import session_id
from tui.screens.session import SessionScreen
from tui.widgets.event_log import EventLog


def rename_table(path: Path, old: str, new: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(f"ALTER TABLE {old} RENAME TO {new}")


async def test_a_failed_load_shows_the_error_and_retry_loads_it(demo_db: Path) -> None:
    app = make_app(settings_for(demo_db))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        rename_table(demo_db, "conversation_events", "conversation_events_away")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen), "opens")
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await wait_until(pilot, lambda: screen.load_error is not None, "the load fails")
        await settle(pilot)
        assert screen.sub_title != "loading…"
        text = screen_text(app)
        assert "could not be read" in text
        assert "Retry" in text
        rename_table(demo_db, "conversation_events_away", "conversation_events")
        await pilot.click("#retry-load")
        await wait_until(pilot, lambda: screen.load_error is None, "the retry works")
        await settle(pilot)
        assert screen.session_id == session_id(1)
        assert [v.seq for v in screen.query_one(EventLog).views] == list(range(1, 11))
        assert "The flake is gone." in screen_text(app)
        assert "Retry" not in screen_text(app)
