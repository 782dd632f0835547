"""The search list paints a new result set ahead and swaps it in (issue 14, UI stalls).

What the screen shows must be exactly the new rows: no line left over from an earlier
result set (only changed lines are repainted), none painted for another size (lines
made ahead are dropped when the list's size changed meanwhile), and the scrollbar
follows the row count. Driven with the real app on a real database (Pilot).
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from textual._styles_cache import StylesCache

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
from tui.widgets.search_hits import THUMB, HitList, hit_rows


async def _sessions(path: Path, texts: list[str]) -> None:
    memory = await open_embedded(path)
    try:
        for n, text in enumerate(texts):
            sid = f"ahead-{n}"
            await memory.create_session(sid, title=f"Ahead session {n}")
            await memory.store(sid, [EventDraft("user", payloads.user(text))])
    finally:
        await memory.close()


def _list_lines(app: Any, results: HitList) -> list[str]:
    """The text the screen shows in the list's content area, one string per line."""
    lines = screen_text(app).split("\n")
    area = results.scrollable_content_region
    return [line[area.x : area.x + area.width] for line in lines[area.y : area.bottom]]


def _expected(results: HitList) -> list[str]:
    """Each line: its row (blank past the last), then the scroll mark's column."""
    area, thumb = results.scrollable_content_region, results.thumb_lines()
    return [
        (results.row_text(y) if y < results.hit_count * 2 else " " * results.row_width)
        + (THUMB if y in thumb else " ")
        for y in range(area.height)
    ]


async def _type(pilot: Any, screen: SearchScreen, keys: list[str], query: str) -> None:
    await pilot.press(*keys)
    await wait_until(pilot, lambda: screen.shown_query == query, f"results of {query!r}")
    await settle(pilot)


async def test_each_result_set_is_shown_exactly(db_file: Path) -> None:
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]
    await _sessions(db_file, [f"the quokka {word} note" for word in words])
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_search(pilot)
        results = screen.query_one(HitList)
        await _type(pilot, screen, list("quokka"), "quokka")
        assert results.hit_count >= 6
        assert _list_lines(app, results) == _expected(results)
        assert results.virtual_size.height == results.hit_count * 2  # scroll limits followed
        # Narrower: one hit; every line below it must be blank again (no line left over).
        await _type(pilot, screen, list(" beta"), "quokka beta")
        assert results.hit_count == 1
        assert "beta" in results.row_text(1)
        assert _list_lines(app, results) == _expected(results)
        assert results.virtual_size.height == 2
        # And back: the same lines as the first time.
        await _type(pilot, screen, ["backspace"] * 5, "quokka")
        assert results.hit_count >= 6
        assert _list_lines(app, results) == _expected(results)
        # Nothing found: an empty list.
        await _type(pilot, screen, list("zzz"), "quokkazzz")
        assert results.hit_count == 0
        assert all(not line.strip() for line in _list_lines(app, results))


async def test_lines_made_for_another_size_are_not_used(db_file: Path) -> None:
    await _sessions(db_file, [f"the quokka number {n} " + "filler " * 30 for n in range(4)])
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_search(pilot)
        results = screen.query_one(HitList)
        await _type(pilot, screen, list("quokka"), "quokka")
        rows = hit_rows(list(reversed(screen.hits)), screen.services.now(), results.row_width)
        await results.prepare(rows)
        spare = results._spare_lines
        await pilot.resize_terminal(SIZE[0] - 30, SIZE[1])
        await settle(pilot)
        results.show(rows)
        assert results._styles_cache is not spare  # the lines made ahead were dropped
        await settle(pilot)
        painted = _list_lines(app, results)
        width = results.scrollable_content_region.width
        assert painted[: len(rows)] == [results.render_line(y).text for y in range(len(rows))]
        assert all(len(line) == width for line in painted)
        assert painted[1].rstrip().endswith("…")  # cut to the new width


async def test_typing_keeps_two_line_caches_for_the_list(db_file: Path) -> None:
    # Textual keeps every line cache it has used in an lru_cache; the list paints ahead
    # into one spare cache, so typing does not keep each result set's lines alive.
    await _sessions(db_file, [f"quokka {word}" for word in ("red", "green", "blue", "teal")])
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_search(pilot)
        await _type(pilot, screen, list("quokka"), "quokka")

        def caches() -> int:
            gc.collect()
            return sum(isinstance(o, StylesCache) for o in gc.get_objects())

        before = caches()
        for word in ("red", "green", "blue", "teal"):
            await _type(pilot, screen, [" ", *word], f"quokka {word}")
            await _type(pilot, screen, ["backspace"] * (len(word) + 1), "quokka")
        assert caches() == before
