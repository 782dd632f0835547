"""What a person types never errors: any string is a valid search (property test).

The statements run on a real SQLite FTS5 index (the in-process backend's mirror is
built from the same migration as the database), so a query FTS5 would reject fails
here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memory.ephemeral.search import SearchMirror
from memory.records import Event
from memory.search_query import MAX_TERM_CHARS, MAX_TERMS, fold, match_expression, parse_query
from runtime.payloads import searchable_text

SPECIAL = [
    '"',
    "'",
    "(",
    ")",
    ":",
    "*",
    "^",
    "-",
    "+",
    "{",
    "}",
    "AND",
    "OR",
    "NOT",
    "NEAR",
    "\\",
    "%",
    "_",
]


@pytest.fixture(scope="module")
def mirror() -> Iterator[SearchMirror]:
    index = SearchMirror()
    index.text_of = searchable_text
    index.upsert_session("s", "Tést (title) AND NEAR", "2026-11-25T12:00:00.000000Z")
    texts = ['say "hi" (now): NOT AND OR NEAR/3 * ^x', "café 東京都 🎉🎉🎉", "a%b_c\\d"]
    index.add_events(
        Event(
            "s",
            i,
            1,
            "user",
            json.dumps({"content": t}),
            "2026-11-25T12:00:00.000000Z",
        )
        for i, t in enumerate(texts, start=1)
    )
    yield index
    index.close()


queries = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(SPECIAL) | st.text(max_size=8), max_size=30).map(" ".join),
    st.lists(st.sampled_from(SPECIAL) | st.text(max_size=8), max_size=30).map("".join),
)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=queries, kinds=st.sets(st.sampled_from(["user", "assistant", "tool"])))
def test_any_string_is_a_valid_query(mirror: SearchMirror, text: str, kinds: set[str]) -> None:
    for session in (None, "s"):
        hits = mirror.search(
            text, limit=20, session_id=session, kinds=tuple(sorted(kinds)), since=None
        )
        assert len(hits) <= 20
        for hit in hits:
            assert all(0 <= a < b <= len(hit.snippet) for a, b in hit.marks)


@given(text=st.text(max_size=300))
def test_terms_are_bounded_and_folded(text: str) -> None:
    parsed = parse_query(text)
    assert len(parsed.include) <= MAX_TERMS and len(parsed.exclude) <= MAX_TERMS
    for term in (*parsed.include, *parsed.exclude):
        assert 3 <= len(term) <= MAX_TERM_CHARS
    for term in (*parsed.short, *parsed.short_exclude):
        assert 1 <= len(term) < 3
        assert fold(term) == term


def test_a_10000_character_paste_is_a_bounded_query(mirror: SearchMirror) -> None:
    paste = " ".join(f"word{i}" for i in range(2000))[:10_000]
    expression = match_expression(paste)
    assert expression is not None and expression.count('"') == 2 * MAX_TERMS
    assert mirror.search(paste, limit=20, session_id=None, kinds=(), since=None) == []


def test_typed_operators_are_words(mirror: SearchMirror) -> None:
    def found(text: str) -> list[int]:
        return [h.seq for h in mirror.search(text, limit=20, session_id=None, kinds=(), since=None)]

    assert found("NEAR/3") == [1]
    assert found('"hi" (now)') == [1]
    assert found("cafe 東京") == [2]
    assert found("🎉🎉🎉") == [2]
    assert found("a%b") == [3] and found("b_c") == [3] and found("%") == [3]
    assert found("b%") == [] and found("a_") == []  # LIKE wildcards match themselves
    assert found("cafe -東京") == []
    assert match_expression('abc"b NEAR(x') == '("abc" AND "b NEAR(x")'
