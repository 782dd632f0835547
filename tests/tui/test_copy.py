"""Copying a message, a code block or a tool result puts exactly that on the clipboard."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textual.widgets import Log

from tests.tui.conftest import SIZE, make_app, settings_for, settle, wait_until, write_script
from tests.tui.test_regenerate import new_session, send
from tui.screens.full_text import FullTextScreen
from tui.screens.session_copy import CodeBlockPicker
from tui.widgets.events import AssistantMessageView, UserMessageView
from tui.widgets.tool_views import ToolResultView

ANSWER = (
    "Two ways:\n\n```python\ndef add(a, b):\n    return a + b\n```\n\n"
    "or in the shell:\n\n```sh\necho $((1 + 2))\n```\n"
)
SCRIPT: dict[str, Any] = {
    "turns": [
        [
            {
                "text": "",
                "tool_calls": [{"name": "calculator", "arguments": {"expression": "1+2"}}],
            },
            {"text": ANSWER, "chunk_size": 40},
        ]
    ]
}


async def test_y_copies_the_focused_event_and_c_a_chosen_code_block(
    db_file: Path, tmp_path: Path
) -> None:
    app = make_app(settings_for(db_file, script=write_script(tmp_path, SCRIPT)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await new_session(pilot)
        await send(pilot, screen, "add \x1b[31mred\x1b[0m numbers")
        assert screen.check_action("copy_event", ()) is False  # the prompt has the focus

        await pilot.press("shift+tab")  # from the prompt: the newest event
        await settle(pilot)
        answer = screen.focused
        assert isinstance(answer, AssistantMessageView)
        await pilot.press("y")
        assert app.clipboard == ANSWER
        assert "shift+drag" in str(list(app._notifications)[-1].message)

        await pilot.press("c")  # two blocks: a picker asks which one
        await wait_until(pilot, lambda: isinstance(app.screen, CodeBlockPicker), "picker")
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.screen is screen, "picker closed")
        assert app.clipboard == "echo $((1 + 2))"

        await pilot.press("v")  # the pager, where the mouse selects text
        await wait_until(pilot, lambda: isinstance(app.screen, FullTextScreen), "pager")
        pager = app.screen
        await wait_until(pilot, lambda: pager.lines is not None, "pager lines")
        assert pager.lines[: len(ANSWER.splitlines())] == ANSWER.splitlines()
        assert pager.query_one(Log).allow_select
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, "pager closed")

        await pilot.press("shift+tab")
        result = screen.focused
        assert isinstance(result, ToolResultView)
        await pilot.press("y")
        assert json.loads(app.clipboard) == {"expression": "1+2", "value": 3}
        await pilot.press("c")
        assert json.loads(app.clipboard) == {"expression": "1+2", "value": 3}  # unchanged

        await pilot.press("shift+tab", "shift+tab")
        question = screen.focused
        assert isinstance(question, UserMessageView)
        await pilot.press("y")
        # Terminal controls from the database never reach the clipboard as such.
        assert "\x1b" not in app.clipboard and "red" in app.clipboard
