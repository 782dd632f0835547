"""Many query shapes, filters and kinds find the same events while the rows wait in
search_pending as once they are settled (migration 0015; sets, not order: pending
substring hits rank after trigram ones by design)."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from memory import EventDraft, open_embedded
from runtime import payloads
from runtime.payloads import searchable_text
from runtime.search_index import settle_index

TEXTS = {
    "a": [
        ("user", "a wombat dug a burrow near Tokyo_station"),
        ("assistant", "see refactorAuthMiddleware and snake_case_name"),
        ("user", "deploy to 東京都 servers, flaky upload"),
    ],
    "b": [
        ("user", "the flaky upload test broke on wombat_ci"),
        ("assistant", "grow it: AuthMiddleware retries, ro ro"),
        ("user", "café naïve résumé über straße"),
        ("assistant", "ΣΑΣ ΚΑΛΗΜΕΡΑ wombat: Ошибка_Сети в СтолицаМосква"),
    ],
}
QUERIES = [
    "wombat",
    "ombat",
    "AuthMidd",
    "case_na",
    "東京",
    "ro",
    "uploa",
    '"flaky upload"',
    "upload -flaky",
    "wombat -burrow",
    "ombat -ci",
    "ro -wombat",
    "Tokyo_st",
    "okyo",
    "flaky up",
    "cafe",
    "resum",
    "strasse",
    "uber",
    "auth -refactor",
    "mbat_c",
    "東",
    "wombat ro",
    "ombat 東",
    "snake_case_name -auth",
    "σας",
    "καλημ",
    "ΗΜΕΡ",
    "ошибка_с",
    "цамоск",
    "wombat -σας",
    "ombat -καλη",
]


async def _run(memory, since: str) -> dict[tuple, set]:  # type: ignore[no-untyped-def]
    out = {}
    for q, sess, kinds, sn in itertools.product(
        QUERIES, (None, "a", "b"), ((), ("user",), ("assistant",)), (None, since)
    ):
        hits = await memory.search(q, limit=20, session_id=sess, kinds=kinds, since=sn)
        out[(q, sess, kinds, sn)] = {(h.session_id, h.seq) for h in hits if h.kind != "title"}
    return out


async def test_every_shape_finds_the_same_before_and_after_settling(db_path: Path) -> None:
    memory = await open_embedded(db_path)
    try:
        memory.use_search_text(searchable_text)
        for sid, rows in TEXTS.items():
            await memory.store(sid, [EventDraft(k, getattr(payloads, k)(t)) for k, t in rows])
            await asyncio.sleep(0.01)
        got = await memory.driver.execute(
            "SELECT min(created_at) FROM conversation_events WHERE session_id = 'b'"
        )
        since = str(got.rows[0][0])
        before = await _run(memory, since)
        assert await settle_index(memory) == 7
        after = await _run(memory, since)
        diff = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        assert diff == {}
    finally:
        await memory.close()
