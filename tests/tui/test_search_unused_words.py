"""The search screen's status line names the words a long query left out (Pilot)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from memory.search_query import MAX_TERMS
from tests.tui.conftest import (
    SIZE,
    make_app,
    open_search,
    screen_text,
    settings_for,
    settle,
    wait_until,
)
from tests.tui.seed import seed_demo


async def test_status_line_names_words_not_searched(db_file: Path) -> None:
    await seed_demo(db_file)
    app = make_app(settings_for(db_file))
    words = [f"wd{i:03d}" for i in range(MAX_TERMS + 2)]
    query = " ".join(words)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_search(pilot)
        screen.query_one("#search-input", Input).value = query
        await wait_until(pilot, lambda: screen.shown_query == query, "searched")
        await wait_until(pilot, lambda: "2 words not searched" in screen_text(app), "note shown")
        assert words[MAX_TERMS] in screen_text(app)
        screen.query_one("#search-input", Input).value = "wd001 wd002"
        await wait_until(pilot, lambda: screen.shown_query == "wd001 wd002", "searched again")
        assert "not searched" not in screen_text(app)
