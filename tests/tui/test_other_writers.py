"""An open session shows, live, the events another writer stores (issue 11, item 3).

The other writer is a second real connection to the same file (what ``turnkeep ask
--session ID`` in another terminal is), and a real ``turnkeep ask`` subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from memory import EventDraft, open_embedded
from tests.tui.conftest import (
    SIZE,
    TOOL_SCRIPT,
    make_app,
    screen_text,
    settings_for,
    settle,
    wait_until,
    write_script,
)
from tests.tui.seed import session_id
from tui.screens.session import SessionScreen
from tui.widgets.event_log import EventLog


@pytest.fixture(autouse=True)
def fast_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SessionScreen, "POLL_SECONDS", 0.2)


async def store_from_elsewhere(path: Path, sid: str, turn: int, text: str) -> None:
    memory = await open_embedded(path)
    try:
        await memory.store(
            sid,
            [
                EventDraft("user", {"role": "user", "content": f"Q: {text}"}, turn=turn),
                EventDraft("assistant", {"role": "assistant", "content": f"A: {text}"}, turn=turn),
            ],
        )
    finally:
        await memory.close()


def assert_each_once(app: object, sid_events: int) -> None:
    seqs = [v.seq for v in app.screen.query_one(EventLog).views]  # type: ignore[attr-defined]
    assert seqs == sorted(set(seqs)), seqs
    assert seqs[-1] == sid_events


async def test_events_another_connection_stores_appear_live(demo_db: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path, TOOL_SCRIPT)
    sid = session_id(1)
    app = make_app(settings_for(demo_db, script=script), resume=sid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await wait_until(pilot, lambda: screen.conversation is not None, "conversation open")
        await store_from_elsewhere(demo_db, sid, 3, "from the other terminal")
        await wait_until(
            pilot, lambda: "A: from the other terminal" in screen_text(app), "shown live"
        )
        assert "Q: from the other terminal" in screen_text(app)
        assert_each_once(app, 12)
        # A turn of our own, then more from elsewhere: nothing is shown twice.
        await pilot.press(*"and mine", "enter")
        await wait_until(pilot, lambda: not screen.running, "our turn ends")
        await wait_until(pilot, lambda: app.save_state.pending == 0, "saved")  # type: ignore[attr-defined]
        await store_from_elsewhere(demo_db, sid, 9, "second visit")
        await wait_until(pilot, lambda: "A: second visit" in screen_text(app), "shown live")
        await pilot.pause(0.6)  # a few more polls: still nothing twice
        memory = await open_embedded(demo_db)
        try:
            total = (await memory.get_session(sid)).last_seq
        finally:
            await memory.close()
        assert_each_once(app, total)
        assert len(screen.query_one(EventLog).views) == total


async def test_a_turnkeep_ask_subprocess_shows_up_in_the_open_session(
    demo_db: Path, tmp_path: Path
) -> None:
    sid = session_id(2)
    app = make_app(settings_for(demo_db), resume=sid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        env = {**os.environ, "TURNKEEP_DB__PATH": str(demo_db)}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "tui",
                "ask",
                "--provider",
                "scripted",
                "--session",
                sid,
                "hello from a shell",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        await wait_until(pilot, lambda: "hello from a shell" in screen_text(app), "shown live")
