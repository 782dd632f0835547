"""Tool flows driven by the scripted provider: events, order, save points, failures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memory import EventDraft, MemoryBackend
from runtime import (
    Conversation,
    PersistenceWorker,
    RuntimeLayerError,
    ScriptError,
    TextDelta,
    ToolFinished,
    ToolStarted,
    TurnFailed,
    TurnFinished,
)
from runtime.errors import ProviderConfigError, ProviderConnectionError
from runtime.providers.scripted import ScriptedProvider, parse_script
from tests.conftest import FrozenClock
from tests.runtime.conftest import make_settings
from tests.runtime.history import assert_well_formed, collect, kinds


async def open_scripted(
    memory: MemoryBackend,
    worker: PersistenceWorker,
    clock: FrozenClock,
    script: Any = None,
    **agent: Any,
) -> Conversation:
    settings = make_settings(provider="scripted", **agent)
    provider = ScriptedProvider(None if script is None else parse_script(script))
    return await Conversation.open(
        memory, worker, settings, provider_instance=provider, clock=clock
    )


async def test_default_script_calls_tools_then_quotes_the_message(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock
) -> None:
    settings = make_settings(provider="scripted")
    conversation = await Conversation.open(embedded, worker, settings, clock=clock)
    assert (conversation.provider_name, conversation.model_name, conversation.turn) == (
        "scripted",
        "demo",
        0,
    )
    progress = await collect(conversation.send("Hello «world»"))
    deltas = [p.text for p in progress if isinstance(p, TextDelta)]
    assert len(deltas) >= 4  # streamed in several chunks
    started = [p for p in progress if isinstance(p, ToolStarted)]
    finished = [p for p in progress if isinstance(p, ToolFinished)]
    assert [p.name for p in started] == ["calculator", "current_time"]
    assert finished[0].result == {"expression": "6 * 7", "value": 42}
    assert finished[1].result["utc"] == "2026-11-25T12:00:00Z"
    final = progress[-1]
    assert isinstance(final, TurnFinished)
    assert final.turn == 1
    assert 'You said: "Hello «world»"' in final.text
    assert final.text == "".join(deltas)

    assert await worker.flush(timeout=10)
    assert conversation.unsaved_save_points == 0
    events = await embedded.recall(conversation.session_id)
    assert_well_formed(events)
    assert kinds(events) == [
        "user",
        "assistant",
        "tool_call",
        "tool_result",
        "tool_call",
        "tool_result",
        "assistant",
    ]
    assert {e.turn for e in events} == {1}
    assert events[0].payload == {"role": "user", "content": "Hello «world»"}
    last = events[-1].payload
    assert last["content"].startswith('You said: "Hello «world»"')
    assert (last["provider"], last["model"], last["finish_reason"]) == ("scripted", "demo", "stop")
    assert set(last["timings"]) == {"first_token_ms", "total_ms"}
    assert events[2].payload["call_id"] == events[3].payload["call_id"]
    info = await embedded.get_session(conversation.session_id)
    assert (info.provider, info.model, info.turns) == ("scripted", "demo", 1)
    await conversation.close()


async def test_each_tool_result_is_its_own_save_point(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock
) -> None:
    conversation = await open_scripted(embedded, worker, clock)
    saved: list[list[str]] = []
    conversation.add_saved_listener(lambda drafts, seqs: saved.append([d.kind for d in drafts]))
    await collect(conversation.send("hi"))
    assert await worker.flush(timeout=10)
    # The question is its own save point, made the moment it is sent (issue 12).
    assert saved == [
        ["user"],
        ["assistant", "tool_call", "tool_result"],
        ["tool_call", "tool_result"],
        ["assistant"],
    ]


async def test_many_tool_calls_and_failing_tools_are_stored_in_order(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock
) -> None:
    script = [
        [
            {
                "text": "Working.",
                "tool_calls": [
                    {"name": "calculator", "arguments": {"expression": "2 + 2"}, "id": "c1"},
                    {"name": "calculator", "arguments": {"expression": "1 / 0"}, "id": "c2"},
                    {"name": "no_such_tool", "arguments": {}, "id": "c3"},
                ],
            },
            {
                "tool_calls": [
                    {"name": "calculator", "raw_arguments": "{not json", "id": "c4"},
                    {"name": "calculator", "arguments": {"expr": "1"}, "id": "c5"},
                    {"name": "current_time", "arguments": {"timezone": "Asia/Tokyo"}, "id": "c6"},
                ]
            },
            {"text": "All done despite the failures."},
        ]
    ]
    conversation = await open_scripted(embedded, worker, clock, script)
    progress = await collect(conversation.send("go"))
    finished = {p.call_id: p for p in progress if isinstance(p, ToolFinished)}
    assert finished["c1"].result == {"expression": "2 + 2", "value": 4}
    assert finished["c2"].error == "calculator: division by zero"
    assert "no tool named 'no_such_tool'" in (finished["c3"].error or "")
    assert "not valid JSON" in (finished["c4"].error or "")
    assert "missing argument 'expression'" in (finished["c5"].error or "")
    assert finished["c6"].result["timezone"] == "Asia/Tokyo"
    assert isinstance(progress[-1], TurnFinished)

    assert await worker.flush(timeout=10)
    events = await embedded.recall(conversation.session_id)
    assert_well_formed(events)
    pairs = [
        (e.kind, e.payload["call_id"]) for e in events if e.kind in ("tool_call", "tool_result")
    ]
    assert pairs == [(kind, f"c{n}") for n in range(1, 7) for kind in ("tool_call", "tool_result")]
    results = {e.payload["call_id"]: e.payload for e in events if e.kind == "tool_result"}
    assert results["c1"]["result"]["value"] == 4
    assert results["c2"]["error"] == "calculator: division by zero"
    assert "result" not in results["c2"]
    call4 = next(e for e in events if e.kind == "tool_call" and e.payload["call_id"] == "c4")
    assert call4.payload["raw_arguments"] == "{not json"
    assert call4.payload["arguments"] == {}
    assert kinds(events)[-1] == "assistant"
    assert events[-1].payload["content"] == "All done despite the failures."


async def test_tool_rounds_are_limited(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock
) -> None:
    looping = {"name": "calculator", "arguments": {"expression": "1"}}
    script = [[{"tool_calls": [looping]}, {"tool_calls": [looping]}, {"tool_calls": [looping]}]]
    conversation = await open_scripted(embedded, worker, clock, script, max_tool_rounds=2)
    progress = await collect(conversation.send("loop"))
    errors = [p.error for p in progress if isinstance(p, ToolFinished)]
    assert errors[:2] == [None, None]
    assert "not run: no tools were offered" in (errors[2] or "")
    assert isinstance(progress[-1], TurnFinished)
    assert await worker.flush(timeout=10)
    assert_well_formed(await embedded.recall(conversation.session_id))


@pytest.mark.parametrize(
    ("kind", "title"),
    [
        ("connection", "Cannot reach the model server"),
        ("auth", "Model server refused the API key"),
        ("context", "Message too long for the model"),
        ("model", "Model not found"),
    ],
)
async def test_provider_errors_end_the_turn_with_an_error_event(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock, kind: str, title: str
) -> None:
    script = [[{"chunks": ["partial ", "answer"], "error": {"type": kind, "message": "boom"}}]]
    conversation = await open_scripted(embedded, worker, clock, script)
    progress = await collect(conversation.send("hi"))
    failed = progress[-1]
    assert isinstance(failed, TurnFailed)
    assert failed.error.title == title
    assert await worker.flush(timeout=10)
    events = await embedded.recall(conversation.session_id)
    assert kinds(events) == ["user", "error"]
    payload = events[-1].payload
    assert payload["title"] == title
    assert payload["message"] == "boom"
    assert payload["hint"]
    assert payload["partial_content"] == "partial answer"
    # The conversation goes on after a failed turn.
    script_ok = await collect(conversation.send("again"))
    assert isinstance(script_ok[-1], TurnFailed)  # the script repeats its only turn
    assert conversation.turn == 2


async def test_provider_error_and_connection_error_types(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock
) -> None:
    script = [[{"error": {"type": "connection", "message": "server down"}}]]
    conversation = await open_scripted(embedded, worker, clock, script)
    (failed,) = await collect(conversation.send("hi"))
    assert isinstance(failed, TurnFailed)
    assert isinstance(failed.error, ProviderConnectionError)


async def test_script_files_are_validated_with_their_location(tmp_path: Path) -> None:
    from runtime.providers.scripted import load_script

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"turns": [[{"text": 5}]]}))
    with pytest.raises(ScriptError, match=r"turns\[0\]\[0\]: text must be a string"):
        load_script(bad)
    bad.write_text("{nope")
    with pytest.raises(ScriptError, match="not valid JSON"):
        load_script(bad)
    with pytest.raises(ScriptError, match="cannot read"):
        load_script(tmp_path / "missing.json")
    bad.write_text(json.dumps([[{"tool_calls": [{"arguments": {}}]}]]))
    with pytest.raises(ScriptError, match="needs a string name"):
        load_script(bad)
    assert isinstance(ScriptError("x"), ProviderConfigError)


async def test_non_repeating_script_runs_out_with_a_typed_error(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock
) -> None:
    script = {"repeat": False, "turns": [[{"text": "only once"}]]}
    conversation = await open_scripted(embedded, worker, clock, script)
    first = await collect(conversation.send("one"))
    assert isinstance(first[-1], TurnFinished)
    second = await collect(conversation.send("two"))
    assert isinstance(second[-1], TurnFailed)
    assert isinstance(second[-1].error, ScriptError)
    assert await worker.flush(timeout=10)
    events = await embedded.recall(conversation.session_id)
    assert kinds(events) == ["user", "assistant", "user", "error"]


async def test_a_forced_tool_that_is_not_offered_is_a_config_error(
    embedded: MemoryBackend, worker: PersistenceWorker
) -> None:
    settings = make_settings(provider="scripted", tool_choice="rm_rf")
    with pytest.raises(ProviderConfigError, match="rm_rf"):
        await Conversation.open(embedded, worker, settings)
    assert (await embedded.list_sessions()).sessions == ()


async def test_one_turn_at_a_time(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock
) -> None:
    conversation = await open_scripted(embedded, worker, clock, [[{"text": "x", "hang": True}]])
    stream = conversation.send("first")
    assert isinstance(await anext(stream), TextDelta)
    with pytest.raises(RuntimeLayerError, match="already running"):
        await anext(conversation.send("second"))
    await stream.aclose()
    assert not conversation.running


async def test_a_new_session_is_titled_after_its_first_message(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock
) -> None:
    conversation = await Conversation.open(
        embedded, worker, make_settings(provider="scripted"), clock=clock
    )
    long_line = "Plan the migration of the billing service " + "x" * 80
    await collect(conversation.send(f"\n  {long_line}\nsecond line"))
    await collect(conversation.send("a later message does not rename it"))
    info = await embedded.get_session(conversation.session_id)
    assert info.title is not None
    assert info.title.startswith("Plan the migration of the billing service")
    assert len(info.title) == 60 and info.title.endswith("…")
    await embedded.rename_session(conversation.session_id, "Mine")
    resumed = await Conversation.open(
        embedded, worker, make_settings(provider="scripted"), conversation.session_id, clock=clock
    )
    await collect(resumed.send("another"))
    assert (await embedded.get_session(conversation.session_id)).title == "Mine"


async def test_opening_an_imported_session_changes_nothing_until_a_turn(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock
) -> None:
    # An imported session: its model is known, its provider (another tool) is not.
    await embedded.store(
        "imported",
        [
            EventDraft("user", {"role": "user", "content": "Search for weekday parsing"}),
            EventDraft("assistant", {"role": "assistant", "content": "In src/dates.py."}),
        ],
    )
    await embedded.create_session("imported", title="Weekday parsing", model="claude-haiku-4")
    before = await embedded.get_session("imported")
    clock.advance(60)

    def resume() -> Any:
        return Conversation.open(
            embedded,
            worker,
            make_settings(provider="scripted"),
            "imported",
            provider_instance=ScriptedProvider(None),
            clock=clock,
        )

    # Opened to read it (as the TUI does when a session is opened), then left.
    viewer = await resume()
    await viewer.close()
    assert await embedded.get_session("imported") == before
    # Its first live turn records the provider and model that answered it.
    resumed = await resume()
    try:
        assert isinstance((await collect(resumed.send("And on Sundays?")))[-1], TurnFinished)
    finally:
        await resumed.close()
    assert await worker.flush(timeout=10)
    after = await embedded.get_session("imported")
    assert (after.provider, after.model, after.turns) == ("scripted", "demo", 2)
    assert after.title == "Weekday parsing"
