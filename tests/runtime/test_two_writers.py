"""Two writers on one session: turn numbers from the database, and each other's turns
in the next prompt (issue 11, item 3).

Each writer has its own connection and its own persistence worker on the same real
file, as a TUI and ``turnkeep ask --session ID`` in two processes do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from memory import MemoryBackend, open_embedded
from runtime import Conversation, PersistenceWorker
from runtime.providers.scripted import ScriptedProvider, parse_script
from tests.conftest import FrozenClock
from tests.runtime.conftest import make_settings

ECHO = [[{"text": "echo: {user}"}]]


@pytest.fixture
async def second(db_path: Path, clock: FrozenClock) -> AsyncIterator[MemoryBackend]:
    memory = await open_embedded(db_path, clock=clock)
    try:
        yield memory
    finally:
        await memory.close()


async def turn(conversation: Conversation, worker: PersistenceWorker, text: str) -> None:
    async for _ in conversation.send(text):
        pass
    assert await worker.flush(timeout=10)


async def test_interleaved_writers_number_turns_once_and_see_each_other(
    embedded: MemoryBackend, second: MemoryBackend, clock: FrozenClock
) -> None:
    settings = make_settings(provider="scripted", tools=False)
    worker_a = PersistenceWorker(embedded)
    worker_b = PersistenceWorker(second)
    await worker_a.start()
    await worker_b.start()
    a = await Conversation.open(
        embedded, worker_a, settings, provider_instance=ScriptedProvider(parse_script(ECHO))
    )
    b = await Conversation.open(
        second,
        worker_b,
        settings,
        a.session_id,
        provider_instance=ScriptedProvider(parse_script(ECHO)),
    )
    await turn(a, worker_a, "first from A")
    await turn(b, worker_b, "first from B")  # B opened before A's turn existed
    await turn(a, worker_a, "second from A")

    events = await embedded.recall(a.session_id)
    users = [(e.turn, e.payload["content"]) for e in events if e.kind == "user"]
    assert users == [(1, "first from A"), (2, "first from B"), (3, "second from A")]
    assert (await embedded.get_session(a.session_id)).turns == 3
    # Each prompt held the other writer's turns: B saw A's first turn, A saw B's.
    prompt_b = [m["content"] for m in b.prompt_messages()]
    assert "first from A" in prompt_b and "echo: first from A" in prompt_b
    prompt_a = [m["content"] for m in a.prompt_messages()]
    assert prompt_a.count("first from B") == 1  # read once, never duplicated
    assert prompt_a.count("second from A") == 1
    assert (a.turn, b.turn) == (3, 2)
    assert await worker_a.stop(timeout=5) == []
    assert await worker_b.stop(timeout=5) == []
    await a.close()
    await b.close()


async def test_a_resumed_conversation_reads_its_window_from_the_checkpoint(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock
) -> None:
    settings = make_settings(provider="scripted", tools=False)
    a = await Conversation.open(
        embedded, worker, settings, provider_instance=ScriptedProvider(parse_script(ECHO))
    )
    for n in range(3):
        await turn(a, worker, f"message {n}")
    snapshot = await embedded.load_state(a.session_id)
    assert snapshot is not None
    assert snapshot.state["outcome"] == "finished"
    assert snapshot.state["window_events"] == 6
    assert snapshot.seq == 6
    resumed = await Conversation.open(
        embedded,
        worker,
        settings,
        a.session_id,
        provider_instance=ScriptedProvider(parse_script(ECHO)),
    )
    assert resumed.prompt_messages() == a.prompt_messages()
    await a.close()
    await resumed.close()
