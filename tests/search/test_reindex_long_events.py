"""Long events are indexed with their start and end (review finding 1), and migration
0014 re-indexes the long events of an existing database so the index stays exact.

The index held the first 4 KB of a tool output and 32 KB of a message; now up to 128 KB
of a message, and of a longer text its start and its end (where a build's error is).
A database indexed the old way is migrated: the backfill walks its events again and
replaces the long events' rows in both indexes (``index_mismatches`` is then ``[]``: same
text as the runtime's reader, same word vocabulary).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from memory import EventDraft, open_embedded
from runtime import payloads
from runtime.payloads import (
    SEARCH_TEXT_LIMIT,
    TOOL_TEXT_LIMIT,
    TOOL_TEXT_TAIL,
    searchable_text,
)
from runtime.search_index import backfill_index
from tests.search.consistency import index_mismatches
from tests.support.old_heads import old_head

LOG = "line of ordinary build output here\n" * 150
ERROR = "FATAL: qwertyzebra exploded in module\n"


def _old_reader(kind: str, payload: Mapping[str, Any]) -> str:
    """The reader before 0014: the first 4 KB of tool traffic, 32 KB of the rest."""
    return searchable_text(kind, payload, 32_768)


def _drafts() -> list[EventDraft]:
    return [
        EventDraft("user", payloads.user("why did the build fail?")),
        EventDraft("tool_call", payloads.tool_call("t1", "Bash", {"command": "make"})),
        EventDraft("tool_result", payloads.tool_result("t1", "Bash", result=LOG + ERROR)),
        EventDraft("user", payloads.user("x " * 20_000 + " pastedendmarker")),
        EventDraft("user", payloads.user("y " * 100_000 + " farendmarker")),
    ]


def test_the_index_holds_the_start_and_the_end() -> None:
    result = payloads.tool_result("t1", "Bash", result=LOG + ERROR)
    text = searchable_text("tool_result", result)
    assert len(text) == TOOL_TEXT_LIMIT and text.startswith("Bash\nline of")
    assert text.endswith(ERROR) and "qwertyzebra" not in text[: TOOL_TEXT_LIMIT - TOOL_TEXT_TAIL]
    paste = searchable_text("user", payloads.user("x " * 20_000 + " pastedendmarker"))
    assert paste.endswith("pastedendmarker") and len(paste) < SEARCH_TEXT_LIMIT
    huge = searchable_text("user", payloads.user("y " * 100_000 + " farendmarker"))
    assert len(huge) == SEARCH_TEXT_LIMIT and huge.endswith("farendmarker")
    # An explicit limit is a prefix (previews, embeddings); None is the whole text.
    assert searchable_text("tool_result", result, 100) == text[:100]
    assert searchable_text("tool_result", result, None).endswith(ERROR)


async def test_migration_reindexes_long_events_of_an_old_index(tmp_path: Path) -> None:
    # 0013 (with the pending rows of 0015, which today's save points write).
    old_dir = old_head(tmp_path / "migrations-0013", 13)
    db = tmp_path / "old.db"
    old = await open_embedded(db, migrations_dir=old_dir)
    try:
        old.use_search_text(_old_reader)
        await old.store("s", _drafts())
        await old.store("short", [EventDraft("user", payloads.user("short qwertyzebra"))])
        # Into the trigram index, where the rows of a database at 0013 were.
        assert await old.settle_search() == 6
        assert [h.session_id for h in await old.search("qwertyzebra")] == ["short"]
        assert await index_mismatches(old, _old_reader) == []
    finally:
        await old.close()

    memory = await open_embedded(db)
    try:
        memory.use_search_text(searchable_text)
        assert memory.migration_outcome is not None
        assert tuple(memory.migration_outcome.applied) == ("0014.search-long-events",)
        progress = await memory.search_progress()
        assert not progress.complete
        # Meanwhile everything is searchable as it was: the migration re-indexes nothing
        # itself (opening a large database does not wait for it), the long events keep
        # their old rows (the start of the build log) until the backfill replaces them.
        assert [h.session_id for h in await memory.search("qwertyzebra")] == ["short"]
        assert [(h.session_id, h.seq) for h in await memory.search("ordinary")] == [("s", 3)]
        await backfill_index(memory, pause=0)
        assert await index_mismatches(memory) == []
        found = {(h.session_id, h.seq) for h in await memory.search("qwertyzebra")}
        assert found == {("short", 1), ("s", 3)}
        pasted = await memory.search("pastedendmarker")
        assert [h.seq for h in pasted] == [4]
        # The snippet shows the match, 40 KB into the message.
        assert "«pastedendmarker»" in pasted[0].marked()
        assert [h.seq for h in await memory.search("farendmarker")] == [5]
    finally:
        await memory.close()
