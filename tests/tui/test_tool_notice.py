"""The session screen says which tools the model gets, and why when it gets none."""

from __future__ import annotations

from pathlib import Path

from runtime import load_settings
from tests.tui.conftest import SIZE, make_app, settings_for, settle, wait_until
from tests.tui.seed import session_id
from tui.screens.session import SessionScreen
from tui.widgets.save_status import StatusLine


async def test_the_status_line_names_the_tools(demo_db: Path) -> None:
    app = make_app(settings_for(demo_db), resume=session_id(1))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen)
        status = app.screen.query_one(StatusLine)
        await wait_until(pilot, lambda: bool(status.tools), "the conversation opened")
        assert status.tools == "tools: calculator, search_sessions"  # its local model
        assert "tools: calculator" in str(status.render())
        assert not [n for n in app._notifications if n.title == "No tools for this model"]


async def test_a_model_without_tools_gets_a_notice_saying_why(demo_db: Path) -> None:
    settings = load_settings(
        db={"path": str(demo_db)}, agent={"provider": "scripted", "tools": False}
    )
    app = make_app(settings, resume=session_id(1))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        status = app.screen.query_one(StatusLine)
        await wait_until(pilot, lambda: bool(status.tools), "the conversation opened")
        assert status.tools == "no tools"
        notices = [n for n in app._notifications if n.title == "No tools for this model"]
        assert len(notices) == 1
        assert "TURNKEEP_AGENT__TOOLS=false" in notices[0].message
