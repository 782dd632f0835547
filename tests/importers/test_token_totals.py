"""Token usage of imported answers: in each answer's payload as the runtime records it,
and in the session's totals (``sessions list --json``, ``usage``), counted once.

Every test runs on a real SQLite file (the ``store`` fixture) with the fixture
histories of the importer tests. The session totals must equal what every reader of
the answers' payloads adds up (:func:`runtime.sessions_organize.count_tokens_until`,
the same reader ``turnkeep usage`` uses), also after a grown source is imported again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memory import MemoryBackend
from runtime import payloads
from runtime.importers import jsonl
from runtime.importers.claude_code import ClaudeCodeReader
from runtime.importers.codex import CodexReader
from runtime.importers.llm_logs import LlmReader
from runtime.importers.run import run_import
from runtime.sessions_organize import count_tokens_until
from tests.importers.conftest import FIXTURES
from tests.importers.llm_fixture import add_released_response, build_message_store, build_released

CLAUDE = "claude-code-7f2c1a9e-4b1d-4e0a-9c3e-1f2a3b4c5d6e"
CODEX = "codex-019a2d7a-41c4-78b1-b7cc-a45d62a89cd5"


async def _totals(store: MemoryBackend, session_id: str) -> tuple[int, int]:
    """The session's totals, checked against the sum over its answers' payloads."""
    info = await store.get_session(session_id)
    counted = await count_tokens_until(store, session_id, info.last_seq)
    assert (info.prompt_tokens, info.completion_tokens) == (counted.prompt, counted.completion)
    return info.prompt_tokens, info.completion_tokens


async def _usages(store: MemoryBackend, session_id: str) -> list[tuple[int, Any]]:
    return [
        (e.seq, e.payload.get("usage"))
        for e in await store.recall(session_id)
        if e.kind == "assistant"
    ]


def _line(**record: Any) -> str:
    return json.dumps(record) + "\n"


def _claude_reply(uuid: str, message_id: str, text: str | None, **usage: int) -> str:
    content = (
        [{"type": "text", "text": text}]
        if text
        else [
            {"type": "tool_use", "id": f"toolu_{uuid}", "name": "Bash", "input": {"command": "ls"}}
        ]
    )
    return _line(
        type="assistant",
        uuid=uuid,
        sessionId="7f2c1a9e-4b1d-4e0a-9c3e-1f2a3b4c5d6e",
        timestamp="2025-06-01T09:05:00.000Z",
        message={
            "id": message_id,
            "role": "assistant",
            "model": "claude-sonnet-4-20250514",
            "content": content,
            "usage": usage,
        },
    )


async def test_claude_code_answers_carry_usage_and_the_session_totals_it(
    store: MemoryBackend,
) -> None:
    await run_import(store, ClaudeCodeReader(FIXTURES / "claude-code"))
    # msg_01A is split over two records (output 40, then 60): counted once, latest
    # figures. msg_01B only called a tool (30 in, 20 out): its usage goes to the next
    # answer, msg_01D's (5 in, 12 out).
    assert await _usages(store, CLAUDE) == [
        (4, {"prompt_tokens": 12, "completion_tokens": 60, "total_tokens": 72}),
        (18, {"prompt_tokens": 35, "completion_tokens": 32, "total_tokens": 67}),
    ]
    assert await _totals(store, CLAUDE) == (47, 92)


async def test_claude_code_totals_do_not_depend_on_how_the_session_is_chunked(
    store: MemoryBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonl, "CHUNK_EVENTS", 1)  # a transaction per record
    report = await run_import(store, ClaudeCodeReader(FIXTURES / "claude-code"))
    assert report.events_added == 22
    assert [u for _, u in await _usages(store, CLAUDE) if u] == [
        {"prompt_tokens": 12, "completion_tokens": 60, "total_tokens": 72},
        {"prompt_tokens": 35, "completion_tokens": 32, "total_tokens": 67},
    ]
    assert await _totals(store, CLAUDE) == (47, 92)


async def test_grown_claude_code_session_adds_only_the_new_usage(
    store: MemoryBackend,
    fixture_copy,  # type: ignore[no-untyped-def]
) -> None:
    root = fixture_copy("claude-code")
    path = next(root.rglob("7f2c*.jsonl"))
    await run_import(store, ClaudeCodeReader(root))
    assert await _totals(store, CLAUDE) == (47, 92)
    with path.open("a", encoding="utf-8") as handle:
        handle.write('her test?"},"uuid":"u-0014","timestamp":"2025-06-01T09:04:00.000Z"}\n')
        # msg_01D again (already counted by the first import): adds nothing.
        handle.write(
            _claude_reply("u-0015", "msg_01D", "Still here.", input_tokens=5, output_tokens=12)
        )
        # A new message over two records; cache tokens (read and written) are prompt
        # tokens too, and kept apart for their prices.
        usage = {
            "input_tokens": 7,
            "cache_read_input_tokens": 100,
            "cache_creation_input_tokens": 50,
            "output_tokens": 4,
        }
        handle.write(_claude_reply("u-0016", "msg_01E", None, **usage))
        handle.write(_claude_reply("u-0017", "msg_01E", "Done.", **{**usage, "output_tokens": 9}))
    report = await run_import(store, ClaudeCodeReader(root))
    assert (report.updated, report.events_appended) == (1, 4)
    seq, recorded = (await _usages(store, CLAUDE))[-1]
    assert (seq, recorded) == (
        22,
        {
            "prompt_tokens": 157,
            "completion_tokens": 9,
            "total_tokens": 166,
            "cached_tokens": 100,
            "cache_write_tokens": 50,
        },
    )
    assert payloads.usage({"usage": recorded}) == payloads.Usage(157, 9, False, 100, 50)
    assert await _totals(store, CLAUDE) == (47 + 157, 92 + 9)
    again = await run_import(store, ClaudeCodeReader(root))
    assert (again.updated, again.unchanged) == (0, 2)
    assert await _totals(store, CLAUDE) == (204, 101)


async def test_codex_token_counts_go_to_the_answers_once(
    store: MemoryBackend,
    fixture_copy,  # type: ignore[no-untyped-def]
) -> None:
    root = fixture_copy("codex")
    path = next(root.rglob("rollout-2025-10-29*.jsonl"))
    await run_import(store, CodexReader(root))
    # The notice after the tool calls' model call: carried to the answer that follows.
    assert await _usages(store, CODEX) == [
        (8, {"prompt_tokens": 2946, "completion_tokens": 7, "total_tokens": 2953}),
        (13, None),
    ]
    assert await _totals(store, CODEX) == (2946, 7)
    notice = {"type": "token_count", "info": {"total_token_usage": {}}}
    with path.open("a", encoding="utf-8") as handle:
        handle.write('xt","text":"One more question"}]}}\n')
        answer = {"type": "message", "role": "assistant"}
        answer["content"] = [{"type": "output_text", "text": "Sure."}]
        handle.write(
            _line(timestamp="2025-10-29T01:08:00.000Z", type="response_item", payload=answer)
        )
        total = {"input_tokens": 3100, "cached_input_tokens": 2900, "output_tokens": 20}
        notice["info"] = {"total_token_usage": total}
        handle.write(_line(timestamp="2025-10-29T01:08:01.000Z", type="event_msg", payload=notice))
        # The same notice again (Codex repeats it with rate-limit updates): nothing new.
        handle.write(_line(timestamp="2025-10-29T01:08:02.000Z", type="event_msg", payload=notice))
    report = await run_import(store, CodexReader(root))
    assert (report.updated, report.events_appended) == (1, 2)
    # The growth of the running total since the first import's last notice.
    assert (await _usages(store, CODEX))[-1] == (
        15,
        {"prompt_tokens": 154, "completion_tokens": 13, "total_tokens": 167, "cached_tokens": 2900},
    )
    assert await _totals(store, CODEX) == (3100, 20)


async def test_llm_answers_carry_usage_and_the_session_totals_it(
    store: MemoryBackend, tmp_path: Path
) -> None:
    path = tmp_path / "logs.db"
    build_released(path)
    build_message_store(path)
    reader = LlmReader(path)
    try:
        await run_import(store, reader)
    finally:
        reader.close()
    assert await _totals(store, "llm-01jv-conv-a") == (50 + 70, 12 + 10)
    # The message-store layout: each turn's figures on its answer.
    assert await _totals(store, "llm-thread:th-1") == (40 + 60, 9 + 8)
    add_released_response(path)  # a response that logged no tokens
    reader = LlmReader(path)
    try:
        grown = await run_import(store, reader)
    finally:
        reader.close()
    assert grown.events_appended == 2
    assert await _totals(store, "llm-01jv-conv-a") == (120, 22)
