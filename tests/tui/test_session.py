"""The session screen: ordered replay, paging a long history, live turns, cancel, resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from memory import EventDraft, open_embedded
from tests.tui.conftest import (
    HANG_SCRIPT,
    SIZE,
    TOOL_SCRIPT,
    make_app,
    settings_for,
    settle,
    wait_until,
    write_script,
)
from tests.tui.seed import seed_long_session, session_id
from tui.screens.home import HomeScreen
from tui.screens.session import SessionScreen
from tui.widgets.event_log import EventLog
from tui.widgets.events import AssistantMessageView, MarkerView, UserMessageView
from tui.widgets.save_status import StatusLine, save_label
from tui.widgets.tool_views import ToolCallView, ToolResultView, ToolView


def log_of(app: Any) -> EventLog:
    return app.screen.query_one(EventLog)


async def stored(path: Path, sid: str) -> list[tuple[int, str, dict[str, Any]]]:
    memory = await open_embedded(path)
    try:
        return [(e.seq, e.kind, e.payload) for e in await memory.recall(sid)]
    finally:
        await memory.close()


async def test_replay_shows_every_event_in_order(demo_db: Path) -> None:
    app = make_app(settings_for(demo_db), resume=session_id(1))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen)
        views = log_of(app).views
        assert [v.seq for v in views] == list(range(1, 11))
        kinds = [type(v) for v in views]
        assert kinds == [
            UserMessageView,
            ToolCallView,
            ToolResultView,
            ToolCallView,
            ToolResultView,
            AssistantMessageView,
            UserMessageView,
            ToolCallView,
            ToolResultView,
            AssistantMessageView,
        ]
        assert isinstance(views[0], UserMessageView)
        assert views[0].text.startswith("The upload test fails")
        assert isinstance(views[5], AssistantMessageView)
        assert "```python" in views[5].text
        tools = [v for v in views if isinstance(v, ToolView)]
        assert tools and not any(v.expanded for v in tools)


async def test_tool_events_expand_with_pretty_json(demo_db: Path) -> None:
    app = make_app(settings_for(demo_db), resume=session_id(1))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        result = next(v for v in log_of(app).views if isinstance(v, ToolResultView))
        result.focus()
        height = result.size.height
        await pilot.press("enter")
        await settle(pilot)
        assert result.expanded
        assert result.size.height > height
        assert '"lines": 42' in "\n".join(
            strip.text for strip in result.render_lines(result.region.reset_offset)
        )
        await pilot.press("enter")
        await settle(pilot)
        assert not result.expanded
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert all(v.expanded for v in log_of(app).views if isinstance(v, ToolView))


async def test_cancelled_and_failed_turns_are_marked(demo_db: Path) -> None:
    app = make_app(settings_for(demo_db), resume=session_id(3))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        marker = log_of(app).views[-1]
        assert isinstance(marker, MarkerView) and marker.kind == "cancelled"
        assert marker.partial == "Here is"
    app = make_app(settings_for(demo_db), resume=session_id(4))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        marker = log_of(app).views[-1]
        assert isinstance(marker, MarkerView) and marker.kind == "error"
        assert "2,048-token context" in marker.text


async def test_long_session_opens_at_the_newest_events_and_pages_back(
    db_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(EventLog, "MAX_MOUNTED", 120)
    sid = await seed_long_session(db_file, 5_000)
    app = make_app(settings_for(db_file), resume=sid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        log = log_of(app)
        seqs = [v.seq for v in log.views]
        assert seqs[-1] == 5_000
        assert len(seqs) <= SessionScreen.FIRST_PAGE + SessionScreen.PAGE
        assert seqs == list(range(seqs[0], 5_001))
        visible_before = seqs[-1]
        for _ in range(6):
            oldest = log.oldest_seq
            log.scroll_home(animate=False)
            await wait_until(pilot, lambda o=oldest: log.oldest_seq != o, "older events loaded")
            await settle(pilot)
            seqs = [v.seq for v in log.views]
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "gap or duplicate"
            assert len(seqs) <= EventLog.MAX_MOUNTED
        assert log.oldest_seq is not None and log.oldest_seq < 5_000 - 250
        assert not log.at_end, "the newest events were let go of"
        # Back down: the newest events come back, in order, without duplicates.
        for _ in range(12):
            if log.at_end:
                break
            newest = log.newest_seq
            log.scroll_end(animate=False)
            await wait_until(
                pilot, lambda n=newest: log.newest_seq != n or log.at_end, "newer events loaded"
            )
            await settle(pilot)
        seqs = [v.seq for v in log.views]
        assert seqs[-1] == visible_before
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        assert len(seqs) <= EventLog.MAX_MOUNTED


async def test_live_turn_streams_and_is_saved(demo_db: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path, TOOL_SCRIPT)
    app = make_app(settings_for(demo_db, script=script))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        assert screen.focused is not None and screen.focused.id == "prompt"
        await pilot.press(*"What is six times seven?", "enter")
        await settle(pilot)
        await wait_until(pilot, lambda: app.save_state.pending == 0, "saved")
        sid = screen.session_id
        assert sid is not None
        views = log_of(app).views
        assert [type(v) for v in views] == [
            UserMessageView,
            AssistantMessageView,
            ToolCallView,
            ToolResultView,
            AssistantMessageView,
        ]
        assert isinstance(views[-1], AssistantMessageView)
        assert views[-1].text == "You asked: What is six times seven?. It is **42**."
        assert not views[-1].streaming
        label, kind = save_label(screen.query_one(StatusLine).save_state)
        assert (label, kind) == ("✓ saved", "ok")
        rows = await stored(demo_db, sid)
        assert [kind for _seq, kind, _payload in rows] == [
            "user",
            "assistant",
            "tool_call",
            "tool_result",
            "assistant",
        ]
        assert rows[3][2]["result"]["value"] == 42
        # Every live view knows its stored seq, so paging never shows it twice.
        assert [v.seq for v in views] == [seq for seq, _k, _p in rows]
        assert screen.sub_title == "What is six times seven?"


async def test_escape_cancels_a_running_turn(demo_db: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path, HANG_SCRIPT)
    app = make_app(settings_for(demo_db, script=script))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await pilot.press(*"why?", "enter")

        def streaming() -> bool:
            views = log_of(app).views
            return (
                bool(views)
                and isinstance(views[-1], AssistantMessageView)
                and (views[-1].text.endswith("here is why"))
            )

        await wait_until(pilot, streaming, "the answer streams until the script hangs")
        assert screen.running
        assert screen.check_action("cancel_turn", ()) is True
        assert screen.check_action("back", ()) is False
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.running, "the turn ends")
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen), "Esc cancelled; it did not leave"
        marker = log_of(app).views[-1]
        assert isinstance(marker, MarkerView) and marker.kind == "cancelled"
        await wait_until(pilot, lambda: app.save_state.pending == 0, "saved")
        assert screen.session_id is not None
        rows = await stored(demo_db, screen.session_id)
        kinds = [kind for _seq, kind, _payload in rows]
        assert kinds == ["user", "assistant", "tool_call", "tool_result", "cancelled"]
        assert rows[-1][2]["partial_content"] == "The answer is **42**, and here is why"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


async def test_resume_continues_with_the_stored_provider_and_model(
    db_file: Path, tmp_path: Path
) -> None:
    script = write_script(tmp_path, TOOL_SCRIPT)
    memory = await open_embedded(db_file)
    sid = session_id(42)
    try:
        await memory.create_session(sid, title="Earlier", provider="scripted", model="replay-7")
        await memory.store(sid, [EventDraft("user", {"role": "user", "content": "first"})])
    finally:
        await memory.close()
    app = make_app(settings_for(db_file, script=script), resume=sid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        status = screen.query_one(StatusLine)
        assert (status.provider, status.model) == ("scripted", "replay-7")
        await pilot.press(*"again", "enter")
        await settle(pilot)
        await wait_until(pilot, lambda: app.save_state.pending == 0, "saved")
    rows = await stored(db_file, sid)
    assert rows[0][1:] == ("user", {"role": "user", "content": "first"})
    assert rows[1][1:] == ("user", {"role": "user", "content": "again"})
    answers = [p for _s, kind, p in rows if kind == "assistant"]
    assert answers and all((p["provider"], p["model"]) == ("scripted", "replay-7") for p in answers)


async def test_continue_opens_the_most_recent_session(demo_db: Path) -> None:
    app = make_app(settings_for(demo_db), continue_last=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen)
        assert app.screen.session_id == session_id(1)


async def test_resume_of_an_unknown_id_exits_1_saying_session_not_found(demo_db: Path) -> None:
    """As every command that takes an id (README): exit 1, "Session not found"."""
    app = make_app(settings_for(demo_db), resume="no-such-session")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
    assert app.return_code == 1
    assert app.exit_note is not None
    assert app.exit_note.startswith("turnkeep: Session not found:")
    assert "'no-such-session'" in app.exit_note


async def test_quitting_mid_turn_keeps_a_well_formed_history(demo_db: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path, HANG_SCRIPT)
    app = make_app(settings_for(demo_db, script=script))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await pilot.press(*"why?", "enter")
        await wait_until(
            pilot,
            lambda: any(
                isinstance(v, AssistantMessageView) and v.streaming for v in log_of(app).views
            ),
            "the answer streams",
        )
        sid = screen.session_id
        await pilot.press("ctrl+q")
    assert sid is not None
    assert app.unsaved == []
    kinds = [kind for _seq, kind, _payload in await stored(demo_db, sid)]
    assert kinds[0] == "user" and kinds[-1] == "cancelled"
    assert kinds.count("tool_call") == kinds.count("tool_result")


async def test_with_memory_disabled_turns_run_and_the_status_says_nothing_is_saved(
    tmp_path: Path,
) -> None:
    from runtime.settings import load_settings

    settings = load_settings(memory={"enabled": False}, agent={"provider": "scripted"})
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"hi", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        status = screen.query_one(StatusLine)
        assert save_label(status.save_state, disabled=status.memory_disabled)[0] == (
            "memory off: nothing is saved"
        )
        assert isinstance(log_of(app).views[-1], AssistantMessageView)
    assert not any(tmp_path.rglob("*.db")), "nothing was written"


async def test_ctrl_end_jumps_back_to_the_newest_event(
    db_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(EventLog, "MAX_MOUNTED", 100)
    sid = await seed_long_session(db_file, 1_000)
    app = make_app(settings_for(db_file), resume=sid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        log = log_of(app)
        while log.at_end:
            oldest = log.oldest_seq
            log.scroll_home(animate=False)
            await wait_until(pilot, lambda o=oldest: log.oldest_seq != o, "older events loaded")
            await settle(pilot)
        await wait_until(pilot, lambda: log.views[-1].seq != 1_000, "the newest let go of")
        await pilot.press("ctrl+end")
        await wait_until(
            pilot,
            lambda: log.at_end and log.views[-1].seq == 1_000 and log.is_vertical_scroll_end,
            "back at the newest event, scrolled to the end",
        )
        seqs = [v.seq for v in log.views]
        assert seqs == list(range(seqs[0], 1_001))
