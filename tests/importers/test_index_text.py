"""Imported events are indexed with the text the search reader gives (issue 17).

The importer computes each event's index text while it still holds the decoded payload
(so the write path does not decode it again); these tests check that the index ends up
exactly as if the backend had derived every row from the stored payloads: the
``integrity-check`` comparison of tests/search/consistency.py, on every source.
"""

from __future__ import annotations

import json

from memory import MemoryBackend
from memory.bundle import PortableEvent
from memory.sql.search_statements import import_statements, index_values
from runtime.importers.chatgpt import ChatGPTReader
from runtime.importers.claude_code import ClaudeCodeReader
from runtime.importers.codex import CodexReader
from runtime.importers.run import run_import
from runtime.payloads import searchable_text
from tests.importers.conftest import FIXTURES
from tests.search.consistency import index_mismatches


async def test_every_source_indexes_exactly_what_the_reader_gives(store: MemoryBackend) -> None:
    store.use_search_text(searchable_text)  # type: ignore[attr-defined]
    await run_import(store, ClaudeCodeReader(FIXTURES / "claude-code"))
    await run_import(store, CodexReader(FIXTURES / "codex"))
    await run_import(store, ChatGPTReader(FIXTURES / "chatgpt" / "conversations.json"))
    assert await index_mismatches(store) == []
    assert [h.kind for h in await store.search("pytest")]


def test_given_text_and_derived_text_write_the_same_rows() -> None:
    payload = {"role": "user", "content": "Café \x02naïve\x03 ﬁx"}
    encoded = json.dumps(payload)
    derived = import_statements(searchable_text, "s", None, [(1, "user", encoded)])
    folded = index_values(searchable_text, "user", encoded)[0]
    given = import_statements(searchable_text, "s", None, [(1, "user", encoded, folded)])
    assert derived == given
    assert folded == "Cafe  naive  fix"
    event = PortableEvent(1, 1, "user", "t", encoded, search_text=folded)
    # The index text is never part of what an export compares or writes.
    assert event == PortableEvent(1, 1, "user", "t", encoded)
    assert "search_text" not in repr(event)
