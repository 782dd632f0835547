"""The short-term scan (memory.sql.search_shapes.short_statement) reads the newest
SCAN_WINDOW events whichever table holds their text: a fork (or an import) writes its
rows straight into search_events with ids newer than a waiting row's (a review found the
window took every waiting row first, so such an event was missed until the older row
was moved)."""

from __future__ import annotations

from pathlib import Path

from memory import EventDraft, open_embedded
from memory.sql.search_shapes import SCAN_WINDOW
from runtime import payloads
from runtime.payloads import searchable_text
from runtime.search_index import settle_index


async def test_short_scan_window_differs_when_pending_rows_are_not_newest(db_path: Path) -> None:
    memory = await open_embedded(db_path)
    try:
        memory.use_search_text(searchable_text)
        drafts = [EventDraft("user", payloads.user("xqjx first"))]
        drafts += [EventDraft("user", payloads.user("filler")) for _ in range(SCAN_WINDOW - 1)]
        await memory.store("big", drafts)
        await settle_index(memory)  # ids 1..SCAN_WINDOW in search_events
        await memory.store("p", [EventDraft("user", payloads.user("old pending text"))])
        # The fork's rows (ids above the pending row's) go straight into search_events.
        await memory.fork_session("big", new_id="fork")
        hits = await memory.search("qj", limit=10)
        before = {(h.session_id, h.seq) for h in hits if h.kind != "title"}
        assert await settle_index(memory) == 1
        hits = await memory.search("qj", limit=10)
        after = {(h.session_id, h.seq) for h in hits if h.kind != "title"}
        # The fork's first event is among the newest SCAN_WINDOW events either way.
        assert ("fork", 1) in after
        assert before == after
    finally:
        await memory.close()
