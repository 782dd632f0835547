"""Transcripts and exports read payloads through runtime.payloads (issue 12.3): what the
runtime writes today and the shapes older versions and imports wrote still decode."""

from __future__ import annotations

from typing import Any

import pytest

from runtime import payloads
from tui.cli.render import EventView, view
from tui.widgets.events import model_of, partial_of, usage_of

CASES: list[tuple[str, str, dict[str, Any], EventView]] = [
    (
        "today's user message",
        "user",
        payloads.user("hello"),
        EventView("User", "", "hello", None, ""),
    ),
    (
        "content parts (OpenAI style)",
        "assistant",
        {"role": "assistant", "content": [{"type": "text", "text": "a"}, {"text": "b\n"}]},
        EventView("Assistant", "", "a\nb\n", None, ""),
    ),
    (
        "today's tool call",
        "tool_call",
        payloads.tool_call("c1", "calculator", {"expression": "2+2"}),
        EventView("Tool call", "calculator (c1)", None, '{\n  "expression": "2+2"\n}', "json"),
    ),
    (
        "an older tool call: tool_name, tool_call_id, args as JSON text",
        "tool_call",
        {"tool_name": "search", "tool_call_id": "x9", "args": '{"q": "tea"}'},
        EventView("Tool call", "search (x9)", None, '{\n  "q": "tea"\n}', "json"),
    ),
    (
        "an imported tool call: function.name and function.arguments",
        "tool_call",
        {"id": "t7", "function": {"name": "grep", "arguments": "[1, 2]"}},
        EventView("Tool call", "grep (t7)", None, "[\n  1,\n  2\n]", "json"),
    ),
    (
        "a tool call without arguments shows the whole payload",
        "tool_call",
        {"name": "ping"},
        EventView("Tool call", "ping", None, '{\n  "name": "ping"\n}', "json"),
    ),
    (
        "today's tool result",
        "tool_result",
        payloads.tool_result("c1", "calculator", result=4),
        EventView("Tool result", "calculator (c1)", None, "4", "json"),
    ),
    (
        "an older tool result under output",
        "tool_result",
        {"name": "shell", "call_id": "c2", "output": "done"},
        EventView("Tool result", "shell (c2)", None, "done", ""),
    ),
    (
        "a failed tool",
        "tool_result",
        payloads.tool_result("c3", "shell", error="exit 1"),
        EventView("Tool result", "shell (c3)", "error: exit 1", None, ""),
    ),
    (
        "a tool result with nothing in it shows the whole payload",
        "tool_result",
        payloads.tool_result("c4", "noop", result=None),
        EventView(
            "Tool result",
            "noop (c4)",
            None,
            '{\n  "call_id": "c4",\n  "name": "noop",\n  "result": null\n}',
            "json",
        ),
    ),
    (
        "today's cancelled turn",
        "cancelled",
        payloads.cancelled("half an ans"),
        EventView("Cancelled", "", payloads.CANCELLED_REASON, None, "", "half an ans"),
    ),
    (
        "an older cancelled turn: partial_text",
        "cancelled",
        {"reason": "stopped", "partial_text": "so far"},
        EventView("Cancelled", "", "stopped", None, "", "so far"),
    ),
    (
        "today's failed turn shows its message",
        "error",
        payloads.error(
            title="Provider failed",
            message="the server said 500",
            hint="try again",
            error_type="ProviderError",
            provider="openai",
            model="m",
        ),
        EventView("Error", "", "the server said 500", None, ""),
    ),
    (
        "an older failed turn: error text only",
        "error",
        {"error": "boom"},
        EventView("Error", "", "boom", None, ""),
    ),
    (
        "an unknown kind shows its whole payload",
        "note",
        {"text": "x"},
        EventView("note", "", None, '{\n  "text": "x"\n}', "json"),
    ),
]


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_view_reads_every_shape_through_the_payload_module(
    kind: str, payload: dict[str, Any], expected: EventView
) -> None:
    assert view(kind, payload) == expected


def test_the_log_notes_read_usage_timings_and_model_through_the_payload_module() -> None:
    answer = payloads.assistant(
        "x",
        provider="openai",
        model="gpt",
        usage={"prompt_tokens": 9, "completion_tokens": 1234},
        timings={"first_token_ms": 5, "total_ms": 1500},
    )
    assert usage_of(answer) == "1,234 tokens · 1.5 s"
    assert model_of(answer) == "openai · gpt"
    older = {"content": "x", "usage": {"total_tokens": 7}, "timings": {"total_ms": 40}}
    assert usage_of(older) == "7 tokens · 40 ms"
    assert model_of({"model": "llama"}) == "llama"
    assert partial_of({"partial_text": "so far"}) == "so far"
    assert partial_of(payloads.cancelled()) is None
