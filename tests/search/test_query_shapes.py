"""Excluded terms and one/two-character terms on the word index, on every backend.

``function -error`` and ``go`` used to scan the whole trigram index; they now rank
from the word index and check the stored text of only the rows they return
(:mod:`memory.sql.search_shapes`). These tests pin what they find.
"""

from __future__ import annotations

import pytest

from memory import EventDraft, MemoryBackend
from memory.search_query import parse_query
from memory.sql import search_shapes, search_words
from memory.sql.search_shapes import usable_for_short
from memory.sql.search_statements import search_statement
from runtime import payloads
from runtime.payloads import searchable_text
from tests.conftest import FrozenClock


@pytest.fixture
async def memory(backend: MemoryBackend) -> MemoryBackend:
    backend.use_search_text(searchable_text)
    return backend


def keys(hits: list[object]) -> list[tuple[str, int]]:
    return [(h.session_id, h.seq) for h in hits]  # type: ignore[attr-defined]


async def _say(memory: MemoryBackend, clock: FrozenClock, sid: str, text: str) -> None:
    await memory.store(sid, [EventDraft("user", payloads.user(text))])
    clock.advance(10)


async def test_an_excluded_term_is_left_out_even_inside_words(
    memory: MemoryBackend, clock: FrozenClock
) -> None:
    await _say(memory, clock, "plain", "the function returns")
    await _say(memory, clock, "word", "the function raised an error")
    await _say(memory, clock, "inside", "function: ConnectionResetError")
    await _say(memory, clock, "plural", "a function with ERRORS")
    await _say(memory, clock, "other", "an error without the f-word")
    assert keys(await memory.search("function -error")) == [("plain", 1)]
    assert keys(await memory.search("error -function")) == [("other", 1)]
    assert keys(await memory.search("function -error", kinds=("user",))) == [("plain", 1)]
    assert keys(await memory.search("function -error", kinds=("assistant",))) == []
    # Two exclusions, one of them a two-letter term (inside "an").
    assert keys(await memory.search("function -error -an")) == [("plain", 1)]
    # A phrase excluded as written.
    assert sorted(keys(await memory.search('function -"raised an"'))) == [
        ("inside", 1),
        ("plain", 1),
        ("plural", 1),
    ]


async def test_exclusions_fill_the_page_past_excluded_best_rows(
    memory: MemoryBackend, clock: FrozenClock
) -> None:
    # The best-ranked rows (the person's words) are all excluded: the page is filled
    # from the rows ranked after them.
    for n in range(5):
        await _say(memory, clock, f"mine-{n}", f"deploy failed {n}")
    await memory.store("reply", [EventDraft("assistant", payloads.assistant("deploy worked"))])
    clock.advance(10)
    assert keys(await memory.search("deploy -failed", limit=1)) == [("reply", 1)]


async def test_a_title_with_an_excluded_term_is_left_out(
    memory: MemoryBackend, clock: FrozenClock
) -> None:
    await _say(memory, clock, "a", "nothing here")
    await memory.rename_session("a", "Quokka errors")
    await _say(memory, clock, "b", "nothing here either")
    await memory.rename_session("b", "Quokka plans")
    titles = [h.session_id for h in await memory.search("quokka -error") if h.kind == "title"]
    assert titles == ["b"]


async def test_short_terms_find_whole_words_first_then_inside_words(
    memory: MemoryBackend, clock: FrozenClock
) -> None:
    await _say(memory, clock, "whole", "let us go now")
    await _say(memory, clock, "inside", "the cargo ship")
    await _say(memory, clock, "none", "nothing to see")
    await _say(memory, clock, "newer", "a good plan")
    hits = await memory.search("go")
    # The whole word first, then the newest match inside a word.
    assert keys(hits) == [("whole", 1), ("newer", 1), ("inside", 1)]
    marked = hits[0].marked()
    assert "«go»" in marked
    assert keys(await memory.search("go -cargo")) == [("whole", 1), ("newer", 1)]
    assert keys(await memory.search("GO", kinds=("assistant",))) == []
    # Filters apply inside both scans.
    assert keys(await memory.search("go", session_id="inside")) == [("inside", 1)]
    since = (await memory.get_session("none")).updated_at
    assert keys(await memory.search("go", since=since)) == [("newer", 1)]
    assert keys(await memory.search("function -x", session_id="whole")) == []


async def test_short_terms_inside_words_are_looked_for_among_the_newest_events(
    memory: MemoryBackend, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_shapes, "SCAN_WINDOW", 2)
    await _say(memory, clock, "old-inside", "the cargo ship")
    await _say(memory, clock, "old-whole", "go west")
    await _say(memory, clock, "filler-1", "nothing")
    await _say(memory, clock, "filler-2", "nothing again")
    # A whole word is found anywhere (the word index); a match inside a word only
    # among the newest SCAN_WINDOW events.
    assert keys(await memory.search("go")) == [("old-whole", 1)]


async def test_a_short_cjk_word_next_to_a_long_term(
    memory: MemoryBackend, clock: FrozenClock
) -> None:
    await _say(memory, clock, "tokyo", "deploy to 東京都 servers")
    await _say(memory, clock, "osaka", "deploy to 大阪 servers")
    assert keys(await memory.search("東京 deploy")) == [("tokyo", 1)]
    assert keys(await memory.search("deploy -東京")) == [("osaka", 1)]
    assert keys(await memory.search("東京")) == [("tokyo", 1)]


def test_which_plan_answers_a_shape() -> None:
    plan = search_statement("function -error", limit=20)
    assert plan is not None and "search_words" in plan.sql
    plan = search_statement("go", limit=20)
    assert plan is not None and "search_words" in plan.sql
    assert usable_for_short(parse_query("go -x"))
    assert not usable_for_short(parse_query("go deploy"))  # a long term: word-first plan
    assert not usable_for_short(parse_query("ΣΩ"))  # cased Greek: the trigram plan
    assert search_words.usable_for_words(parse_query("deploy -build"))
