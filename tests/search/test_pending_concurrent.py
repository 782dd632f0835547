"""Two connections (as two processes would) settling and a third saving at once keep the
indexes exact (migration 0015: each settle is one BEGIN IMMEDIATE batch)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from memory import EventDraft, open_embedded
from runtime import payloads
from runtime.payloads import searchable_text
from runtime.search_index import settle_index
from tests.search.consistency import index_mismatches


async def test_two_settlers_and_a_saver_at_once(db_path: Path) -> None:
    first, second = await open_embedded(db_path), await open_embedded(db_path)
    try:
        for memory in (first, second):
            memory.use_search_text(searchable_text)
        drafts = [EventDraft("user", payloads.user(f"note {n} zebra")) for n in range(900)]
        await first.store("s", drafts)

        async def save() -> None:
            for n in range(20):
                await second.store("t", [EventDraft("user", payloads.user(f"late {n} okapi"))])

        moved = await asyncio.gather(
            settle_index(first, batch=50), settle_index(second, batch=50), save()
        )
        moved_now = await settle_index(first)
        assert moved[0] + moved[1] + moved_now == 920
        assert await index_mismatches(first) == []
        assert len(await first.search("kapi", limit=50)) == 20
    finally:
        await first.close()
        await second.close()
