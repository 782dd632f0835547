"""The shared pieces: bounded JSONL reading, the streaming array reader, ids, blobs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from runtime.importers.base import (
    EventBuilder,
    SourceFormatError,
    read_jsonl,
    scrub,
    session_id_for,
    to_ts,
)
from runtime.importers.json_stream import iter_array


def test_jsonl_reads_long_lines_and_reports_a_truncated_end(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    big = "x" * (12 * 1024 * 1024)
    with path.open("w") as handle:
        handle.write(json.dumps({"n": 1}) + "\n\n")
        handle.write(json.dumps({"big": big}) + "\n")
        handle.write('{"cut": ')
    lines = list(read_jsonl(path))
    assert [ln.number for ln in lines] == [1, 2, 3, 4]
    assert lines[1].value is None and lines[1].error is None
    assert len(lines[2].value["big"]) == len(big)
    assert lines[3].error is not None and "truncated" in lines[3].error
    assert not lines[3].complete
    # Resuming from an offset keeps counting lines.
    resumed = list(read_jsonl(path, offset=lines[1].end, line=2))
    assert [ln.number for ln in resumed] == [3, 4]


def test_array_reader_yields_elements_with_lines() -> None:
    doc = '[\n {"a": 1},\n {"b": "' + "y" * 3_000_000 + '"},\n 7\n]'
    items = list(iter_array(io.BytesIO(doc.encode()), "x.json"))
    assert [(i.index, i.line, i.error) for i in items] == [(0, 2, None), (1, 3, None), (2, 4, None)]
    assert len(items[1].value["b"]) == 3_000_000
    broken = list(iter_array(io.BytesIO(b'[{"a": 1}, {"b": '), "x.json"))
    assert broken[0].value == {"a": 1} and broken[1].error is not None
    with pytest.raises(SourceFormatError):
        list(iter_array(io.BytesIO(b'{"a": 1}'), "x.json"))


def test_session_ids_are_deterministic_and_safe() -> None:
    assert session_id_for("claude-code", "7f2c-ab") == "claude-code-7f2c-ab"
    odd = session_id_for("llm", "a b/c")
    assert odd.startswith("llm-a_b_c-") and odd == session_id_for("llm", "a b/c")
    assert session_id_for("llm", "a_b_c") != odd
    long = session_id_for("chatgpt", "z" * 300)
    assert len(long) == 128 and long != session_id_for("chatgpt", "z" * 301)


def test_blobs_become_placeholders() -> None:
    image = {"type": "base64", "media_type": "image/png", "data": "A" * 4000}
    assert scrub({"source": image})["source"]["data"] == "[base64 data, 3,000 bytes - not imported]"
    assert "image/jpeg URI" in scrub("data:image/jpeg;base64," + "B" * 1000)
    prose = "word " * 1000
    assert scrub({"data": prose}) == {"data": prose}


def test_timestamps_and_turns() -> None:
    assert to_ts("2025-06-01T09:00:01Z") == "2025-06-01T09:00:01.000000Z"
    assert to_ts("2025-05-01T10:00:00.1") == "2025-05-01T10:00:00.100000Z"
    assert to_ts(1717232400.0) == "2024-06-01T09:00:00.000000Z"
    assert to_ts(1717232400000) == "2024-06-01T09:00:00.000000Z"
    assert to_ts("not a time") is None
    builder = EventBuilder(turn=4)
    builder.call("c1", "ls", ["-l"], "2025-01-01T00:00:00Z")
    builder.add("user", {"content": "hi"}, None, new_turn=True)
    builder.result("c1", "ok")
    events = builder.take()
    assert [(e.kind, e.turn) for e in events] == [("tool_call", 4), ("user", 5), ("tool_result", 5)]
    assert events[0].payload["arguments"] == {"value": ["-l"]}
    assert events[2].payload["name"] == "ls"
    assert events[2].created_at == "2025-01-01T00:00:00.000000Z"
