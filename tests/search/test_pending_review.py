"""Cased non-ASCII terms (Greek, Cyrillic) find a waiting row as they will once it is in
the trigram index (migration 0015; a review found the scan folded ASCII case only, so
these missed waiting rows, or failed to exclude them, until they were moved)."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory import EventDraft, open_embedded
from runtime import payloads
from runtime.payloads import searchable_text
from runtime.search_index import settle_index


async def _hits(db_path: Path, text: str, query: str) -> tuple[set[int], set[int]]:
    """(seqs found while the row waits, seqs found once it is settled)."""
    memory = await open_embedded(db_path)
    try:
        memory.use_search_text(searchable_text)
        await memory.store("s", [EventDraft("user", payloads.user(text))])
        before = {h.seq for h in await memory.search(query, limit=10) if h.kind != "title"}
        assert await settle_index(memory) == 1
        after = {h.seq for h in await memory.search(query, limit=10) if h.kind != "title"}
        return before, after
    finally:
        await memory.close()


#: (text saved, query, seqs found once settled, why the shape is worth a case)
CASES = [
    pytest.param(
        "release notes ΔΕΛΤΑ build",
        "release -δελτα",
        set(),
        id="excluded-greek",  # the trigram plan's NOT folds Greek case; the copy must too
    ),
    pytest.param(
        "ΔΕΛΤΑ release αβ",
        "δελτα αβ",
        {1},
        # a short cased non-ASCII term: the trigram plan, whose pending branch does not
        # ask the word index: the whole word in another case
        id="whole-greek-word-other-case",
    ),
    pytest.param(
        "лог: Ошибка_сети повторилась",
        "Ошибка_сети",
        {1},
        # snake_case: the trigram plan; typed as saved (SQLite's lower() leaves the
        # Cyrillic capitals of the text, so the term must meet the folded copy)
        id="cyrillic-identifier-as-saved",
    ),
    pytest.param(
        "the ΣΩ ratio",
        "ΣΩ",
        {1},
        # only a short non-caseless term: the trigram plan's LIKE scan, which matches
        # the capitals as typed once settled
        id="short-greek-capitals",
    ),
    pytest.param(
        "см. СтолицаМосква тут",
        "цаМоск",
        {1},
        # the word-first plan's pending branch (substring_checks), typed as saved
        id="cyrillic-inner-part",
    ),
]


@pytest.mark.parametrize(("text", "query", "settled"), CASES)
async def test_a_waiting_row_is_found_as_once_settled(
    db_path: Path, text: str, query: str, settled: set[int]
) -> None:
    before, after = await _hits(db_path, text, query)
    assert after == settled
    assert before == after
