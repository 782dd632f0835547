"""Imported sessions feed the prompt builder like native ones (resume)."""

from __future__ import annotations

from memory import MemoryBackend
from runtime.context import to_units
from runtime.importers.chatgpt import ChatGPTReader
from runtime.importers.claude_code import ClaudeCodeReader
from runtime.importers.run import run_import
from tests.importers.conftest import FIXTURES


async def test_imported_events_become_a_well_formed_prompt(store: MemoryBackend) -> None:
    await run_import(store, ClaudeCodeReader(FIXTURES / "claude-code"))
    await run_import(store, ChatGPTReader(FIXTURES / "chatgpt" / "conversations.json"))
    for session_id in (
        "claude-code-7f2c1a9e-4b1d-4e0a-9c3e-1f2a3b4c5d6e",
        "chatgpt-6650f1c2-aaaa-4bbb-8ccc-000000000001",
    ):
        events = await store.recall(session_id)
        messages = [m for unit in to_units(events, len) for m in unit.messages]
        roles = [m["role"] for m in messages]
        assert roles[0] == "system" or roles[0] == "user"
        calls = [c["id"] for m in messages for c in m.get("tool_calls", [])]
        results = [m["tool_call_id"] for m in messages if m["role"] == "tool"]
        assert calls and sorted(calls) == sorted(results)  # every call answered, in pairs
        # reasoning, summary, sidechain and unknown events stay out of the prompt
        assert all(m["role"] in ("system", "user", "assistant", "tool") for m in messages)
    hits = await store.search_events("starts at Monday")
    assert [e.session_id for e in hits] == ["claude-code-7f2c1a9e-4b1d-4e0a-9c3e-1f2a3b4c5d6e"]
