"""The home table never loses rows while pages load under fast keys (issue 11, item 8)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import events

from tests.tui.conftest import SIZE, make_app, screen_text, settings_for, settle
from tests.tui.seed import seed_many_sessions
from tui.widgets.session_table import SessionTable


async def test_end_then_fast_page_downs_reach_every_session(db_file: Path) -> None:
    await seed_many_sessions(db_file, 501)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(SessionTable)
        # Keys arrive faster than pages load: post them all without waiting in between.
        for key in ["end", *["pagedown"] * 40]:
            app.post_message(events.Key(key, None))
        await settle(pilot)
        for key in ["pagedown"] * 40:
            app.post_message(events.Key(key, None))
            await asyncio.sleep(0)
        await settle(pilot)
        assert table.row_count == len(table.sessions)
        # Keep going down until the cursor stops moving: every row must come.
        for _ in range(20):
            row = table.cursor_row
            await pilot.press("end", "pagedown")
            await settle(pilot)
            if table.cursor_row == row and not table.more:
                break
        assert table.row_count == 501
        assert len(table.sessions) == 501
        assert len({s.id for s in table.sessions}) == 501
        assert table.cursor_row == 500
        assert table.selected is not None and table.selected.title == "Session 00000"
        assert not table.more
        shown = screen_text(app)
        assert "Session 00000" in shown and "Session 00001" in shown, shown
