"""The person's own words and the session's title rank before replies and tool output.

The black-box review's case (finding 5): a question that says a word once, against a
tool output repeating it 200 times and a reply saying it four times. bm25 multiplies
a term's count by the column weight before it saturates, so column weights alone put
the tool output first; every plan (whole words, inside words, the trigram plan of an
identifier, one session) now ranks the person's words first. On every backend.
"""

from __future__ import annotations

import pytest

from memory import EventDraft, MemoryBackend
from runtime import payloads
from runtime.payloads import searchable_text
from tests.conftest import FrozenClock


@pytest.fixture
async def memory(backend: MemoryBackend) -> MemoryBackend:
    backend.use_search_text(searchable_text)
    return backend


async def _seed(memory: MemoryBackend, clock: FrozenClock, word: str) -> None:
    await memory.create_session("asked", title=f"{word} crash")
    await memory.store(
        "asked",
        [
            EventDraft("user", payloads.user(f"why does the {word} crash on startup?")),
            EventDraft("assistant", payloads.assistant("Let me check.")),
        ],
    )
    clock.advance(60)
    await memory.create_session("noisy", title="Run the tests")
    await memory.store(
        "noisy",
        [
            EventDraft("user", payloads.user("run the tests")),
            EventDraft("tool_call", payloads.tool_call("t1", "Bash", {"command": "pytest"})),
            EventDraft(
                "tool_result", payloads.tool_result("t1", "Bash", result="log: " + f"{word} " * 200)
            ),
            EventDraft(
                "assistant",
                payloads.assistant(f"The {word} {word} logs show {word} {word}."),
            ),
        ],
    )
    clock.advance(60)


@pytest.mark.parametrize(
    ("word", "query"),
    [
        ("frobnicator", "frobnicator"),  # whole word (word index)
        ("frobnicator", "frobni"),  # part of a word (trigram tier)
        ("frob_nicator", "frob_nicator"),  # an identifier (trigram plan)
    ],
)
async def test_own_words_and_title_come_first(
    memory: MemoryBackend, clock: FrozenClock, word: str, query: str
) -> None:
    await _seed(memory, clock, word)
    hits = await memory.search(query, limit=20)
    kinds = [(h.kind, h.session_id) for h in hits]
    assert sorted(kinds[:2]) == [("title", "asked"), ("user", "asked")], kinds
    assert sorted(kinds[2:]) == [("assistant", "noisy"), ("tool_result", "noisy")], kinds


async def test_own_words_first_within_one_session_and_kinds(
    memory: MemoryBackend, clock: FrozenClock
) -> None:
    await _seed(memory, clock, "frobnicator")
    await memory.store("noisy", [EventDraft("user", payloads.user("is the frobnicator fixed?"))])
    inside = await memory.search("frobnicator", limit=20, session_id="noisy")
    assert [h.kind for h in inside][0] == "user"
    assert sorted(h.kind for h in inside[1:]) == ["assistant", "tool_result"]
    narrowed = await memory.search("frobnicator", limit=2, kinds=("tool", "user"))
    assert [h.kind for h in narrowed] == ["user", "user"]


async def test_one_hit_asked_for_is_the_question(memory: MemoryBackend, clock: FrozenClock) -> None:
    # The page is cut after the ranking: the question is not crowded out.
    await _seed(memory, clock, "frob_nicator")
    hits = await memory.search("frob_nicator", limit=1, kinds=("user", "assistant", "tool"))
    assert [(h.kind, h.session_id) for h in hits] == [("user", "asked")]
