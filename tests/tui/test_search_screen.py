"""The search screen and a session opened at a hit, driven with keys (Pilot)."""

from __future__ import annotations

from pathlib import Path

from memory import EventDraft, open_embedded
from runtime import payloads
from tests.tui.conftest import (
    SIZE,
    find_in_session,
    make_app,
    open_search,
    screen_text,
    settings_for,
    settle,
    wait_until,
)
from tests.tui.seed import seed_demo, seed_long_session
from tui.screens.home import HomeScreen
from tui.screens.search import SearchScreen
from tui.screens.session import SessionScreen
from tui.widgets.event_log import EventLog


async def plant(path: Path, sid: str, at: list[int], word: str) -> None:
    """Append events containing ``word`` to session ``sid``; their seqs are ``at``."""
    memory = await open_embedded(path)
    try:
        for seq in at:
            filler = seq - (await memory.get_session(sid)).last_seq - 1
            drafts = [EventDraft("user", payloads.user(f"filler {i}")) for i in range(filler)]
            drafts.append(EventDraft("user", payloads.user(f"the {word} [b]markup[/b] here")))
            await memory.store(sid, drafts)
    finally:
        await memory.close()


async def test_search_as_you_type_and_open_at_hit(db_file: Path) -> None:
    await seed_demo(db_file)
    sid = await seed_long_session(db_file, 400)
    await plant(db_file, sid, [401, 700], "xylophone")
    await plant(db_file, sid, [1000], "pelican")  # the newest events come after the hits
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        screen = await open_search(pilot)
        await pilot.press(*"xyloph")
        await wait_until(pilot, lambda: screen.shown_query == "xyloph", "results")
        assert [(h.session_id, h.seq) for h in screen.hits] == [(sid, 700), (sid, 401)]
        text = screen_text(app)
        assert "A very long session" in text and "you" in text
        assert "[b]markup[/b]" in text  # stored markup shown literally
        assert "2 hits, best first" in text
        await pilot.press("down", "down", "enter")  # the older hit
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, SessionScreen) and bool(app.screen.query(".-search-hit"))
            ),
            "session at the hit",
        )
        session = app.screen
        log = session.query_one(EventLog)
        (hit,) = log.query(".-search-hit")
        assert getattr(hit, "seq", None) == 401
        assert log.oldest_seq is not None and log.oldest_seq > 1 and log.has_older
        assert not log.at_end and log.newest_seq is not None and log.newest_seq < 1000
        region = hit.region
        assert log.region.y <= region.y and region.bottom <= log.region.bottom  # in view
        # Scrolling up reads older events, scrolling down newer ones.
        oldest = log.oldest_seq
        log.scroll_home(animate=False, immediate=True)
        await wait_until(
            pilot, lambda: log.oldest_seq is not None and log.oldest_seq < oldest, "older"
        )
        newest = log.newest_seq or 0

        def reached_newer() -> bool:
            log.scroll_end(animate=False, immediate=True)  # keep reading downwards
            return (log.newest_seq or 0) > newest

        await wait_until(pilot, reached_newer, "newer")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, SearchScreen), "back to results")


async def test_no_match_and_odd_input_never_error(db_file: Path) -> None:
    await seed_demo(db_file)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_search(pilot)
        await pilot.press("g")
        await wait_until(pilot, lambda: screen.shown_query == "g", "one letter")
        assert screen.hits == [] and "Type 2 or more letters" in screen_text(app)
        await pilot.press("o")  # a two-letter word is searched
        await wait_until(pilot, lambda: screen.shown_query == "go", "two letters")
        assert "Type 2 or more letters" not in screen_text(app)
        assert "hit" in screen_text(app) or "No match for" in screen_text(app)
        await pilot.press("backspace", "backspace")
        await pilot.press(*'"(( NEAR AND zzqq')
        await wait_until(pilot, lambda: screen.shown_query == '"(( NEAR AND zzqq', "results")
        assert screen.hits == []
        assert "No match for" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


async def test_find_in_session_reaches_events_not_loaded(db_file: Path) -> None:
    sid = await seed_long_session(db_file, 400)
    await plant(db_file, sid, [401, 700], "xylophone")
    await plant(db_file, sid, [1000], "pelican")
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await find_in_session(pilot, app, sid, newest=1000, word="xylophone", matches=[401, 700])


async def test_health_shows_the_search_index(db_file: Path) -> None:
    await seed_demo(db_file)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("h")
        await wait_until(pilot, lambda: "Search index" in screen_text(app), "health")
        await wait_until(pilot, lambda: "complete" in screen_text(app), "index state")


async def test_a_two_letter_word_is_searched_as_you_type(db_file: Path) -> None:
    await seed_demo(db_file)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_search(pilot)
        await pilot.press("c", "i")
        await wait_until(pilot, lambda: screen.shown_query == "ci", "two letters")
        assert screen.hits, "the demo's 'flake on CI' session was not found"
        assert any("CI" in (hit.title or "") for hit in screen.hits)
