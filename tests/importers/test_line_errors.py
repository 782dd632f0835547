"""The reason given for an unreadable JSONL line reads as one sentence (review finding 12:
"Invalid control character at at column 12")."""

from __future__ import annotations

from pathlib import Path

from runtime.importers.lines import read_jsonl


def test_unreadable_lines_say_where_once(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"ok": 1}\n{"a": "x\x01y"}\n{"a" 1}\n{"a": 1}x\n')
    errors = [(line.number, line.error) for line in read_jsonl(path)]
    assert errors == [
        (1, None),
        (2, "not valid JSON (Invalid control character at column 9)"),
        (3, "not valid JSON (Expecting ':' delimiter at column 6)"),
        (4, "not valid JSON (Extra data at column 9)"),
    ]
