"""5 MB events open at once and show a bounded prefix; the pager shows all (item 7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memory import EventDraft, open_embedded
from tests.tui.conftest import SIZE, make_app, screen_text, settings_for, settle, wait_until
from tests.tui.seed import session_id
from tui.screens.full_text import FullTextScreen
from tui.screens.session import SessionScreen
from tui.widgets.event_log import EventLog
from tui.widgets.events import AssistantMessageView, UserMessageView
from tui.widgets.tool_views import ToolResultView

MB5 = 5 * 1024 * 1024


def big(label: str) -> str:
    line = f"{label} line with **markdown** and `code` " + "x" * 60 + "\n"
    body = line * (MB5 // len(line))
    return body + f"```\nlast block\n```\nEND-OF-{label}"


async def seed_big(path: Path) -> str:
    sid = session_id(55)
    memory = await open_embedded(path)
    try:
        await memory.create_session(sid, title="Huge", provider="local", model="m")
        await memory.store(
            sid,
            [
                EventDraft("user", {"role": "user", "content": big("USER")}, turn=1),
                EventDraft("tool_call", {"call_id": "c", "name": "dump", "arguments": {}}, turn=1),
                EventDraft(
                    "tool_result", {"call_id": "c", "name": "dump", "result": big("TOOL")}, turn=1
                ),
                EventDraft("assistant", {"role": "assistant", "content": big("ASSISTANT")}, turn=1),
            ],
        )
    finally:
        await memory.close()
    return sid


async def full_view_of(pilot: Any, view: Any, key: str) -> list[str]:
    app = pilot.app
    view.focus()
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(app.screen, FullTextScreen), "the pager opens")
    pager = app.screen
    await wait_until(pilot, lambda: pager.lines is not None, "the full text is shown")
    lines = list(pager.lines)
    await pilot.press("end")
    await settle(pilot)
    shown = screen_text(app)
    await pilot.press("escape")
    await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen), "back")
    return [*lines[-3:], shown]


async def test_five_megabyte_events_open_and_the_pager_shows_their_end(db_file: Path) -> None:
    sid = await seed_big(db_file)
    app = make_app(settings_for(db_file), resume=sid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        log = screen.query_one(EventLog)
        assert [v.seq for v in log.views] == [1, 2, 3, 4]
        assert log.is_vertical_scroll_end
        text = screen_text(app)
        assert "more characters · ctrl+o (or Enter, a click) shows everything" in text
        assistant = log.views[-1]
        assert isinstance(assistant, AssistantMessageView)
        # Only a bounded prefix was parsed as Markdown.
        assert assistant._parsed is not None and len(assistant._parsed[0]) < 10_000
        *tail, shown = await full_view_of(pilot, assistant, "enter")
        assert tail[-1] == "END-OF-ASSISTANT" and "END-OF-ASSISTANT" in shown
        # From the prompt, ctrl+o opens the long message on screen.
        prompt = screen.query_one("#prompt")
        *tail, shown = await full_view_of(pilot, prompt, "ctrl+o")
        assert tail[-1] == "END-OF-ASSISTANT" and "END-OF-ASSISTANT" in shown
        user = next(v for v in log.views if isinstance(v, UserMessageView))
        *tail, shown = await full_view_of(pilot, user, "enter")
        assert tail[-1] == "END-OF-USER" and "END-OF-USER" in shown
        result = next(v for v in log.views if isinstance(v, ToolResultView))
        result.focus()
        await pilot.press("enter")  # expand: a bounded body
        await settle(pilot)
        body = "\n".join(s.text for s in result.render_lines(result.region.reset_offset))
        assert "more lines · o shows everything" in body
        *tail, shown = await full_view_of(pilot, result, "o")
        assert tail[-1] == "END-OF-TOOL" and "END-OF-TOOL" in shown
