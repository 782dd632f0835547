"""The home preview: never a deleted session, and the last question with its own answer."""

from __future__ import annotations

from pathlib import Path

from memory import EventDraft, open_embedded
from tests.tui.conftest import SIZE, make_app, settings_for, settle
from tests.tui.seed import session_id
from tui.screens.home import HomeScreen
from tui.widgets.session_table import SessionTable


def preview_of(app: object) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, HomeScreen)
    return str(screen.query_one("#preview").render())


async def test_the_preview_leaves_a_deleted_session(demo_db: Path) -> None:
    app = make_app(settings_for(demo_db))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(SessionTable)
        first = table.selected
        assert first is not None and first.title is not None
        assert first.title in preview_of(app)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        now = table.selected
        assert now is not None and now.id != first.id
        assert first.title not in preview_of(app)
        assert now.title is not None and now.title in preview_of(app)


async def test_the_preview_pairs_the_last_question_with_its_own_answer(db_file: Path) -> None:
    sid = session_id(5)
    memory = await open_embedded(db_file)
    try:
        await memory.create_session(sid, title="Pairs")
        await memory.store(
            sid,
            [
                EventDraft("user", {"role": "user", "content": "old question"}, turn=1),
                EventDraft("assistant", {"role": "assistant", "content": "old answer"}, turn=1),
                EventDraft("user", {"role": "user", "content": "new question"}, turn=2),
                EventDraft("cancelled", {"reason": "cancelled by the user"}, turn=2),
            ],
        )
    finally:
        await memory.close()
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = preview_of(app)
        assert "You: new question" in text
        assert "old answer" not in text
        assert "cancelled" in text.lower()
