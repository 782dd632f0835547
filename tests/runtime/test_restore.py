"""Resuming sessions (context rebuilt from stored events, within the window) and
memory-disabled mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memory import EphemeralMemory, EventDraft, MemoryBackend, NotFoundError
from runtime import (
    ContextOverflowError,
    Conversation,
    PersistenceWorker,
    TurnFailed,
    TurnFinished,
    open_memory,
)
from runtime.context import fit_units, to_units
from runtime.providers.base import estimate_tokens
from tests.conftest import FrozenClock
from tests.runtime.conftest import make_settings
from tests.runtime.history import assert_well_formed, collect, kinds

ECHO = [[{"text": "reply to {user}"}]]


async def test_resume_continues_with_the_stored_provider_and_full_context(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock
) -> None:
    settings = make_settings(provider="scripted")
    first = await Conversation.open(embedded, worker, settings, clock=clock)
    await collect(first.send("one"))
    await collect(first.send("two"))
    await first.close()
    assert await worker.flush(timeout=10)

    # The default provider is "local"; resuming keeps the session's own provider.
    resumed = await Conversation.open(embedded, worker, make_settings(), first.session_id)
    assert (resumed.session_id, resumed.provider_name, resumed.model_name) == (
        first.session_id,
        "scripted",
        "demo",
    )
    assert resumed.turn == 2
    messages = resumed.prompt_messages()
    assert [m["role"] for m in messages] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
    ] * 2
    assert messages[0]["content"] == "one"
    assert messages[6]["content"] == "two"
    assert messages[1]["tool_calls"][0]["function"]["name"] == "calculator"
    assert messages[2]["tool_call_id"] == messages[1]["tool_calls"][0]["id"]

    progress = await collect(resumed.send("three"))
    assert isinstance(progress[-1], TurnFinished)
    assert progress[-1].turn == 3
    assert await worker.flush(timeout=10)
    events = await embedded.recall(first.session_id)
    assert_well_formed(events)
    assert [e.turn for e in events if e.kind == "user"] == [1, 2, 3]
    info = await embedded.get_session(first.session_id)
    assert info.turns == 3
    await resumed.close()


async def test_resume_unknown_session_is_not_found(
    embedded: MemoryBackend, worker: PersistenceWorker
) -> None:
    with pytest.raises(NotFoundError):
        await Conversation.open(embedded, worker, make_settings(provider="scripted"), "nope")


async def test_long_history_keeps_the_newest_events_that_fit(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock, tmp_path: Path
) -> None:
    session = "long"
    await embedded.create_session(session, provider="scripted", model="script")
    drafts: list[EventDraft] = []
    for turn in range(1, 401):
        for role, word in (("user", "question"), ("assistant", "answer")):
            drafts.append(EventDraft(role, {"role": role, "content": f"{word} {turn} " * 8}, turn))
    await embedded.store(session, drafts)
    script = tmp_path / "echo.json"
    script.write_text(json.dumps(ECHO))
    settings = make_settings(context_window=1024, max_tokens=128, tools=False, system_prompt="")
    conversation = await Conversation.open(
        embedded, worker, settings, session, provider="scripted", script=script
    )
    assert conversation.turn == 400
    messages = conversation.prompt_messages()
    assert 2 <= len(messages) < 100
    contents = [m["content"] for m in messages]
    # The newest events, in order, with nothing skipped in between.
    assert contents == [d.payload["content"] for d in drafts][-len(messages) :]
    tokens = sum(estimate_tokens(text) + 4 for text in contents)
    assert tokens <= 1024 - 128

    progress = await collect(conversation.send("and now?"))
    assert isinstance(progress[-1], TurnFinished)
    assert progress[-1].text == "reply to and now?"
    assert await worker.flush(timeout=10)
    events = await embedded.recall(session)
    assert len(events) == 802  # the stored history stays complete
    assert_well_formed(events)


async def test_a_message_too_long_for_the_window_is_a_typed_error_event(
    embedded: MemoryBackend, worker: PersistenceWorker
) -> None:
    settings = make_settings(provider="scripted", context_window=512, max_tokens=64)
    conversation = await Conversation.open(embedded, worker, settings)
    progress = await collect(conversation.send("word " * 2000))
    assert isinstance(progress[-1], TurnFailed)
    assert isinstance(progress[-1].error, ContextOverflowError)
    assert await worker.flush(timeout=10)
    events = await embedded.recall(conversation.session_id)
    assert kinds(events) == ["user", "error"]
    assert events[1].payload["title"] == "Message too long for the model"


def test_units_keep_tool_calls_with_their_results() -> None:
    events: list[Any] = [
        EventDraft("user", {"content": "q"}),
        EventDraft("assistant", {"content": "let me see"}),
        EventDraft("tool_call", {"call_id": "a", "name": "calculator", "arguments": {"x": 1}}),
        EventDraft("tool_result", {"call_id": "a", "name": "calculator", "result": 2}),
        EventDraft("tool_call", {"call_id": "b", "name": "calculator", "arguments": {}}),
        EventDraft("tool_result", {"call_id": "b", "name": "calculator", "error": "bad"}),
        EventDraft("error", {"title": "x", "message": "y"}),
        EventDraft("tool_result", {"call_id": "zzz", "name": "orphan", "result": 1}),
        EventDraft("tool_call", {"call_id": "c", "name": "lost", "arguments": {}}),
    ]
    units = to_units(events, estimate_tokens)
    assert [[m["role"] for m in u.messages] for u in units] == [
        ["user"],
        ["assistant", "tool"],
        ["assistant", "tool"],
        ["assistant", "tool"],
    ]
    assert units[1].messages[0]["content"] == "let me see"
    assert units[2].messages[1]["content"] == '{"error": "bad"}'
    assert "no result was recorded" in units[3].messages[1]["content"]
    # Dropping from the front never splits a unit.
    budget = units[-1].tokens + units[-2].tokens
    messages = fit_units(units, required=1, budget=budget)
    assert [m["role"] for m in messages] == ["assistant", "tool", "assistant", "tool"]
    with pytest.raises(ContextOverflowError):
        fit_units(units, required=2, budget=budget - 1)


async def test_memory_disabled_runs_the_same_on_the_ephemeral_backend(
    monkeypatch: pytest.MonkeyPatch, clock: FrozenClock
) -> None:
    monkeypatch.setenv("TURNKEEP_MEMORY__ENABLED", "false")
    settings = make_settings(provider="scripted")
    memory = await open_memory(settings)
    assert isinstance(memory, EphemeralMemory)
    worker = PersistenceWorker(memory)
    assert worker.state.disabled
    await worker.start()
    conversation = await Conversation.open(memory, worker, settings, clock=clock)
    progress = await collect(conversation.send("hello"))
    assert isinstance(progress[-1], TurnFinished)
    assert await worker.flush(timeout=10)
    assert worker.state.disabled and worker.state.last_saved_seq == 7
    events = await memory.recall(conversation.session_id)
    assert_well_formed(events)
    assert kinds(events)[0] == "user"
    resumed = await Conversation.open(memory, worker, settings, conversation.session_id)
    assert resumed.turn == 1
    await collect(resumed.send("again"))
    assert await worker.stop(timeout=5) == []
    assert len(await memory.recall(conversation.session_id)) == 14
    await memory.close()
