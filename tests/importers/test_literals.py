"""Long strings of a long ASCII line are stored as the line wrote them: same values,
the same bytes as the ordinary encoding for JSON that Python wrote, same refusals."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from memory import MemoryBackend
from memory.errors import SerializationError
from memory.records import encode_payload_ascii
from runtime.importers import literals as literals_module
from runtime.importers.claude_code import ClaudeCodeReader
from runtime.importers.literals import (
    LONG_STRING,
    decode_keeping_literals,
    encode_with_literals,
)
from runtime.importers.run import run_import

BIG = ('def f(x):\n\treturn "quoted" \\ path/to/file \u00e9 \u2192 \x1b[0m\n' * 2000)[
    : 3 * LONG_STRING
]


def _line(value: object) -> str:
    return json.dumps(value)  # ensure_ascii, as the benchmark's generator writes


def test_decoding_keeps_the_text_of_long_strings_and_equals_json_loads() -> None:
    record = {"type": "user", "content": [{"type": "tool_result", "content": BIG}], "n": [1, 2.5]}
    text = _line(record)
    kept = decode_keeping_literals(text)
    assert kept is not None
    value, literals = kept
    assert value == json.loads(text)
    assert [literal for _, literal in literals.values()] == [json.dumps(BIG)]
    big = value["content"][0]["content"]
    assert literals[id(big)][0] is big


def test_lines_it_leaves_to_the_ordinary_decoder() -> None:
    assert decode_keeping_literals(json.dumps({"t": BIG}, ensure_ascii=False)) is None  # UTF-8
    assert decode_keeping_literals('{"t": "' + "x" * LONG_STRING + '"') is None  # truncated
    many = _line({"t": BIG, "values": list(range(literals_module.MAX_VALUES + 1))})
    assert decode_keeping_literals(many) is None
    # Surrogate escapes (a lone one, which the encoder refuses, or a pair): decoded,
    # but the text is not kept.
    for escape in ("\\ud800", "\\ud83d\\ude00"):
        kept = decode_keeping_literals('{"t": "' + "x" * LONG_STRING + escape + '"}')
        assert kept is not None and kept[1] == {}
        assert kept[0] == json.loads('{"t": "' + "x" * LONG_STRING + escape + '"}')


def test_encoding_puts_the_kept_text_back_where_the_string_stands() -> None:
    text = _line({"a": {"result": BIG, "other": BIG[:10]}, "b": [BIG]})
    kept = decode_keeping_literals(text)
    assert kept is not None
    value, literals = kept
    payload = {"call_id": "t1", "result": value["a"]["result"], "source": value}
    encoded = encode_with_literals(payload, literals)
    assert encoded is not None
    assert encoded == encode_payload_ascii(payload)  # Python wrote it: the same bytes
    assert json.loads(encoded) == payload
    # A payload without any kept string is left to the ordinary encoder.
    assert encode_with_literals({"result": BIG}, literals) is None


def test_other_escapes_in_the_source_keep_the_same_value() -> None:
    # JSON other writers may produce: "\/" and upper-case hex escapes.
    raw = json.dumps(BIG).replace("/", "\\/").replace("\\u00e9", "\\u00E9")
    text = '{"result": ' + raw + "}"
    kept = decode_keeping_literals(text)
    assert kept is not None
    value, literals = kept
    encoded = encode_with_literals({"result": value["result"]}, literals)
    assert encoded is not None and "\\/" in encoded
    assert json.loads(encoded) == {"result": BIG}
    assert encoded.isascii()


def test_a_payload_that_cannot_be_stored_is_still_refused() -> None:
    text = _line({"t": BIG})
    kept = decode_keeping_literals(text)
    assert kept is not None
    value, literals = kept
    with pytest.raises(SerializationError):
        encode_with_literals({"t": value["t"], "bad": float("nan")}, literals)


async def test_imported_long_results_read_back_equal(store: MemoryBackend, tmp_path: Path) -> None:
    project = tmp_path / "src" / "-home-ana-proj"
    project.mkdir(parents=True)
    at = "2025-06-01T09:00:01.000Z"
    records = [
        {
            "type": "user",
            "uuid": "u1",
            "timestamp": at,
            "message": {"role": "user", "content": "go"},
        },
        {
            "type": "assistant",
            "uuid": "a1",
            "timestamp": at,
            "message": {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}],
            },
        },
        {
            "type": "user",
            "uuid": "r1",
            "timestamp": at,
            "message": {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": BIG * 2}],
            },
            "toolUseResult": {"stdout": BIG * 2, "stderr": ""},
        },
    ]
    (project / "s1.jsonl").write_text("".join(_line(r) + "\n" for r in records))
    await run_import(store, ClaudeCodeReader(tmp_path / "src"))
    events = await store.recall("claude-code-s1")
    result = next(e for e in events if e.kind == "tool_result")
    assert result.payload["result"] == BIG * 2
    assert result.payload["source"]["toolUseResult"]["stdout"] == BIG * 2
    with sqlite3.connect(tmp_path / "import.db") as conn:
        (stored,) = conn.execute(
            "SELECT payload FROM conversation_events WHERE kind = 'tool_result'"
        ).fetchone()
    assert stored == encode_payload_ascii(result.payload)  # what the ordinary path stores
