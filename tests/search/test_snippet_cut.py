"""Snippets cut in one pass (``memory.sql.search_hits._cut``) are the ones the
two-pass way gives: marks written around every match of the window
(``_window``), then split out again (``_split_marks``).

The one-pass cut is what a rare word's hits go through; the two-pass way still serves
texts that carry marks already. Both must agree on every text a person could have
stored: any characters (line breaks, case that folds to more letters, such as "ß"),
terms anywhere, near the window's edges, overlapping, or absent.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from memory.search_query import MARK_CLOSE, MARK_OPEN
from memory.sql.search_hits import _cut, _split_marks, _window, hit_from_row

_ALPHABET = st.sampled_from(list("abcXYZ ß\n\r\téÉİı…-_0"))
_TEXT = st.text(_ALPHABET, max_size=300)
_TERMS = st.lists(st.text(_ALPHABET, min_size=1, max_size=4), min_size=1, max_size=3)


@settings(max_examples=400, deadline=None)
@given(text=_TEXT, terms=_TERMS)
@example(text="x" * 200 + "abc" + "y" * 200, terms=["abc"])
@example(text="abcabc abc", terms=["abc", "bca"])
@example(text="Straße STRASSE", terms=["ss"])
@example(text="no match here", terms=["zzz"])
def test_the_one_pass_cut_is_the_two_pass_snippet(text: str, terms: list[str]) -> None:
    assert MARK_OPEN not in text and MARK_CLOSE not in text
    assert _cut(text, tuple(terms)) == _split_marks(_window(text, tuple(terms)))


def test_a_hit_marks_the_term_in_a_one_line_snippet() -> None:
    text = "first line\nwhere did the Zanzibarite crystal go?\n" + "more " * 40
    hit = hit_from_row(("s", 3, "user", None, text, "2026-01-01", -1.5), ("zanzibarite",))
    assert "\n" not in hit.snippet
    assert hit.marked().count("«") == 1
    assert "«Zanzibarite»" in hit.marked()
    assert hit.snippet.endswith("…")


def test_rows_with_marks_keep_the_two_pass_way() -> None:
    marked = f"a {MARK_OPEN}title{MARK_CLOSE} hit"
    hit = hit_from_row(("s", 0, "title", "T", marked, "2026-01-01", 0.0), ("title",))
    assert (hit.snippet, hit.marks) == ("a title hit", ((2, 7),))
    stray = f"closes{MARK_CLOSE} only, with a term"
    hit = hit_from_row(("s", 1, "user", None, stray, "2026-01-01", 0.0), ("term",))
    assert (hit.snippet, hit.marks) == _split_marks(_window(stray, ("term",)))
