"""An answer that stopped at its length limit says so under it (review finding: a local
answer cut at agent.max_tokens just ended mid-sentence)."""

from __future__ import annotations

from pathlib import Path

from memory import EventDraft, open_embedded
from runtime import payloads
from tests.tui.conftest import SIZE, make_app, screen_text, settings_for, settle, wait_until
from tui.screens.session import SessionScreen
from tui.widgets.events import AssistantMessageView


async def test_a_stored_answer_cut_at_its_length_limit_is_marked(db_file: Path) -> None:
    memory = await open_embedded(db_file)
    try:
        for sid, reason in (("cut", "length"), ("whole", "stop")):
            answer = payloads.assistant(
                "Once upon a time he was a dragon", provider="local", finish_reason=reason
            )
            drafts = [EventDraft("user", payloads.user("a story"), 1)]
            await memory.store(sid, [*drafts, EventDraft("assistant", answer, 1)])
    finally:
        await memory.close()
    for sid, marked in (("cut", True), ("whole", False)):
        app = make_app(settings_for(db_file), resume=sid)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, SessionScreen), "opened")
            await settle(pilot)
            (view,) = app.screen.query(AssistantMessageView)
            assert view.cut_off is marked
            shown = screen_text(app)
            assert "he was a dragon" in shown
            assert ("cut off at the answer length limit" in shown) is marked
