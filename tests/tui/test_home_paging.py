"""The home table never loses rows while pages load under fast keys (issue 11, item 8)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from textual import events

from memory import EventDraft, open_embedded
from tests.tui.conftest import SIZE, make_app, screen_text, settings_for, settle, wait_until
from tests.tui.seed import NOW, SteppingClock, seed_many_sessions, session_id
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
        # Wherever the keys left the cursor, its row comes on screen (PageDown used to move
        # the cursor past a scroll clamped to the rows known before a page arrived, and it
        # stayed hidden); the scroll follows a refresh later on a loaded machine.
        await wait_until(pilot, lambda: cursor_row_on_screen(table), "cursor row on screen")
        for key in ["pagedown"] * 40:
            app.post_message(events.Key(key, None))
            await asyncio.sleep(0)
        await settle(pilot)
        await wait_until(pilot, lambda: cursor_row_on_screen(table), "cursor row on screen")
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


def cursor_row_on_screen(table: SessionTable) -> bool:
    """The cursor's row is inside the table's viewport (not hidden below the fold)."""
    top = round(table.scroll_y)
    rows = table.scrollable_content_region.height - table.header_height
    return top <= table.cursor_row < top + rows


async def seed_exchanges(path: Path, count: int) -> None:
    """``count`` sessions of one question and one answer (a two-line preview each)."""
    clock = SteppingClock(NOW)
    memory = await open_embedded(path, clock=clock)
    try:
        for index in range(count):
            clock.set(NOW - timedelta(seconds=count - index))
            await memory.store(
                session_id(30_000 + index),
                [
                    EventDraft("user", {"role": "user", "content": f"question {index}"}, turn=1),
                    EventDraft("assistant", {"role": "assistant", "content": "answer"}, turn=1),
                ],
            )
    finally:
        await memory.close()


async def test_the_last_rows_stay_on_screen_when_the_preview_grows(db_file: Path) -> None:
    # The preview is two lines until the session's last exchange is read, then four:
    # the table loses two rows of height. The cursor's row must stay in view.
    await seed_exchanges(db_file, 501)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(SessionTable)
        for key in ["end", *["pagedown"] * 40]:
            app.post_message(events.Key(key, None))
        await settle(pilot)
        for _ in range(10):
            await pilot.press("end")
            await settle(pilot)
        assert table.row_count == 501
        assert table.cursor_row == 500
        assert cursor_row_on_screen(table), (table.scroll_y, table.max_scroll_y)
        assert table.scroll_y == table.max_scroll_y
