"""The search list reads more hits when the highlight reaches the last one (review
finding: it stopped at 25, and End or Down at the bottom did nothing)."""

from __future__ import annotations

from pathlib import Path

from memory import EventDraft, open_embedded
from runtime import payloads
from tests.tui.conftest import SIZE, make_app, open_search, settings_for, settle, wait_until
from tests.tui.seed import seed_demo
from tui.widgets.search_hits import HitList


async def test_reaching_the_last_hit_reads_more_and_keeps_the_place(db_file: Path) -> None:
    await seed_demo(db_file)
    memory = await open_embedded(db_file)
    try:
        drafts = [EventDraft("user", payloads.user(f"zebracorn number {i}")) for i in range(90)]
        await memory.store("many", drafts)
    finally:
        await memory.close()
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_search(pilot)
        await pilot.press(*"zebracorn")
        await wait_until(pilot, lambda: len(screen.hits) == 25, "the first 25 hits")
        results = screen.query_one("#search-results", HitList)
        await pilot.press("down")  # into the list
        await wait_until(pilot, lambda: results.has_focus, "the list focused")
        await pilot.press("end")
        await wait_until(pilot, lambda: len(screen.hits) == 75, "50 more")
        await settle(pilot)
        assert results.highlighted == 24  # where the reader was
        assert "75+ hits" in str(screen.status_shown)
        await pilot.press("end")
        await wait_until(pilot, lambda: len(screen.hits) == 90, "the rest")
        await settle(pilot)
        assert results.highlighted == 74
        assert "90 hits" in str(screen.status_shown)
        await pilot.press("end")  # nothing more to read: the list stays
        await settle(pilot)
        assert len(screen.hits) == 90 and results.highlighted == 89
        # A new text starts again from 25.
        await pilot.press("ctrl+f", "ctrl+u", *"zebracorn number")
        await wait_until(pilot, lambda: screen.shown_query == "zebracorn number", "new text")
        assert len(screen.hits) == 25 and results.highlighted == 0
