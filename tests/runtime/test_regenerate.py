"""Regenerate and edit: the earlier attempt stays stored, and the prompt leaves it out."""

from __future__ import annotations

from typing import Any

import pytest

from memory import Event, EventDraft, MemoryBackend
from runtime import Conversation, PersistenceWorker, TurnFinished, payloads
from runtime.attempts import find_last_attempt
from runtime.context import recall_window, to_units
from runtime.errors import NothingToRetryError
from runtime.providers.base import estimate_tokens
from runtime.providers.local import LocalProvider
from runtime.providers.scripted import ScriptedProvider, parse_script
from tests.conftest import FrozenClock
from tests.runtime.conftest import make_settings
from tests.runtime.history import assert_well_formed, collect, kinds

#: Each turn answers with a different text, so attempts can be told apart.
NUMBERED = {"turns": [[{"text": f"answer {n} to {{user}}"}] for n in range(1, 6)]}


async def open_scripted(
    memory: MemoryBackend,
    worker: PersistenceWorker,
    clock: FrozenClock,
    session_id: str | None = None,
) -> Conversation:
    provider = ScriptedProvider(parse_script(NUMBERED))
    return await Conversation.open(
        memory,
        worker,
        make_settings(provider="scripted"),
        session_id,
        provider_instance=provider,
        clock=clock,
    )


def contents(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in messages]


async def test_regenerate_keeps_the_earlier_attempt_and_the_prompt_skips_it(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock
) -> None:
    conversation = await open_scripted(embedded, worker, clock)
    await collect(conversation.send("first"))
    await collect(conversation.send("second"))
    progress = await collect(conversation.redo("regenerate"))
    final = progress[-1]
    assert isinstance(final, TurnFinished)
    assert final.text == "answer 3 to second"
    assert await worker.flush(timeout=10)

    events = await embedded.recall(conversation.session_id)
    assert_well_formed(events)
    assert kinds(events) == ["user", "assistant"] * 2 + ["superseded", "user", "assistant"]
    # Nothing was overwritten: the earlier answer is still stored, then marked.
    assert events[3].payload["content"] == "answer 2 to second"
    marker = events[4]
    assert payloads.superseded_range(marker.payload) == (3, 4)
    assert marker.payload["reason"] == "regenerate"
    assert marker.turn == events[5].turn == 3
    assert contents(conversation.prompt_messages()) == [
        ("user", "first"),
        ("assistant", "answer 1 to first"),
        ("user", "second"),
        ("assistant", "answer 3 to second"),
    ]

    # A resumed conversation (window from the checkpoint) builds the same prompt.
    await conversation.close()
    resumed = await open_scripted(embedded, worker, clock, conversation.session_id)
    assert contents(resumed.prompt_messages()) == contents(conversation.prompt_messages())


async def test_edit_sends_the_changed_question_and_keeps_the_first(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock
) -> None:
    conversation = await open_scripted(embedded, worker, clock)
    await collect(conversation.send("what is 2+2?"))
    await collect(conversation.redo("edit", "what is 3+3?"))
    await collect(conversation.redo("regenerate"))  # regenerates the edited question
    assert await worker.flush(timeout=10)
    events = await embedded.recall(conversation.session_id)
    assert [payloads.message_text(e.payload) for e in events if e.kind == "user"] == [
        "what is 2+2?",
        "what is 3+3?",
        "what is 3+3?",
    ]
    ranges = [payloads.superseded_range(e.payload) for e in events if e.kind == "superseded"]
    assert ranges == [(1, 2), (4, 5)]
    assert contents(conversation.prompt_messages()) == [
        ("user", "what is 3+3?"),
        ("assistant", "answer 3 to what is 3+3?"),
    ]


async def test_nothing_to_regenerate_in_an_empty_session(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock
) -> None:
    conversation = await open_scripted(embedded, worker, clock)
    with pytest.raises(NothingToRetryError, match="no question"):
        await collect(conversation.redo("regenerate"))
    await collect(conversation.send("hi"))
    with pytest.raises(NothingToRetryError, match="empty"):
        await collect(conversation.redo("edit", "   "))
    assert await worker.flush(timeout=10)
    assert kinds(await embedded.recall(conversation.session_id)) == ["user", "assistant"]


async def test_find_last_attempt_spans_tool_calls_and_pages_back(
    embedded: MemoryBackend, clock: FrozenClock
) -> None:
    await embedded.create_session("s-long")
    drafts = [EventDraft("user", payloads.user("go"), 1)]
    for n in range(250):  # more than one page of tool events after the question
        call = f"c{n}"
        drafts.append(EventDraft("tool_call", payloads.tool_call(call, "calculator", {}), 1))
        drafts.append(
            EventDraft("tool_result", payloads.tool_result(call, "calculator", result=n), 1)
        )
    await embedded.store("s-long", drafts)
    attempt = await find_last_attempt(embedded, "s-long")
    assert (attempt.from_seq, attempt.to_seq, attempt.question) == (1, 501, "go")


