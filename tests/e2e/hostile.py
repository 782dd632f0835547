"""Hostile stored text for the CLI tests: strings that would steer a terminal.

Used by the escape-injection tests (``test_cli_injection.py``) and the reliability
campaign's ``injection`` scenario. :func:`raw_controls` finds what must never reach a
terminal raw: ESC, other C0 controls except newline and tab, DEL, C1 controls (``\\x9b``
is a one-byte CSI on many terminals) and bidirectional overrides.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any, Final

__all__ = [
    "HOSTILE",
    "HOSTILE_ID",
    "HOSTILE_TITLE",
    "hostile_bundle",
    "raw_controls",
    "rename_session_raw",
]

#: Retitles the window, clears the screen, writes the clipboard, a C1 CSI, bidi overrides.
HOSTILE: Final = (
    "x \x1b]0;HACKED\x07 \x1b[2J \x1b]52;c;aGFja2Vk\x07 \x9b31m red \x85 nel "
    "\u202eevil\u202c \u2066iso\u2069 a\rb\nsecond line [bold]markup[/bold]"
)
HOSTILE_TITLE: Final = "Title \x1b]0;PWNED\x07\x1b[2J \u202egnp.exe\u202c\nline two \x9d"
#: A session id as a database written before ids were validated may hold.
HOSTILE_ID: Final = "id\x1b[2J\x1b]0;ID\x07\u202e\n\x9bx"

_RAW: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def raw_controls(text: str) -> list[str]:
    """Every character of ``text`` that could steer a terminal, as ``repr`` strings."""
    return [repr(match.group()) for match in _RAW.finditer(text)]


def hostile_bundle(session_id: str = "s-hostile") -> dict[str, Any]:
    """An export document whose title, model, kinds and payloads are all hostile."""
    ts = "2026-01-01T00:00:00.000000Z"
    events: list[dict[str, Any]] = [
        {"kind": "user", "payload": {"role": "user", "content": HOSTILE}},
        {
            "kind": "tool_call",
            "payload": {"name": "search\x1b[2J", "call_id": "c\x9b1", "arguments": {"q": HOSTILE}},
        },
        {"kind": "tool_result", "payload": {"name": "search", "call_id": "c1", "result": HOSTILE}},
        {"kind": "assistant", "payload": {"role": "assistant", "content": HOSTILE}},
        {"kind": "note\x1b]0;KIND\x07", "payload": {"text": HOSTILE}},
        {
            "kind": "cancelled",
            "payload": {"reason": "cancelled by the user", "partial_content": HOSTILE},
        },  # fmt: skip
        {
            "kind": "error",
            "payload": {"title": "Boom", "message": HOSTILE, "partial_content": HOSTILE},
        },  # fmt: skip
    ]
    return {
        "format": "turnkeep.sessions",
        "version": 1,
        "sessions": [
            {
                "id": session_id,
                "title": HOSTILE_TITLE,
                "agent": "agent\x1b[2J",
                "provider": "scripted\x9b",
                "model": "m\u202e1",
                "created_at": ts,
                "updated_at": ts,
                "metadata": {"note": HOSTILE},
                "states": [{"seq": 1, "created_at": ts, "state": {"s": HOSTILE}}],
                "events": [
                    {"seq": i, "turn": 1, "created_at": ts, **event}
                    for i, event in enumerate(events, start=1)
                ],
            }
        ],
    }


def write_bundle_file(path: Path, doc: dict[str, Any]) -> Path:
    """Write ``doc`` as a JSON file (non-ASCII kept raw, as an export would)."""
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def rename_session_raw(db: Path, old: str, new: str) -> None:
    """Give a stored session another id directly in SQLite, bypassing every check.

    Stands for a database written by an older turnkeep that accepted any id.
    """
    conn = sqlite3.connect(db)
    try:
        with conn:
            conn.execute("PRAGMA foreign_keys = OFF")
            for table in ("conversation_events", "session_state"):
                conn.execute(f"UPDATE {table} SET session_id = ? WHERE session_id = ?", (new, old))
            conn.execute("UPDATE sessions SET id = ? WHERE id = ?", (new, old))
    finally:
        conn.close()
