"""Whole words first, then matches inside words (migration 0007), on every backend.

A plain query is answered by the word index first (whole words, ranked by bm25) and
filled from the trigram index (matches inside longer words) only when the words give
fewer hits than asked for; every hit is still a substring match, and the word index
stays exact through forget and fork (``index_mismatches`` compares both indexes).
"""

from __future__ import annotations

import pytest

from memory import EventDraft, MemoryBackend
from memory.search_query import parse_query
from memory.sql import search_words
from memory.sql.search_words import usable_for_words
from runtime import payloads
from runtime.payloads import searchable_text
from tests.conftest import FrozenClock
from tests.search.consistency import index_mismatches


@pytest.fixture
async def memory(backend: MemoryBackend) -> MemoryBackend:
    backend.use_search_text(searchable_text)
    return backend


async def _seed(memory: MemoryBackend, clock: FrozenClock) -> None:
    await memory.store("inside", [EventDraft("user", payloads.user("the redeployment went fine"))])
    clock.advance(10)
    for n in range(4):
        await memory.store(
            f"whole-{n}", [EventDraft("assistant", payloads.assistant(f"we deploy build {n}"))]
        )
        clock.advance(10)
    await memory.store("mine", [EventDraft("user", payloads.user("please deploy it"))])
    clock.advance(10)


async def test_whole_words_come_first_then_matches_inside_words(
    memory: MemoryBackend, clock: FrozenClock
) -> None:
    await _seed(memory, clock)
    hits = await memory.search("deploy", limit=20)
    sessions = [h.session_id for h in hits]
    # The person's own words rank first; the substring-only match comes after every
    # whole-word one (it is found, but as the weaker match).
    assert sessions[0] == "mine"
    assert sorted(sessions[1:5]) == [f"whole-{n}" for n in range(4)]
    assert sessions[5:] == ["inside"]
    # With fewer asked for than whole-word hits, only whole words are returned.
    few = await memory.search("deploy", limit=3)
    assert "inside" not in [h.session_id for h in few] and len(few) == 3
    # Part of a word finds every event holding it, whole-word ones included.
    part = await memory.search("eploy", limit=20)
    assert sorted(h.session_id for h in part) == sorted(set(sessions))
    assert all("«" in h.marked() for h in hits)
    assert await index_mismatches(memory) == []


async def test_word_index_follows_forget_and_fork(
    memory: MemoryBackend, clock: FrozenClock
) -> None:
    await _seed(memory, clock)
    await memory.forget("mine")
    fork = await memory.fork_session("whole-0")
    hits = await memory.search("deploy", limit=20)
    assert "mine" not in [h.session_id for h in hits]
    assert fork.id in [h.session_id for h in hits]
    assert await index_mismatches(memory) == []


async def test_a_frequent_word_is_ranked_among_its_newest_matches(
    memory: MemoryBackend, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the window, the ranking looks at the newest matches only (bounded cost)."""
    monkeypatch.setattr(search_words, "RANK_WINDOW", 2)
    await _seed(memory, clock)
    hits = await memory.search("deploy", limit=1)
    # "mine" (the person's words) is among the two newest matches and ranks first.
    assert [h.session_id for h in hits] == ["mine"]
    clock.advance(10)
    await memory.store("late-1", [EventDraft("assistant", payloads.assistant("deploy again"))])
    await memory.store("late-2", [EventDraft("assistant", payloads.assistant("deploy more"))])
    # Now the two newest are replies: "mine" is outside the window.
    assert [h.session_id for h in await memory.search("deploy", limit=1)] != ["mine"]


@pytest.mark.parametrize(
    ("query", "usable"),
    [
        ("deploy", True),
        ('"connection reset"', True),
        ("東京都", True),
        ("deploy -build", True),  # the excluded term is checked in the ranked rows' text
        ("deploy -ошибка", False),  # a cased non-ASCII letter: the trigram index folds it
        ("snake_case", False),
        ("c++", False),
        ("go deploy", True),
        ("東京 deploy", True),  # CJK has no case: checked in the text
        ("Σώ deploy", False),
    ],
)
def test_which_queries_the_word_index_answers(query: str, usable: bool) -> None:
    assert usable_for_words(parse_query(query)) is usable


async def test_session_and_time_filters_apply_before_the_window(
    memory: MemoryBackend, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A window of one: without the filter inside each scan, the newest match overall
    # (another session's) would take the only place and the session would find nothing.
    monkeypatch.setattr(search_words, "RANK_WINDOW", 1)
    await memory.store("target", [EventDraft("user", payloads.user("deploy the redeployment"))])
    clock.advance(10)
    await memory.store(
        "target", [EventDraft("assistant", payloads.assistant("a redeployment it was"))]
    )
    clock.advance(10)
    for n in range(3):
        await memory.store(f"other-{n}", [EventDraft("user", payloads.user("deploy now"))])
        clock.advance(10)
    since = (await memory.get_session("other-0")).updated_at
    hits = await memory.search("deploy", limit=10, session_id="target")
    assert [(h.session_id, h.seq) for h in hits] == [("target", 1), ("target", 2)]
    recent = await memory.search("deploy", limit=10, since=since)
    assert "target" not in {h.session_id for h in recent if h.seq}
    assert {h.session_id for h in recent if h.seq} == {f"other-{n}" for n in range(3)}
