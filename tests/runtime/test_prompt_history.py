"""The prompt's input history, read back from the person's stored messages."""

from __future__ import annotations

from memory import EventDraft, MemoryBackend
from runtime import payloads
from runtime.prompt_history import recent_prompts
from tests.conftest import FrozenClock


async def add_turns(memory: MemoryBackend, sid: str, *questions: str) -> None:
    await memory.create_session(sid)
    for question in questions:
        await memory.store(
            sid,
            [
                EventDraft("user", payloads.user(question), 1),
                EventDraft("assistant", payloads.assistant(f"re: {question}"), 1),
            ],
        )


async def test_newest_first_across_sessions_each_text_once(
    embedded: MemoryBackend, clock: FrozenClock
) -> None:
    await add_turns(embedded, "s-one", "alpha", "beta")
    clock.advance(60)
    await add_turns(embedded, "s-two", "gamma", "alpha", "   ")
    assert await recent_prompts(embedded) == ["alpha", "gamma", "beta"]
    assert await recent_prompts(embedded, limit=2) == ["alpha", "gamma"]
    # A forgotten session's messages leave the history with it.
    await embedded.forget("s-two")
    assert await recent_prompts(embedded) == ["beta", "alpha"]


async def test_reads_are_bounded_by_sessions_and_tail(
    embedded: MemoryBackend, clock: FrozenClock
) -> None:
    for n in range(5):
        await add_turns(embedded, f"s-{n}", f"q{n}-old", f"q{n}-new")
        clock.advance(60)
    # Only the two most recently active sessions, and their newest two events.
    assert await recent_prompts(embedded, sessions=2, tail=2) == ["q4-new", "q3-new"]
