"""The save point every write scenario stores: one turn of three events.

A turn is a user message, a tool result and a ~1 KB assistant message, as the issue
describes. The same content goes to turnkeep (as drafts) and to each baseline (as the
compact JSON text turnkeep would store), so both sides write the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

from memory import EventDraft

#: About 1 KB of assistant prose.
ASSISTANT_TEXT = ("Here is what I found after running the calculation. " * 20)[:1024]


def turn_payloads(turn: int) -> list[tuple[str, dict[str, Any]]]:
    """``(kind, payload)`` of the three events of turn number ``turn``."""
    call_id = f"call-{turn}"
    return [
        ("user", {"role": "user", "content": f"Turn {turn}: what is {turn} times 7?"}),
        (
            "tool_result",
            {"call_id": call_id, "name": "calculator", "result": {"value": turn * 7}},
        ),
        ("assistant", {"role": "assistant", "content": f"#{turn} {ASSISTANT_TEXT}"}),
    ]


def turn_drafts(turn: int) -> list[EventDraft]:
    """The turn as drafts for :meth:`runtime.persistence.PersistenceWorker.submit`."""
    return [EventDraft(kind, payload, turn) for kind, payload in turn_payloads(turn)]


def encode(payload: dict[str, Any]) -> str:
    """Compact JSON, as turnkeep stores payloads."""
    return json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
