"""The search contract, on every backend (in-process, embedded file, sqld over ws/http).

Relevance (planted words first, the person's words above replies and tool output,
recency as the tie-break), folding, substrings of identifiers and CJK text, filters,
and an index that stays exact through forget, rename and import.
"""

from __future__ import annotations

from typing import Any

import pytest

from memory import EventDraft, MemoryBackend
from memory.bundle import PortableSession
from runtime import payloads
from runtime.payloads import searchable_text
from tests.conftest import FrozenClock
from tests.search.consistency import index_mismatches


@pytest.fixture
async def memory(backend: MemoryBackend) -> MemoryBackend:
    """The backend, indexing with the runtime's payload reader (as open_memory does)."""
    backend.use_search_text(searchable_text)
    return backend


def keys(hits: list[Any]) -> list[tuple[str, int]]:
    return [(h.session_id, h.seq) for h in hits]


async def seed(memory: MemoryBackend, clock: FrozenClock) -> None:
    """Three sessions; the rare word ``quokka`` planted in a user message, a reply and a
    tool result, each in a different session, and common words everywhere."""
    await memory.create_session("s-tool", title="Build pipeline")
    await memory.store(
        "s-tool",
        [
            EventDraft("user", payloads.user("run the build please")),
            EventDraft("tool_call", payloads.tool_call("c1", "run_shell", {"cmd": "make all"})),
            EventDraft("tool_result", payloads.tool_result("c1", "run_shell", result="quokka ok")),
            EventDraft("assistant", payloads.assistant("The build passed.")),
        ],
    )
    clock.advance(60)
    await memory.create_session("s-reply", title="Animals")
    await memory.store(
        "s-reply",
        [
            EventDraft("user", payloads.user("name an Australian animal")),
            EventDraft("assistant", payloads.assistant("A quokka is one.")),
        ],
    )
    clock.advance(60)
    await memory.create_session("s-user", title="Café plans ✓")
    await memory.store(
        "s-user",
        [
            EventDraft("user", payloads.user("I saw a quokka at the café in 東京都")),
            EventDraft("assistant", payloads.assistant("Call refactorAuthMiddleware next.")),
            EventDraft("user", payloads.user("and rename snake_case_name, (really: yes)")),
        ],
    )


async def test_planted_word_ranks_the_persons_words_first(
    memory: MemoryBackend, clock: FrozenClock
) -> None:
    await seed(memory, clock)
    hits = await memory.search("quokka")
    assert keys(hits) == [("s-user", 1), ("s-reply", 2), ("s-tool", 3)]
    assert [h.kind for h in hits] == ["user", "assistant", "tool_result"]
    first = hits[0]
    assert first.title == "Café plans ✓"
    assert first.at.startswith("2026-11-25T12:02")
    assert [first.snippet[a:b] for a, b in first.marks] == ["quokka"]
    assert "«quokka»" in first.marked()
    assert first.score <= hits[1].score <= hits[2].score


async def test_recency_breaks_ties(memory: MemoryBackend, clock: FrozenClock) -> None:
    for session in ("old", "mid", "new"):
        await memory.store(session, [EventDraft("user", payloads.user("same words wombat"))])
        clock.advance(10)
    assert [h.session_id for h in await memory.search("wombat")] == ["new", "mid", "old"]


async def test_folding_substrings_cjk_and_identifiers(
    memory: MemoryBackend, clock: FrozenClock
) -> None:
    await seed(memory, clock)
    assert ("s-user", 1) in keys(await memory.search("cafe"))
    assert ("s-user", 1) in keys(await memory.search("CAFÉ"))
    assert keys(await memory.search("AuthMid")) == [("s-user", 2)]
    assert keys(await memory.search("case_na")) == [("s-user", 3)]
    assert keys(await memory.search("京都")) == [("s-user", 1)]
    assert keys(await memory.search("東京都")) == [("s-user", 1)]
    assert sorted(keys(await memory.search("run_shell"))) == [("s-tool", 2), ("s-tool", 3)]
    assert keys(await memory.search("make all")) == [("s-tool", 2)]
    titles = await memory.search("plans")
    assert [(h.kind, h.session_id, h.seq) for h in titles] == [("title", "s-user", 0)]


async def test_query_syntax(memory: MemoryBackend, clock: FrozenClock) -> None:
    await seed(memory, clock)
    assert keys(await memory.search('"quokka at the"')) == [("s-user", 1)]
    assert keys(await memory.search('"quokka at the')) == [("s-user", 1)]  # unbalanced
    assert keys(await memory.search("quokka -cafe -build")) == [("s-reply", 2), ("s-tool", 3)]
    assert keys(await memory.search("quok*")) == keys(await memory.search("quokka"))
    assert keys(await memory.search("(really: yes)")) == [("s-user", 3)]
    for odd in ["NEAR(a b)", "OR NOT", "a:b", "*", '"', "(((", "^x", "🎉", "x" * 10_000]:
        assert await memory.search(odd) == []
    assert keys(await memory.search("AND")) == [("s-user", 3)]  # a word, not an operator
    assert keys(await memory.search("NEAR/2 yes)")) == []
    assert keys(await memory.search("quokka AND")) == []  # AND is a word that must occur
    assert await memory.search("") == [] and await memory.search("  ") == []
    assert await memory.search("quokka", limit=0) == []


async def test_filters(memory: MemoryBackend, clock: FrozenClock) -> None:
    await seed(memory, clock)
    assert keys(await memory.search("quokka", kinds=("user",))) == [("s-user", 1)]
    assert keys(await memory.search("quokka", kinds=("assistant",))) == [("s-reply", 2)]
    assert keys(await memory.search("quokka", kinds=("tool",))) == [("s-tool", 3)]
    assert keys(await memory.search("quokka", session_id="s-reply")) == [("s-reply", 2)]
    since = "2026-11-25T12:01:00.000000Z"
    assert keys(await memory.search("quokka", since=since)) == [("s-user", 1), ("s-reply", 2)]
    assert keys(await memory.search("quokka", limit=1)) == [("s-user", 1)]


async def test_forget_rename_and_import_keep_the_index_exact(
    memory: MemoryBackend, clock: FrozenClock
) -> None:
    await seed(memory, clock)
    await memory.forget("s-user")
    assert keys(await memory.search("quokka")) == [("s-reply", 2), ("s-tool", 3)]
    assert await memory.search("plans") == []
    await memory.rename_session("s-reply", "Marsupials")
    assert [h.session_id for h in await memory.search("marsupial")] == ["s-reply"]
    assert await memory.search("animals") == []
    exported: list[PortableSession] = [s async for s in memory.export_sessions(["s-reply"])]
    outcome = await memory.import_sessions(exported, as_new=True)
    ((_, new_id),) = outcome.imported
    found = {h.session_id for h in await memory.search("quokka")}
    assert found == {"s-reply", "s-tool", new_id}
    assert {h.session_id for h in await memory.search("marsupial")} == {"s-reply", new_id}
    assert await index_mismatches(memory) == []


async def test_a_search_is_one_round_trip_remotely(
    memory: MemoryBackend, clock: FrozenClock, backend_kind: str
) -> None:
    await seed(memory, clock)
    if not backend_kind.startswith("remote"):
        pytest.skip("round trips are counted by the remote client")
    trips: Any = memory
    for query, kwargs in (("quokka", {}), ("quokka", {"kinds": ("user",)}), ("京都", {})):
        before = trips.round_trips
        assert await memory.search(query, **kwargs)
        assert trips.round_trips - before == 1
