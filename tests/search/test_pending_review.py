"""Cased non-ASCII terms (Greek, Cyrillic) find a waiting row as they will once it is in
the trigram index (migration 0015; a review found the scan folded ASCII case only, so
these missed waiting rows, or failed to exclude them, until they were moved)."""

from __future__ import annotations

from pathlib import Path

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


async def test_excluded_cased_greek_term_is_not_excluded_while_pending(db_path: Path) -> None:
    # "-δελτα" is not caseless: the trigram plan, whose NOT folds Greek case once settled;
    # the waiting row's folded copy must exclude it too.
    before, after = await _hits(db_path, "release notes ΔΕΛΤΑ build", "release -δελτα")
    assert after == set()
    assert before == after


async def test_whole_greek_word_in_other_case_missed_while_pending(db_path: Path) -> None:
    # A short cased non-ASCII term sends the query to the trigram plan, whose pending
    # branch does not ask the word index: the whole word in another case.
    before, after = await _hits(db_path, "ΔΕΛΤΑ release αβ", "δελτα αβ")
    assert after == {1}
    assert before == after


async def test_cyrillic_identifier_typed_as_saved_missed_while_pending(db_path: Path) -> None:
    # snake_case: the trigram plan; typed exactly as saved (SQLite's lower() leaves the
    # Cyrillic capitals of the text, so the term must meet the folded copy).
    before, after = await _hits(db_path, "лог: Ошибка_сети повторилась", "Ошибка_сети")
    assert after == {1}
    assert before == after


async def test_short_greek_capitals_typed_as_saved_missed_while_pending(db_path: Path) -> None:
    # Only a short non-caseless term: the trigram plan's LIKE scan, which matches the
    # capitals as typed once settled.
    before, after = await _hits(db_path, "the ΣΩ ratio", "ΣΩ")
    assert after == {1}
    assert before == after


async def test_cyrillic_inner_part_typed_as_saved_missed_while_pending(db_path: Path) -> None:
    # The word-first plan's pending branch (substring_checks), typed as saved.
    before, after = await _hits(db_path, "см. СтолицаМосква тут", "цаМоск")
    assert after == {1}
    assert before == after
