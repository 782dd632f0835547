"""The prompt: input history across sessions and restarts, growth, the newline key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import events
from textual.pilot import Pilot

from tests.tui.conftest import SIZE, make_app, settings_for, settle, wait_until
from tui.screens.session import SessionScreen
from tui.widgets.events import AssistantMessageView
from tui.widgets.inputs import PromptArea


async def new_session(pilot: Pilot[Any]) -> tuple[SessionScreen, PromptArea]:
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SessionScreen)
    prompt = screen.query_one("#prompt", PromptArea)
    await wait_until(pilot, lambda: not prompt.disabled and prompt.has_focus, "prompt ready")
    return screen, prompt


async def send(pilot: Pilot[Any], screen: SessionScreen, prompt: PromptArea, text: str) -> None:
    before = len(screen.query(AssistantMessageView))
    prompt.value = text
    await pilot.press("enter")
    await wait_until(pilot, lambda: len(screen.query(AssistantMessageView)) > before, "answer")
    await wait_until(pilot, lambda: not screen.running, "the turn ends")
    await wait_until(pilot, lambda: pilot.app.save_state.pending == 0, "saved")  # type: ignore[attr-defined]


async def test_up_and_down_recall_messages_of_other_sessions_after_a_restart(
    db_file: Path,
) -> None:
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        screen, prompt = await new_session(pilot)
        await send(pilot, screen, prompt, "alpha")
        await send(pilot, screen, prompt, "beta\nsecond line")
        await send(pilot, screen, prompt, "alpha")  # sent again: listed once, as newest
        await pilot.press("up")
        assert prompt.value == "alpha"  # this run's own messages are recalled at once

    # A new process: the history comes back from the stored messages.
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        screen, prompt = await new_session(pilot)  # a different, empty session
        await wait_until(pilot, lambda: len(prompt.earlier) == 2, "history")
        await pilot.press("d", "r", "a", "f", "t")
        await pilot.press("up")
        assert prompt.value == "alpha"
        assert "earlier message 1 of 2" in str(prompt.border_subtitle)
        await pilot.press("up")
        assert prompt.value == "beta\nsecond line"
        assert prompt.cursor_location == (1, 11)  # at the end: Up first moves a line
        await pilot.press("up")
        assert prompt.value == "beta\nsecond line" and prompt.cursor_location[0] == 0
        await pilot.press("up")  # the oldest: nothing older, the cursor stays
        assert prompt.value == "beta\nsecond line"
        await pilot.press("down", "down")
        assert prompt.value == "alpha"
        await pilot.press("down")
        assert prompt.value == "draft"  # the draft being typed is kept
        assert prompt.border_subtitle is None
        await pilot.press("down")
        assert prompt.value == "draft"


async def test_ctrl_j_starts_a_new_line_and_the_prompt_grows_then_scrolls(
    db_file: Path,
) -> None:
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        screen, prompt = await new_session(pilot)
        start = prompt.size.height
        await pilot.press("a", "ctrl+j", "b", "ctrl+j", "c")
        await settle(pilot)
        assert prompt.value == "a\nb\nc" and not screen.running
        assert prompt.size.height > start  # grew to show three lines
        app.post_message(events.Paste("\n".join(str(n) for n in range(1000))))
        await settle(pilot)
        assert prompt.value.count("\n") == 1001  # every pasted line is kept
        assert prompt.size.height <= 10  # a few lines, then it scrolls
        assert prompt.max_scroll_y > 900
        footer = " ".join(b.binding.key_display or "" for b in app.screen.active_bindings.values())
        assert "ctrl+j" in footer
