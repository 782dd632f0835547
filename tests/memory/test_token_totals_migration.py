"""Migration 0008: sessions whose answers predate token totals get them from payloads.

Before 0005 the session rows had no totals and 0005 added them at zero; the answers
always kept their usage in their payloads. 0008 fills the totals of sessions still at
zero with what ``runtime.payloads.usage`` reads from those payloads, and leaves
sessions credited by save points alone.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from memory import EventDraft, open_embedded
from memory.records import TokenCount
from memory.schema.migrate import migrations_dir
from runtime import payloads


def _answer(usage: dict[str, object]) -> str:
    return json.dumps({"role": "assistant", "content": "a", "usage": usage})


async def test_0008_fills_zero_totals_from_the_answers_payloads(db_path: Path) -> None:
    memory = await open_embedded(db_path)
    try:
        # Credited by save points: kept as they are.
        await memory.store(
            "live",
            [EventDraft("assistant", payloads.assistant("x", usage={}), 1, TokenCount(7, 3))],
        )
        for sid in ("old", "imported", "none"):
            await memory.create_session(sid)
    finally:
        await memory.close()
    rows = [
        ("old", 1, _answer({"prompt_tokens": 100, "completion_tokens": 20})),
        ("old", 2, _answer({"prompt_tokens": 50, "completion_tokens": 5, "estimated": True})),
        # Only a total (some servers): counted as completion, as the reader does.
        ("imported", 1, _answer({"total_tokens": 30})),
        # Booleans and text are not counts.
        ("none", 1, _answer({"prompt_tokens": True, "completion_tokens": "9"})),
    ]
    conn = sqlite3.connect(db_path)
    with conn:
        for sid, seq, payload in rows:
            conn.execute(
                "INSERT INTO conversation_events (session_id, seq, turn, kind, payload, "
                "created_at) VALUES (?, ?, 1, 'assistant', ?, '2026-01-01T00:00:00.000000Z')",
                (sid, seq, payload),
            )
        # As a database that had these answers before 0008 ran.
        conn.executescript((migrations_dir() / "0011.token-totals.rollback.sql").read_text())
        conn.execute("DELETE FROM _yoyo_migration WHERE migration_id = '0011.token-totals'")
    conn.close()
    memory = await open_embedded(db_path)
    try:
        assert memory.migration_outcome is not None
        assert memory.migration_outcome.applied == ("0011.token-totals",)
        totals = {
            sid: (i.prompt_tokens, i.completion_tokens, i.tokens_estimated)
            for sid in ("live", "old", "imported", "none")
            for i in [await memory.get_session(sid)]
        }
    finally:
        await memory.close()
    assert totals == {
        "live": (7, 3, False),
        "old": (150, 25, True),
        "imported": (0, 30, False),
        "none": (0, 0, False),
    }
