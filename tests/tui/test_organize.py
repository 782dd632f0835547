"""Organizing sessions in the TUI (issue 16): pin, archive view and restore, tag editing,
the #tag filter, fork at an event, and token totals in the preview."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memory import EventDraft, open_embedded
from memory.records import SessionInfo, TokenCount
from tests.tui.conftest import SIZE, make_app, settings_for, settle, wait_until
from tui.screens.archive import ArchiveScreen
from tui.screens.fork import ForkScreen
from tui.screens.home import HomeScreen
from tui.screens.session import SessionScreen
from tui.screens.tags import TagsDialog, split_filter
from tui.widgets.session_table import SessionTable


def table_of(app: Any) -> SessionTable:
    return app.screen.query_one(SessionTable)


def ids(app: Any) -> list[str]:
    return [info.id for info in table_of(app).sessions]


async def stored(path: Path, session_id: str) -> SessionInfo:
    memory = await open_embedded(path)
    try:
        return await memory.get_session(session_id)
    finally:
        await memory.close()


async def test_pin_moves_a_session_to_the_top_and_back(demo_db: Path) -> None:
    app = make_app(settings_for(demo_db))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = ids(app)
        await pilot.press("end", "p")
        await settle(pilot)
        assert ids(app) == [before[-1], *before[:-1]]
        assert str(table_of(app).get_row_at(0)[0]).startswith("📌 ")
        assert table_of(app).selected is not None
        assert table_of(app).selected.id == before[-1]  # type: ignore[union-attr]
        assert "📌 pinned" in str(app.screen.query_one("#preview").render())
        assert (await stored(demo_db, before[-1])).pinned
        await pilot.press("p")
        await settle(pilot)
        assert ids(app) == before


async def test_archive_view_lists_and_restores(demo_db: Path) -> None:
    app = make_app(settings_for(demo_db))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = ids(app)
        await pilot.press("a")
        await settle(pilot)
        assert ids(app) == before[1:]
        assert (await stored(demo_db, before[0])).archived
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ArchiveScreen)
        assert ids(app) == [before[0]]
        await pilot.press("u")
        await settle(pilot)
        assert ids(app) == []
        assert app.screen.query_one("#archive-empty").display
        assert not (await stored(demo_db, before[0])).archived
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert ids(app) == before


async def test_archived_session_opens_from_the_archive(demo_db: Path) -> None:
    app = make_app(settings_for(demo_db))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = ids(app)[0]
        await pilot.press("a", "v")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen)
        assert app.screen.session_id == first


async def test_tags_dialog_refuses_bad_tags_then_saves_and_filters(demo_db: Path) -> None:
    app = make_app(settings_for(demo_db))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = ids(app)[0]
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TagsDialog)
        await pilot.press(*"work [x]", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TagsDialog)  # refused, still open
        assert (await stored(demo_db, first)).tags == ()
        for _ in range(3):
            await pilot.press("backspace")
        await pilot.press(*"parser", "enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert (await stored(demo_db, first)).tags == ("parser", "work")
        assert "#parser #work" in str(app.screen.query_one("#preview").render())
        assert "#parser #work" in str(table_of(app).get_row_at(0)[0])
        await pilot.press("slash", *"#work")
        await settle(pilot)
        assert ids(app) == [first]
        await pilot.press("escape")
        await settle(pilot)
        assert len(ids(app)) > 1


async def test_a_leading_hash_in_the_tags_dialog_and_filter_is_dropped(demo_db: Path) -> None:
    app = make_app(settings_for(demo_db))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = ids(app)[0]
        await pilot.press("t")
        await settle(pilot)
        await pilot.press(*"#hash ##deep", "enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert (await stored(demo_db, first)).tags == ("deep", "hash")
        await pilot.press("slash", *"##hash")
        await settle(pilot)
        assert ids(app) == [first]
    assert split_filter("#work ##deep # parser") == ("# parser", ["work", "deep"])


async def test_fork_at_an_event_opens_the_new_session(demo_db: Path) -> None:
    app = make_app(settings_for(demo_db))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        source = table_of(app).selected
        assert source is not None and source.last_seq >= 2
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, ForkScreen)
        await pilot.press("up", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen), "fork opened")
        await settle(pilot)
        fork_id = app.screen.session_id
        assert fork_id is not None and fork_id != source.id
        fork = await stored(demo_db, fork_id)
        assert (fork.forked_from, fork.forked_at_seq) == (source.id, source.last_seq - 1)
        assert fork.events == source.last_seq - 1
        assert (await stored(demo_db, source.id)).events == source.events
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        preview = str(app.screen.query_one("#preview").render())
        assert f"Forked from {source.id} at event {source.last_seq - 1}" in preview


async def test_preview_shows_token_totals(db_file: Path) -> None:
    memory = await open_embedded(db_file)
    await memory.store(
        "s1",
        [
            EventDraft("user", {"role": "user", "content": "hi"}),
            EventDraft(
                "assistant",
                {"role": "assistant", "content": "hello"},
                1,
                TokenCount(1200, 34, estimated=True),
            ),
        ],
    )
    await memory.close()
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        preview = str(app.screen.query_one("#preview").render())
        assert "Tokens: ~1,200 prompt · ~34 completion · ~1,234 total (estimated)" in preview


async def test_fork_from_inside_a_session_at_the_focused_event(demo_db: Path) -> None:
    app = make_app(settings_for(demo_db))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        source = table_of(app).selected
        assert source is not None and source.last_seq >= 3
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen), "session opened")
        await settle(pilot)
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: isinstance(app.screen, ForkScreen), "fork picker")
        await settle(pilot)
        await pilot.press("up", "up", "enter")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, SessionScreen) and app.screen.session_id != source.id,
            "the fork opened",
        )
        await settle(pilot)
        fork_id = app.screen.session_id
        assert fork_id is not None
        fork = await stored(demo_db, fork_id)
        assert (fork.forked_from, fork.forked_at_seq) == (source.id, source.last_seq - 2)
        assert fork.events == source.last_seq - 2
        assert (await stored(demo_db, source.id)).events == source.events
