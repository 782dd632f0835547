"""The search screen's result list (HitList), driven with keys and the mouse (Pilot)."""

from __future__ import annotations

from pathlib import Path

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
from tui.screens.session import SessionScreen
from tui.widgets.search_hits import HitList


async def _sessions(path: Path, texts: list[str]) -> list[str]:
    """One session per text (the last one newest); returns their ids."""
    memory = await open_embedded(path)
    ids = []
    try:
        for n, text in enumerate(texts):
            sid = f"hits-{n}"
            await memory.create_session(sid, title=f"Hit session {n}")
            await memory.store(sid, [EventDraft("user", payloads.user(text))])
            ids.append(sid)
    finally:
        await memory.close()
    return ids


async def _search(pilot, app, query: str) -> SearchScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    screen = await open_search(pilot)
    await pilot.press(*query)
    await wait_until(pilot, lambda: screen.shown_query == query, "results")
    return screen


async def test_keys_move_the_highlight_and_enter_opens_it(db_file: Path) -> None:
    await _sessions(db_file, [f"the quokka number {n}" for n in range(6)])
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        screen = await _search(pilot, app, "quokka")
        results = screen.query_one(HitList)
        assert results.hit_count == len(screen.hits) >= 6
        await pilot.press("down")  # from the field: into the list, on the best hit
        assert screen.focused is results and results.highlighted == 0
        await pilot.press("down", "down", "up")
        assert results.highlighted == 1
        await pilot.press("end")
        assert results.highlighted == results.hit_count - 1
        await pilot.press("home")
        assert results.highlighted == 0
        await pilot.press("down", "enter")
        chosen = screen.hits[1]
        await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen), "session")
        assert app.screen.session_id == chosen.session_id  # type: ignore[attr-defined]


async def test_a_click_opens_the_hit_under_it(db_file: Path) -> None:
    await _sessions(db_file, ["one quokka", "two quokka", "three quokka"])
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        screen = await _search(pilot, app, "quokka")
        results = screen.query_one(HitList)
        # Each hit is two rows: the second row of the list is still the first hit, the
        # third row the second hit.
        await pilot.click(HitList, offset=(4, 2))
        chosen = screen.hits[1]
        await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen), "session")
        assert app.screen.session_id == chosen.session_id  # type: ignore[attr-defined]
        assert results.highlighted == 1


async def test_stored_text_is_shown_literally(db_file: Path) -> None:
    await _sessions(db_file, ["quokka \x1b[31mred\x1b[0m [bold]markup[/bold] \x1b]0;title\x07 end"])
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        screen = await _search(pilot, app, "quokka")
        results = screen.query_one(HitList)
        rows = [results.row_text(i) for i in range(results.hit_count * 2)]
        assert not any("\x1b" in row or "\x07" in row for row in rows)
        assert any("[bold]markup[/bold]" in row for row in rows)
        assert "[bold]markup[/bold]" in screen_text(app)
        # The match is marked in its own segment (bold, reverse), the rest plain.
        snippet = results._rows[1]
        marked = [seg.text for seg in snippet if seg.style and seg.style.reverse]
        assert marked == ["quokka"]


async def test_results_follow_the_width(db_file: Path) -> None:
    await _sessions(db_file, ["quokka " + "long words " * 40])
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        screen = await _search(pilot, app, "quokka")
        results = screen.query_one(HitList)
        width = results.row_width
        assert all(row.cell_length == width for row in results._rows)
        assert results.row_text(1).rstrip().endswith("…")  # cut, and shown to be
        await pilot.resize_terminal(SIZE[0] - 30, SIZE[1])
        await settle(pilot)
        assert results.row_width == width - 30
        # Rows prepared for the old width are cut again when painted.
        painted = results.render_line(1)
        # The row, then the list's last column (the scroll mark's).
        assert painted.cell_length == results.row_width + 1
        assert painted.text[:-1].rstrip().endswith("…")


async def test_a_long_query_scrolls_the_field_to_the_cursor(db_file: Path) -> None:
    # The field's virtual width changes without a layout pass (SearchInput); it must
    # still scroll to keep the cursor in view.
    await _sessions(db_file, ["quokka"])
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        query = "quokka " + "x" * 150
        screen = await _search(pilot, app, query)
        field = screen.query_one("#search-input")
        assert field.scroll_x > 0
        assert field.virtual_size.width > field.size.width
        assert "xxxx" in screen_text(app)


def test_a_snippet_with_line_breaks_stays_on_its_row() -> None:
    """A snippet is documented as one line, but every source of hits (full text, title,
    semantic) is stored text: a line break or tab inside a row would move the
    terminal's cursor. Each becomes one space, and the mark stays on its word."""
    from datetime import UTC, datetime

    from memory.search_records import SearchHit
    from tui.widgets.search_hits import hit_rows, snippet_segments

    snippet = "one\ntwo\tquokka\r\nthree\u2028four"
    start = snippet.index("quokka")
    hit = SearchHit(
        "s1", 3, "user", "a\ntitle", snippet, ((start, start + 6),), "2026-11-30T10:00:00Z", 1.0
    )
    segments = snippet_segments(hit)
    assert "".join(s.text for s in segments) == "one two quokka  three four"
    marked = [s.text for s in segments if s.style is not None and s.style.reverse]
    assert marked == ["quokka"]
    rows = hit_rows([hit], datetime(2026, 11, 30, 10, 5, tzinfo=UTC), 60)
    for row in rows:
        assert not any(char in row.text for char in "\n\r\t\u2028")
        assert row.cell_length == 60


async def test_widening_the_terminal_shows_more_of_each_hit(db_file: Path) -> None:
    words = " ".join(f"word{n:03d}" for n in range(30))
    await _sessions(db_file, [f"quokka {words}"])
    app = make_app(settings_for(db_file))
    async with app.run_test(size=(60, 30)) as pilot:
        screen = await _search(pilot, app, "quokka")
        results = screen.query_one(HitList)
        narrow = results.render_line(1).text.rstrip()
        assert narrow.endswith("…") and "word020" not in narrow
        await pilot.resize_terminal(120, 30)
        await settle(pilot)
        assert results.row_width > 100
        wide = results.render_line(1).text.rstrip()
        assert "word009" in wide and len(wide) > len(narrow) + 30
        assert "word009" in screen_text(app)
        await pilot.resize_terminal(60, 30)  # and narrower again: cut at that width
        await settle(pilot)
        assert results.render_line(1).text.rstrip() == narrow
