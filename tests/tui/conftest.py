"""Fixtures for the TUI tests: real database files, real settings, the real app."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from runtime.settings import Settings, load_settings
from tests.tui.scenes import settle, wait_until
from tests.tui.seed import NOW, seed_demo
from tui.app import TurnkeepApp
from tui.screens.search import SearchScreen

SIZE = (120, 40)

#: A turn that streams, calls a tool, then keeps streaming until cancelled.
HANG_SCRIPT: dict[str, Any] = {
    "turns": [
        [
            {
                "text": "Let me work it out: ",
                "tool_calls": [{"name": "calculator", "arguments": {"expression": "6 * 7"}}],
            },
            {"text": "The answer is **42**, and here is why", "chunk_size": 6, "hang": True},
        ]
    ]
}

#: A turn that calls a tool and answers.
TOOL_SCRIPT: dict[str, Any] = {
    "turns": [
        [
            {
                "text": "Checking. ",
                "tool_calls": [{"name": "calculator", "arguments": {"expression": "6 * 7"}}],
            },
            {"text": "You asked: {user}. It is **42**.", "chunk_size": 5},
        ]
    ]
}


def frozen_now() -> Any:
    return NOW


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "turnkeep.db"


@pytest.fixture
async def demo_db(db_file: Path) -> Path:
    await seed_demo(db_file)
    return db_file


def write_script(directory: Path, script: dict[str, Any], name: str = "script.json") -> Path:
    path = directory / name
    path.write_text(json.dumps(script), encoding="utf-8")
    return path


def settings_for(path: Path, *, script: Path | None = None, **db: Any) -> Settings:
    """Settings for a database file and the scripted provider (the test double)."""
    agent: dict[str, Any] = {"provider": "scripted"}
    if script is not None:
        agent["script"] = str(script)
    return load_settings(db={"path": str(path), **db}, agent=agent)


__all__ = ["settle", "wait_until"]  # shared with scripts/screenshots.py via scenes


def make_app(settings: Settings, **kwargs: Any) -> TurnkeepApp:
    return TurnkeepApp(settings, clock=frozen_now, **kwargs)


async def open_search(pilot: Any) -> SearchScreen:
    """Press ``s`` on the home screen; the search screen it opens."""
    await pilot.press("s")
    screen = pilot.app.screen
    assert isinstance(screen, SearchScreen)
    return screen


def screen_text(app: Any) -> str:
    """What the current screen shows, as lines of text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def run_sync(coro: Any) -> Any:
    """Run a coroutine from a sync test (snapshot tests must be sync)."""
    return asyncio.run(coro)


async def find_in_session(
    pilot: Any, app: TurnkeepApp, session_id: str, *, newest: int, word: str, matches: list[int]
) -> None:
    """Open ``session_id`` (its newest page ends at ``newest``), find ``word`` with Ctrl+F,
    and check the matches are ``matches`` (two of them), stepped through with F3 and
    Shift+F3, each loaded and highlighted when reached."""
    from textual.widgets import Input

    from tui.messages import OpenSession
    from tui.screens.search import FindDialog
    from tui.screens.session import SessionScreen
    from tui.widgets.event_log import EventLog

    app.post_message(OpenSession(session_id))
    await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen), "session")
    session = app.screen
    assert isinstance(session, SessionScreen)
    log = session.query_one(EventLog)
    await wait_until(pilot, lambda: log.newest_seq == newest, "newest page")
    await pilot.press("ctrl+f")
    await wait_until(
        pilot,
        lambda: (
            isinstance(app.screen, FindDialog)
            and getattr(app.screen.focused, "id", None) == "find-input"
        ),
        "find dialog",
    )
    await pilot.press(*word)
    await wait_until(
        pilot, lambda: app.screen.query_one("#find-input", Input).value == word, "typed"
    )
    await pilot.press("enter")
    await wait_until(pilot, lambda: session.find_seqs == matches, "matches found")

    def highlighted() -> int | None:
        hits = log.query(".-search-hit")
        return getattr(hits.first(), "seq", None) if hits else None

    first, second = matches
    await wait_until(pilot, lambda: highlighted() == first, "first match loaded")
    await pilot.press("f3")
    await wait_until(pilot, lambda: highlighted() == second, "next match")
    await pilot.press("shift+f3")
    await wait_until(pilot, lambda: highlighted() == first, "previous match")
    assert session.sub_title == "match 1 of 2"
