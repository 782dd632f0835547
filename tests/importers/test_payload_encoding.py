"""How imported payloads are stored: ASCII JSON for (nearly) ASCII records, UTF-8 JSON
for the rest, the same values either way (read back from a real SQLite file)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from memory import MemoryBackend
from runtime.importers.claude_code import ClaudeCodeReader
from runtime.importers.run import run_import

CODE = ("    return text.strip()  # nothing special here\n" * 20 + "# café\n") * 10
CHINESE = "这个函数返回一。" * 200


def _transcript(root: Path, *results: str) -> None:
    project = root / "-home-ana-proj"
    project.mkdir(parents=True)
    records: list[dict[str, object]] = []
    for n, result in enumerate(results, start=1):
        at = f"2025-06-01T09:00:0{n}.000Z"
        records += [
            {
                "type": "user",
                "uuid": f"u{n}",
                "timestamp": at,
                "message": {"role": "user", "content": "run it"},
            },
            {
                "type": "assistant",
                "uuid": f"a{n}",
                "timestamp": at,
                "message": {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": f"t{n}", "name": "Bash", "input": {}}],
                },
            },
            {
                "type": "user",
                "uuid": f"r{n}",
                "timestamp": at,
                "message": {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": f"t{n}", "content": result}],
                },
            },
        ]
    # Written as Claude Code writes it: UTF-8, not escaped.
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    (project / "s1.jsonl").write_text(text, encoding="utf-8")


def _stored(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT payload FROM conversation_events WHERE kind = 'tool_result' ORDER BY seq"
        ).fetchall()
    return [r[0] for r in rows]


async def test_ascii_records_are_stored_escaped_and_others_as_utf8(
    store: MemoryBackend, tmp_path: Path
) -> None:
    _transcript(tmp_path / "src", CODE, CHINESE)
    await run_import(store, ClaudeCodeReader(tmp_path / "src"))
    code, chinese = _stored(tmp_path / "import.db")
    assert code.isascii() and "caf\\u00e9" in code  # 0.1 % of its bytes are accents
    assert CHINESE in chinese  # escaped, it would take twice the room
    events = await store.recall("claude-code-s1")
    assert [e.payload["result"] for e in events if e.kind == "tool_result"] == [CODE, CHINESE]
    assert len(chinese.encode()) < 1.2 * len(CHINESE.encode())