def stored(seq: int, kind: str, payload: dict[str, Any], turn: int = 1) -> Event:
    import json

    return Event("s", seq, turn, kind, json.dumps(payload), "2026-11-25T12:00:00Z")


def test_to_units_skips_every_superseded_range_and_old_rows_still_decode() -> None:
    events = [
        stored(1, "user", payloads.user("a")),
        stored(2, "tool_call", payloads.tool_call("x", "calculator", {})),
        stored(3, "tool_result", payloads.tool_result("x", "calculator", result=1)),
        stored(4, "assistant", payloads.assistant("old")),
        stored(5, "superseded", payloads.superseded(1, 4, reason="regenerate"), 2),
        stored(6, "user", payloads.user("a"), 2),
        stored(7, "assistant", payloads.assistant("new"), 2),
        # a malformed marker (hand-edited or from elsewhere) hides nothing
        stored(8, "superseded", {"from_seq": "6", "to_seq": 7}, 3),
    ]
    messages = [m for unit in to_units(events, estimate_tokens) for m in unit.messages]
    assert contents(messages) == [("user", "a"), ("assistant", "new")]
    assert payloads.searchable_text("superseded", events[4].payload) == ""
    with pytest.raises(ValueError, match="from_seq"):
        payloads.superseded(5, 4, reason="edit")
    with pytest.raises(ValueError, match="reason"):
        payloads.superseded(1, 4, reason="overwrite")


async def test_recall_window_does_not_spend_budget_on_superseded_events(
    embedded: MemoryBackend,
) -> None:
    await embedded.create_session("s-big")
    big = "x" * 4000
    await embedded.store(
        "s-big",
        [
            EventDraft("user", payloads.user("early question"), 1),
            EventDraft("assistant", payloads.assistant("early answer"), 1),
            EventDraft("user", payloads.user("q"), 2),
            *[EventDraft("assistant", payloads.assistant(big), 2) for _ in range(300)],
            EventDraft("superseded", payloads.superseded(3, 303, reason="regenerate"), 3),
            EventDraft("user", payloads.user("q"), 3),
            EventDraft("assistant", payloads.assistant("short"), 3),
        ],
    )
    window = await recall_window(embedded, "s-big", budget=200, count=estimate_tokens)
    assert window[0].seq == 1  # the superseded 1.2 MB cost nothing, so the start fits
    messages = [m for unit in to_units(window, estimate_tokens) for m in unit.messages]
    assert contents(messages) == [
        ("user", "early question"),
        ("assistant", "early answer"),
        ("user", "q"),
        ("assistant", "short"),
    ]


async def test_regenerate_with_the_local_model(
    embedded: MemoryBackend, worker: PersistenceWorker, local_provider: LocalProvider
) -> None:
    settings = make_settings(provider="local", max_tokens=12, temperature=0)
    conversation = await Conversation.open(
        embedded, worker, settings, provider_instance=local_provider
    )
    await collect(conversation.send("Name a colour."))
    progress = await collect(conversation.redo("regenerate"))
    assert isinstance(progress[-1], TurnFinished)
    assert await worker.flush(timeout=10)
    events = await embedded.recall(conversation.session_id)
    assert kinds(events)[:2] == ["user", "assistant"]
    assert kinds(events)[2:4] == ["superseded", "user"]
    assert events[-1].kind == "assistant"
    prompt = contents(conversation.prompt_messages())
    assert [role for role, _ in prompt] == ["user", "assistant"]
    assert prompt[1][1] == events[-1].payload["content"]


async def test_an_attempt_interleaved_with_another_writers_turn_is_not_superseded(
    embedded: MemoryBackend,
) -> None:
    """Two writers asked in one session at once: the last question's answer came after
    the other turn's question and among its events. Superseding "the last question to
    the end" would hide the other turn's finished answer, so it is refused."""

    def ask(turn: int, text: str) -> EventDraft:
        return EventDraft("user", payloads.user(text), turn)

    def answer(turn: int, text: str) -> EventDraft:
        return EventDraft("assistant", payloads.assistant(text), turn)

    await embedded.store("two", [ask(1, "first"), answer(1, "one")])
    await embedded.store("two", [ask(2, "from B")])
    await embedded.store("two", [ask(3, "from A")])
    await embedded.store("two", [answer(2, "B's answer")])
    await embedded.store("two", [answer(3, "A's answer")])
    with pytest.raises(NothingToRetryError, match="interleaved with another turn"):
        await find_last_attempt(embedded, "two")
    # Once a turn is taken alone after them, it can be superseded again.
    await embedded.store("two", [ask(4, "again"), answer(4, "fine")])
    attempt = await find_last_attempt(embedded, "two")
    assert (attempt.turn, attempt.from_seq, attempt.to_seq) == (4, 7, 8)
