"""Seeding benchmark data quickly with raw SQL into a migrated turnkeep database."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from memory import open_embedded
from memory.records import format_ts

BASE = datetime(2026, 1, 1, tzinfo=UTC)


def migrated(path: Path) -> Path:
    """Create and migrate a turnkeep database at ``path``."""

    async def run() -> None:
        memory = await open_embedded(path)
        await memory.close()

    asyncio.run(run())
    return path


TOOL_TURN = ("user", "tool_call", "tool_result", "assistant")


def seed_long_session(
    path: Path,
    session_id: str,
    events: int,
    payload_bytes: int = 600,
    kinds: tuple[str, ...] = TOOL_TURN,
) -> None:
    """One session with ``events`` events, each turn the ``kinds`` in order (by default
    user / tool_call / tool_result / assistant; ``("user", "assistant")`` gives
    ``events / 2`` turns).

    Each message's text starts with ``#<seq>``; the last event is always an assistant
    message.
    """
    per_turn = len(kinds)
    text = "lorem ipsum dolor sit amet " * (payload_bytes // 27 + 1)
    conn = sqlite3.connect(path)
    with conn:
        now = format_ts(BASE)
        conn.execute(
            "INSERT INTO sessions (id, title, provider, model, created_at, updated_at, "
            "last_seq, event_count, turn_count) VALUES (?, ?, 'scripted', 'bench', ?, ?, ?, ?, ?)",
            (session_id, f"{events} events", now, now, events, events, -(-events // per_turn)),
        )
        rows = []
        for seq in range(1, events + 1):
            # The newest event is an assistant message, so its text is what a reader sees.
            kind = "assistant" if seq == events else kinds[(seq - 1) % per_turn]
            payload: dict[str, Any]
            if kind == "tool_call":
                payload = {
                    "call_id": f"c{seq}",
                    "name": "calculator",
                    "arguments": {"expression": f"{seq} * 2"},
                }
            elif kind == "tool_result":
                payload = {"call_id": f"c{seq - 1}", "name": "calculator", "result": seq * 2}
            else:
                role = "user" if kind == "user" else "assistant"
                payload = {"role": role, "content": f"#{seq} {text[:payload_bytes]}"}
            rows.append(
                (
                    session_id,
                    seq,
                    (seq - 1) // per_turn + 1,
                    kind,
                    json.dumps(payload, separators=(",", ":")),
                    now,
                )
            )
        conn.executemany(
            "INSERT INTO conversation_events (session_id, seq, turn, kind, payload, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
    conn.close()


def seed_sessions(path: Path, count: int) -> None:
    """``count`` sessions with spread-out activity times (no events: the list reads sessions)."""
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO sessions (id, title, provider, model, created_at, updated_at, "
            "last_seq, event_count, turn_count) VALUES (?, ?, 'local', 'smollm2', ?, ?, 8, 8, 2)",
            (
                (
                    f"s{i:08d}",
                    f"Session number {i} about topic {i % 97}",
                    format_ts(BASE + timedelta(seconds=i)),
                    format_ts(BASE + timedelta(seconds=i * 7 % (count * 3) + i)),
                )
                for i in range(count)
            ),
        )
    conn.close()
