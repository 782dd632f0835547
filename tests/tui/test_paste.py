"""A bracketed paste into the prompt keeps every line (issue 11, item 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events

from memory import open_embedded
from tests.tui.conftest import SIZE, make_app, settings_for, settle, wait_until
from tui.screens.session import SessionScreen
from tui.widgets.events import UserMessageView


async def user_messages(path: Path, sid: str) -> list[str]:
    memory = await open_embedded(path)
    try:
        return [e.payload["content"] for e in await memory.recall(sid) if e.kind == "user"]
    finally:
        await memory.close()


@pytest.mark.parametrize(
    "pasted",
    [
        "line one\nline two\nline three",
        "\n".join(f"{i:04d}: def f(x):  return x * {i}\t# {'…' * (i % 7)}" for i in range(1000)),
    ],
    ids=["3-lines", "1000-lines"],
)
async def test_a_multi_line_paste_is_sent_and_stored_exactly(db_file: Path, pasted: str) -> None:
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        prompt = screen.query_one("#prompt")
        await wait_until(pilot, lambda: not prompt.disabled and prompt.has_focus, "prompt ready")
        app.post_message(events.Paste(pasted))
        await pilot.pause()
        assert prompt.value == pasted  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_until(pilot, lambda: not screen.running, "the turn ends")
        await wait_until(pilot, lambda: app.save_state.pending == 0, "saved")  # type: ignore[attr-defined]
        sid = screen.session_id
        assert sid is not None
        shown = [v for v in screen.query(UserMessageView)]
        assert shown and shown[-1].text == pasted
        assert prompt.value == ""  # type: ignore[attr-defined]
    assert await user_messages(db_file, sid) == [pasted]
