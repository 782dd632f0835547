"""The hit list's scroll mark: its last column shows which part of the hits is in view
(the list has no scrollbar widget, see :mod:`tui.widgets.search_hits`), and the mouse
wheel still scrolls it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import events

from memory import EventDraft, open_embedded
from runtime import payloads
from tests.tui.conftest import (
    SIZE,
    make_app,
    open_search,
    screen_text,
    settings_for,
    settle,
    wait_until,
)
from tui.screens.search import SearchScreen
from tui.widgets.search_hits import THUMB, HitList


async def _many(path: Path, count: int) -> None:
    memory = await open_embedded(path)
    try:
        drafts = [EventDraft("user", payloads.user(f"platypus note {i}")) for i in range(count)]
        await memory.store("many", drafts)
    finally:
        await memory.close()


async def _searched(pilot: Any, hits: int) -> tuple[SearchScreen, HitList]:
    """The search screen once its list shows the ``hits`` hits of "platypus"."""
    await settle(pilot)
    screen = await open_search(pilot)
    await pilot.press(*"platypus")
    await wait_until(pilot, lambda: len(screen.hits) == hits, f"{hits} hits")
    await settle(pilot)
    return screen, screen.query_one("#search-results", HitList)


def _mark_column(app: Any, results: HitList) -> str:
    """What the screen shows in the list's last content column, top to bottom."""
    lines = screen_text(app).split("\n")
    area = results.scrollable_content_region
    return "".join(line[area.right - 1] for line in lines[area.y : area.bottom])


async def test_the_mark_shows_the_part_in_view_and_follows_the_scroll(db_file: Path) -> None:
    await _many(db_file, 40)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        screen, results = await _searched(pilot, 25)
        height = results.scrollable_content_region.height
        assert height < 50  # more rows than lines: a mark less tall than the list
        top = _mark_column(app, results)
        assert top == THUMB * (height * height // 50) + " " * (height - height * height // 50)
        await pilot.press("down", "end")  # into the list, then its last hit
        await wait_until(pilot, lambda: len(screen.hits) == 40, "the rest read in")
        await pilot.press("end")  # the reader stayed on hit 25: now the very last
        await wait_until(pilot, lambda: results.highlighted == 39, "the last hit")
        await settle(pilot)
        bottom = _mark_column(app, results)
        assert results.scroll_offset.y == results.max_scroll_y > 0
        assert bottom.endswith(THUMB) and not bottom.startswith(THUMB)
        assert bottom.count(THUMB) == height * height // 80


async def test_few_hits_show_no_mark(db_file: Path) -> None:
    await _many(db_file, 3)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        _screen, results = await _searched(pilot, 3)
        assert THUMB not in _mark_column(app, results)
        assert not results.allow_vertical_scroll  # nothing to scroll: the wheel passes


async def test_the_mouse_wheel_scrolls_the_list(db_file: Path) -> None:
    await _many(db_file, 40)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        screen, results = await _searched(pilot, 25)
        before = _mark_column(app, results)
        for _ in range(3):
            wheel = events.MouseScrollDown(results, 5, 5, 0, 1, 0, False, False, False)
            results.post_message(wheel)
        await wait_until(pilot, lambda: results.scroll_offset.y > 0, "scrolled down")
        await settle(pilot)
        assert _mark_column(app, results) != before  # the mark moved down with it
        assert _mark_column(app, results).index(THUMB) > 0
