"""Opening a session lands on its newest event, every time (issue 11, item 5).

The log used to ask for an older page before its anchor had scrolled to the end; when
that page arrived first, ``prepend`` saw "not at the bottom" and kept the oldest view.
These open the same sessions many times, from the list with Enter and with ``--resume``,
and check the newest event is on screen after each open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memory import EventDraft, open_embedded
from tests.tui.conftest import SIZE, make_app, screen_text, settings_for, settle, wait_until
from tests.tui.seed import seed_long_session, session_id
from tui.screens.home import HomeScreen
from tui.screens.session import SessionScreen
from tui.widgets.event_log import EventLog
from tui.widgets.session_table import SessionTable


async def seed_ten_turns(path: Path) -> str:
    sid = session_id(10)
    memory = await open_embedded(path)
    try:
        await memory.create_session(sid, title="Ten turns", provider="local", model="m")
        for turn in range(1, 11):
            await memory.store(
                sid,
                [
                    EventDraft("user", {"role": "user", "content": f"Q{turn} " * 40}, turn=turn),
                    EventDraft(
                        "assistant",
                        {"role": "assistant", "content": f"Answer A{turn}.\n\n" + "x " * 200},
                        turn=turn,
                    ),
                ],
            )
    finally:
        await memory.close()
    return sid


async def opened(pilot: Any) -> EventLog:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen), "the session opens")
    await settle(pilot)
    return app.screen.query_one(EventLog)


def newest_visible(app: Any, marker: str) -> bool:
    return marker in screen_text(app)


async def test_enter_from_the_list_lands_on_the_newest_event(db_file: Path) -> None:
    await seed_long_session(db_file, 20_000)
    await seed_ten_turns(db_file)
    app = make_app(settings_for(db_file))
    misses: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for attempt in range(15):
            for row, marker in ((0, "Answer A10."), (1, "Turn 5000:")):
                table = app.screen.query_one(SessionTable)
                table.move_cursor(row=row, animate=False)
                await settle(pilot)
                await pilot.press("enter")
                log = await opened(pilot)
                if not (newest_visible(app, marker) and log.is_vertical_scroll_end):
                    misses.append(f"{marker} open {attempt}: shows {log.views[-1].seq}")
                await pilot.press("escape")
                await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
                await settle(pilot)
    assert not misses, misses


async def test_resume_lands_on_the_newest_event(db_file: Path) -> None:
    long_id = await seed_long_session(db_file, 20_000)
    short_id = await seed_ten_turns(db_file)
    misses: list[str] = []
    for attempt in range(5):
        for sid, marker in ((short_id, "Answer A10."), (long_id, "Turn 5000:")):
            app = make_app(settings_for(db_file), resume=sid)
            async with app.run_test(size=SIZE) as pilot:
                log = await opened(pilot)
                if not (newest_visible(app, marker) and log.is_vertical_scroll_end):
                    misses.append(f"{marker} open {attempt}")
    assert not misses, misses
