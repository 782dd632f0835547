"""Resolving session ids by unique prefix through the Sessions facade (issue 13), and the
facade's navigation lookups, on every backend."""

from __future__ import annotations

import pytest

from memory import EventDraft, MemoryBackend, NotFoundError
from runtime.session_ids import AmbiguousSessionIdError, EmptySessionIdError
from runtime.sessions import Sessions
from tests.runtime.conftest import make_settings


async def test_prefixes_resolve_in_one_place(backend: MemoryBackend) -> None:
    for session_id in ("019a01", "019a02", "019b", "01"):
        await backend.create_session(session_id)
    sessions = Sessions(make_settings(provider="scripted"), backend, owns_memory=False)
    assert await sessions.resolve_id("019b") == "019b"
    assert await sessions.resolve_id("019a02") == "019a02"
    assert await sessions.resolve_id("01") == "01"  # exact beats the longer ids
    with pytest.raises(AmbiguousSessionIdError) as shared:
        await sessions.resolve_id("019a")
    assert shared.value.candidates == ["019a01", "019a02"] and not shared.value.more
    assert "'019a' is the start of 2 session ids: 019a01, 019a02" in shared.value.message
    with pytest.raises(NotFoundError):
        await sessions.resolve_id("02")
    with pytest.raises(EmptySessionIdError):
        await sessions.resolve_id("  ")


async def test_many_matches_list_five_and_say_more(backend: MemoryBackend) -> None:
    for n in range(8):
        await backend.create_session(f"abc{n}")
    sessions = Sessions(make_settings(provider="scripted"), backend, owns_memory=False)
    with pytest.raises(AmbiguousSessionIdError) as shared:
        await sessions.resolve_id("abc")
    assert shared.value.candidates == [f"abc{n}" for n in range(5)] and shared.value.more
    assert "more than 5" in shared.value.message


async def test_the_facade_finds_turns_and_windows(backend: MemoryBackend) -> None:
    for turn in range(1, 31):
        await backend.store(
            "s",
            [
                EventDraft("user", {"role": "user", "content": f"q{turn}"}, turn=turn),
                EventDraft("assistant", {"role": "assistant", "content": f"a{turn}"}, turn),
            ],
        )
    sessions = Sessions(make_settings(provider="scripted"), backend, owns_memory=False)
    assert await sessions.turn_start("s", 20) == 39
    assert await sessions.user_message("s", after=39) == 41
    assert await sessions.user_message("s", before=39) == 37
    window = await sessions.window_at("s", 39, 5)
    assert [e.seq for e in window.events] == list(range(34, 45))
    assert window.focus == 39 and window.has_older and not window.at_end
    end = await sessions.window_at("s", 58, 5)
    assert [e.seq for e in end.events] == list(range(53, 61)) and end.at_end
    start = await sessions.window_at("s", 1, 5)
    assert [e.seq for e in start.events] == list(range(1, 7)) and not start.has_older
