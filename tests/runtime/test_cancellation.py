"""Cancelling a turn at each stage leaves a well-formed history.

Both ways of cancelling are covered: :meth:`Conversation.cancel` (cooperative: the stream
yields TurnCancelled) and cancelling the task that iterates the stream (CancelledError
is re-raised). Cancellation points are reached deterministically: the script hangs after
its chunks, and a tool blocks on an event the test never sets.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from memory import MemoryBackend
from runtime import (
    Conversation,
    PersistenceWorker,
    Progress,
    TextDelta,
    ToolStarted,
    TurnCancelled,
    TurnFinished,
)
from runtime.providers.base import ChatRequest, ProviderChunk
from runtime.providers.scripted import ScriptedProvider, parse_script
from runtime.tools import Tool, ToolContext, ToolRegistry, default_tools
from tests.conftest import FrozenClock
from tests.runtime.conftest import make_settings
from tests.runtime.history import assert_well_formed, collect, kinds

STREAMING = [[{"chunks": ["Hel", "lo, ", "wor"], "hang": True}], [{"text": "second turn"}]]
THINKING = [[{"hang": True}]]
TOOLS = [
    [
        {
            "text": "Checking.",
            "tool_calls": [
                {"name": "calculator", "arguments": {"expression": "1 + 1"}, "id": "c1"},
                {"name": "wait_forever", "arguments": {}, "id": "c2"},
                {"name": "calculator", "arguments": {"expression": "2 + 2"}, "id": "c3"},
            ],
        },
        {"text": "never reached"},
    ]
]


def registry() -> ToolRegistry:
    tools = default_tools()

    async def wait_forever(arguments: dict[str, Any], ctx: ToolContext) -> Any:
        await asyncio.Event().wait()

    tools.add(Tool("wait_forever", "blocks until cancelled", {"type": "object"}, wait_forever))
    return tools


async def open_conversation(
    memory: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock, script: Any
) -> Conversation:
    return await Conversation.open(
        memory,
        worker,
        make_settings(provider="scripted"),
        provider_instance=ScriptedProvider(parse_script(script)),
        tools=registry(),
        clock=clock,
    )


async def run_and_cancel(
    conversation: Conversation, stop_when: Callable[[list[Progress]], bool], how: str
) -> list[Progress]:
    """Run a turn and cancel it once ``stop_when(progress so far)`` holds."""
    seen: list[Progress] = []
    reached = asyncio.Event()

    async def consume() -> None:
        async for item in conversation.send("please"):
            seen.append(item)
            if stop_when(seen):
                reached.set()

    task = asyncio.create_task(consume())
    await reached.wait()
    if how == "cooperative":
        assert conversation.cancel() is True
        await task
        assert isinstance(seen[-1], TurnCancelled)
    else:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not any(isinstance(item, TurnCancelled) for item in seen)
    assert not conversation.running
    return seen


def deltas(n: int) -> Callable[[list[Progress]], bool]:
    return lambda seen: sum(isinstance(p, TextDelta) for p in seen) == n


@pytest.mark.parametrize("how", ["cooperative", "task"])
async def test_cancel_while_streaming_text_saves_the_partial_text_once(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock, how: str
) -> None:
    conversation = await open_conversation(embedded, worker, clock, STREAMING)
    seen = await run_and_cancel(conversation, deltas(3), how)
    if how == "cooperative":
        cancelled = seen[-1]
        assert isinstance(cancelled, TurnCancelled)
        assert (cancelled.turn, cancelled.partial_text) == (1, "Hello, wor")
    assert await worker.flush(timeout=10)
    events = await embedded.recall(conversation.session_id)
    assert_well_formed(events)
    assert kinds(events) == ["user", "cancelled"]
    assert events[1].payload == {
        "role": "assistant",
        "reason": "cancelled by the user",
        "partial_content": "Hello, wor",
    }
    # The conversation goes on, with the partial reply in its context.
    progress = await collect(conversation.send("go on"))
    assert isinstance(progress[-1], TurnFinished)
    assert progress[-1].turn == 2
    assert await worker.flush(timeout=10)
    events = await embedded.recall(conversation.session_id)
    assert_well_formed(events)
    assert kinds(events) == ["user", "cancelled", "user", "assistant"]
    assert [m["content"] for m in conversation.prompt_messages()] == [
        "please",
        "Hello, wor",
        "go on",
        "second turn",
    ]


class SignallingScriptedProvider(ScriptedProvider):
    """The scripted provider, telling the test when a model call has started."""

    def __init__(self, script: Any) -> None:
        super().__init__(parse_script(script))
        self.called = asyncio.Event()

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderChunk]:
        self.called.set()
        async for chunk in super().stream(request):
            yield chunk


@pytest.mark.parametrize("how", ["cooperative", "task"])
async def test_cancel_before_any_text_stores_no_partial(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock, how: str
) -> None:
    provider = SignallingScriptedProvider(THINKING)
    conversation = await Conversation.open(
        embedded, worker, make_settings(provider="scripted"), provider_instance=provider
    )
    task = asyncio.create_task(collect(conversation.send("think")))
    await provider.called.wait()  # the model call is in flight (and hangs)
    if how == "cooperative":
        assert conversation.cancel() is True
        progress = await task
        assert progress == [TurnCancelled(1, "")]
    else:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert await worker.flush(timeout=10)
    events = await embedded.recall(conversation.session_id)
    assert_well_formed(events)
    assert kinds(events) == ["user", "cancelled"]
    assert "partial_content" not in events[1].payload


@pytest.mark.parametrize("how", ["cooperative", "task"])
async def test_cancel_between_a_tool_call_and_its_result_records_a_cancelled_result(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock, how: str
) -> None:
    conversation = await open_conversation(embedded, worker, clock, TOOLS)

    def blocked(seen: list[Progress]) -> bool:
        return isinstance(seen[-1], ToolStarted) and seen[-1].call_id == "c2"

    await run_and_cancel(conversation, blocked, how)
    assert await worker.flush(timeout=10)
    events = await embedded.recall(conversation.session_id)
    assert_well_formed(events)
    assert kinds(events) == [
        "user",
        "assistant",
        "tool_call",
        "tool_result",
        "tool_call",
        "tool_result",
        "cancelled",
    ]
    assert events[3].payload["result"] == {"expression": "1 + 1", "value": 2}
    assert events[5].payload == {
        "call_id": "c2",
        "name": "wait_forever",
        "error": "cancelled before the tool finished",
        "cancelled": True,
    }
    assert "partial_content" not in events[6].payload  # "Checking." was already saved
    assert "c3" not in {e.payload.get("call_id") for e in events}  # never started


@pytest.mark.parametrize("how", ["cooperative", "task"])
async def test_cancel_before_the_turn_task_ever_ran(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock, how: str
) -> None:
    conversation = await open_conversation(embedded, worker, clock, STREAMING)
    consumer = asyncio.create_task(collect(conversation.send("quick")))
    while not conversation.running:
        await asyncio.sleep(0)
    # The consumer has started the turn's task, which has not had a step yet.
    if how == "cooperative":
        assert conversation.cancel() is True
        assert await consumer == [TurnCancelled(1, "")]
    else:
        consumer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await consumer
    assert not conversation.running
    assert await worker.flush(timeout=10)
    events = await embedded.recall(conversation.session_id)
    assert kinds(events) == ["user", "cancelled"]
    assert events[0].payload["content"] == "quick"


async def test_closing_the_stream_early_cancels_the_turn_cleanly(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock
) -> None:
    conversation = await open_conversation(embedded, worker, clock, STREAMING)
    stream = conversation.send("please")
    first = await anext(stream)
    assert first == TextDelta("Hel")
    await stream.aclose()
    assert not conversation.running
    assert await worker.flush(timeout=10)
    events = await embedded.recall(conversation.session_id)
    assert_well_formed(events)
    assert kinds(events) == ["user", "cancelled"]
    assert events[1].payload["partial_content"] == "Hello, wor"


async def test_cancel_with_no_turn_running_does_nothing(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock
) -> None:
    conversation = await open_conversation(embedded, worker, clock, STREAMING)
    assert conversation.cancel() is False
    await conversation.close()
