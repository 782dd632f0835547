"""Regenerate and edit in the TUI: the earlier attempt is kept, hidden, shown on demand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from memory import open_embedded
from runtime import payloads
from tests.tui.conftest import SIZE, make_app, settings_for, settle, wait_until, write_script
from tui.screens.session import SessionScreen
from tui.widgets.event_log import EventLog
from tui.widgets.events import AssistantMessageView, UserMessageView
from tui.widgets.inputs import PromptArea
from tui.widgets.superseded import OLD_ATTEMPT, SupersededView

#: Each turn answers differently, so attempts can be told apart.
NUMBERED: dict[str, Any] = {
    "turns": [[{"text": f"answer {n} to {{user}}", "chunk_size": 6}] for n in range(1, 6)]
}


async def stored(path: Path, sid: str) -> list[tuple[str, dict[str, Any]]]:
    memory = await open_embedded(path)
    try:
        return [(e.kind, e.payload) for e in await memory.recall(sid)]
    finally:
        await memory.close()


async def new_session(pilot: Pilot[Any]) -> SessionScreen:
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SessionScreen)
    prompt = screen.query_one("#prompt", PromptArea)
    await wait_until(pilot, lambda: not prompt.disabled and prompt.has_focus, "prompt ready")
    return screen


async def send(pilot: Pilot[Any], screen: SessionScreen, text: str) -> None:
    screen.query_one("#prompt", PromptArea).value = text
    await press_for_turn(pilot, screen, "enter")


async def press_for_turn(pilot: Pilot[Any], screen: SessionScreen, key: str) -> None:
    """Press ``key`` and wait until the turn it starts has been answered and saved."""
    before = len(screen.query(AssistantMessageView))
    await pilot.press(key)
    await wait_until(pilot, lambda: len(screen.query(AssistantMessageView)) > before, "an answer")
    await wait_until(pilot, lambda: not screen.running, "the turn ends")
    await wait_until(pilot, lambda: pilot.app.save_state.pending == 0, "saved")  # type: ignore[attr-defined]
    await settle(pilot)


def shown_answers(screen: SessionScreen) -> list[str]:
    return [v.text for v in screen.query(AssistantMessageView) if v.display]


async def test_regenerate_keeps_the_earlier_answer_hidden_and_out_of_the_prompt(
    db_file: Path, tmp_path: Path
) -> None:
    app = make_app(settings_for(db_file, script=write_script(tmp_path, NUMBERED)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await new_session(pilot)
        await send(pilot, screen, "first")
        await send(pilot, screen, "second")
        # Offered in the footer and so in the command palette (its commands are the
        # screen's enabled footer bindings).
        active = screen.active_bindings
        assert active["ctrl+n"].enabled and active["ctrl+n"].binding.show
        assert active["ctrl+e"].enabled and active["ctrl+e"].binding.description == "Edit last"
        await press_for_turn(pilot, screen, "ctrl+n")

        log = screen.query_one(EventLog)
        assert shown_answers(screen) == ["answer 1 to first", "answer 3 to second"]
        old = [v for v in log.views if v.has_class(OLD_ATTEMPT)]
        assert [type(v) for v in old] == [UserMessageView, AssistantMessageView]
        assert all(not v.display for v in old)
        marker = screen.query_one(SupersededView)
        assert marker.seq == 5 and marker.range == (3, 4)
        assert "Answer regenerated" in str(marker.render())

        await pilot.press("f4")  # earlier attempts: shown, dimmed
        await settle(pilot)
        assert all(v.display for v in old)
        assert "answer 2 to second" in shown_answers(screen)
        assert "shown dimmed above" in str(marker.render())
        await pilot.press("f4")
        await settle(pilot)
        assert all(not v.display for v in old)

        assert screen.conversation is not None
        prompt = [(m["role"], m["content"]) for m in screen.conversation.prompt_messages()]
        assert prompt == [
            ("user", "first"),
            ("assistant", "answer 1 to first"),
            ("user", "second"),
            ("assistant", "answer 3 to second"),
        ]
        sid = screen.session_id
        assert sid is not None
    events = await stored(db_file, sid)
    assert [k for k, _ in events] == ["user", "assistant"] * 2 + [
        "superseded",
        "user",
        "assistant",
    ]
    assert events[3][1]["content"] == "answer 2 to second"  # nothing overwritten
    assert payloads.superseded_range(events[4][1]) == (3, 4)

    # Reopened, the replay hides the earlier attempt behind the same marker.
    app = make_app(settings_for(db_file, script=write_script(tmp_path, NUMBERED)), resume=sid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await wait_until(pilot, lambda: bool(screen.query(SupersededView)), "replay")
        assert shown_answers(screen) == ["answer 1 to first", "answer 3 to second"]


async def test_edit_last_question_resends_it_and_keeps_the_first(
    db_file: Path, tmp_path: Path
) -> None:
    app = make_app(settings_for(db_file, script=write_script(tmp_path, NUMBERED)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await new_session(pilot)
        await send(pilot, screen, "what is 2+2?")
        prompt = screen.query_one("#prompt", PromptArea)
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: screen.editing, "editing")
        assert prompt.value == "what is 2+2?"
        assert "Editing your last question" in str(prompt.border_title)
        await pilot.press("escape")  # stop editing: nothing is sent, the screen stays
        await settle(pilot)
        assert not screen.editing and prompt.value == "" and app.screen is screen

        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: screen.editing, "editing again")
        prompt.value = "what is 3+3?"
        await press_for_turn(pilot, screen, "enter")
        assert not screen.editing
        assert shown_answers(screen) == ["answer 2 to what is 3+3?"]
        assert "Question edited" in str(screen.query_one(SupersededView).render())
        sid = screen.session_id
        assert sid is not None
    events = await stored(db_file, sid)
    assert [p["content"] for k, p in events if k == "user"] == ["what is 2+2?", "what is 3+3?"]
    assert [p.get("reason") for k, p in events if k == "superseded"] == ["edit"]


async def test_regenerate_with_nothing_asked_says_so(db_file: Path, tmp_path: Path) -> None:
    app = make_app(settings_for(db_file, script=write_script(tmp_path, NUMBERED)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await new_session(pilot)
        assert screen.check_action("regenerate", ()) is None  # hidden: nothing to redo
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert not screen.running and not screen.query(SupersededView)


def test_the_cli_transcript_names_the_earlier_attempt() -> None:
    from tui.cli.render import transcript_event

    marker = payloads.superseded(3, 4, reason="regenerate", turn=2)
    line = transcript_event(5, "superseded", marker, "2026-11-25T12:00:00Z")
    assert "Superseded" in line
    assert "events 3-4 are an earlier attempt: the answer was regenerated" in line
    odd = transcript_event(6, "superseded", {"from_seq": "x"}, "2026-11-25T12:00:00Z")
    assert "from_seq" in odd  # a malformed marker is shown as its JSON


async def test_going_to_a_replaced_turn_says_it_is_an_earlier_attempt(
    db_file: Path, tmp_path: Path
) -> None:
    """Turn numbers count every attempt: going to a replaced one says so (it landed
    silently on a hidden event before)."""
    app = make_app(settings_for(db_file, script=write_script(tmp_path, NUMBERED)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await new_session(pilot)
        await send(pilot, screen, "first")
        await send(pilot, screen, "second")
        await press_for_turn(pilot, screen, "ctrl+n")  # turn 2 replaced by turn 3
        notes: list[str] = []
        real_notify = screen.notify

        def spy(message: str, **kwargs: Any) -> None:
            notes.append(message)
            real_notify(message, **kwargs)

        screen.notify = spy  # type: ignore[method-assign]
        for turn, replaced in ((2, True), (3, False)):
            notes.clear()
            await pilot.press("ctrl+g")
            await settle(pilot)
            await pilot.press(*str(turn), "enter")
            await wait_until(pilot, lambda: pilot.app.screen is screen, "back on the session")
            await settle(pilot)
            said = [n for n in notes if "earlier attempt" in n]
            assert bool(said) is replaced, notes
            if replaced:
                assert said[0].startswith(f"Turn {turn} is an earlier attempt") and "F4" in said[0]
