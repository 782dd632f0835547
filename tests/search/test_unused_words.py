"""Every word of a typed query is used up to :data:`MAX_TERMS`, and words past it (or
cut at :data:`MAX_TERM_CHARS`) are named, never dropped silently (review finding 10).
"""

from __future__ import annotations

import pytest

from memory import EventDraft, MemoryBackend
from memory.search_query import MAX_TERM_CHARS, MAX_TERMS, parse_query, unused_note
from runtime import payloads
from runtime.payloads import searchable_text

NATO = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november"
NATO += " oscar papa quebec romeo sierra tango"


@pytest.fixture
async def memory(backend: MemoryBackend) -> MemoryBackend:
    backend.use_search_text(searchable_text)
    return backend


async def test_a_word_after_the_sixteenth_still_counts(memory: MemoryBackend) -> None:
    await memory.store("s", [EventDraft("user", payloads.user(NATO))])
    first16 = " ".join(NATO.split()[:16])
    assert len(await memory.search(f"{first16} zzznotthere")) == 0
    assert len(await memory.search(NATO)) == 1
    assert unused_note(f"{first16} zzznotthere") is None


def test_words_past_the_limit_and_cut_words_are_named() -> None:
    words = [f"word{i}" for i in range(MAX_TERMS + 2)]
    long_word = "x" * (MAX_TERM_CHARS + 10)
    parsed = parse_query(" ".join([*words, f"-{words[0]}", long_word]))
    assert parsed.include == tuple(words[:MAX_TERMS])
    assert parsed.unused == (*words[MAX_TERMS:], long_word)
    note = unused_note(parsed)
    assert note is not None and note.startswith("3 words not searched")
    assert f"at most {MAX_TERMS}" in note and words[MAX_TERMS] in note

    cut = parse_query(f"alpha {long_word}")
    assert cut.include == ("alpha", long_word[:MAX_TERM_CHARS]) and cut.cut == (long_word,)
    cut_note = unused_note(cut)
    assert cut_note is not None and f"first {MAX_TERM_CHARS} characters" in cut_note
    # Repeated words are one term, not a dropped one.
    assert parse_query("alpha " * 200).unused == ()
    assert unused_note("alpha " * 200) is None


def test_the_note_stays_one_short_line() -> None:
    paste = " ".join(f"w{i:04d}" for i in range(2000))
    note = unused_note(paste)
    assert note is not None and len(note) < 260 and note.endswith("…")


async def test_one_and_two_letter_words_next_to_a_longer_one_are_named(
    memory: MemoryBackend,
) -> None:
    """Left out by every plan (they would match nearly everything), and said so."""
    await memory.store(
        "s",
        [EventDraft("user", payloads.user(f"question about widget {n}")) for n in (7, 85)],
    )
    assert len(await memory.search("widget 7")) == len(await memory.search("widget")) == 2
    note = unused_note("widget 7 is db")
    assert note is not None and note.startswith("not searched: 7 db (")
    # Words any sentence has are left out without a note.
    assert unused_note("reduce the size of the docker image") is None
    # Alone, short words are searched (whole words first); non-Latin ones always are.
    assert [h.seq for h in await memory.search("7")] == [1]
    assert unused_note("7") is None and unused_note("is it") is None
    assert unused_note("widget 中") is None
