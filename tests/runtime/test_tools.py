"""The tool registry and the built-in tools: calculator, current_time, search_sessions."""

from __future__ import annotations

from typing import Any

import pytest

from memory import EventDraft, EventSearch, MemoryBackend
from runtime.calculator import evaluate
from runtime.errors import ToolArgumentsError, ToolError, UnknownToolError
from runtime.tools import Tool, ToolContext, ToolRegistry, default_tools
from tests.conftest import FrozenClock


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 / 2", 3.5),
        ("7 // 2", 3),
        ("-7 % 3", 2),
        ("2 ** 10", 1024),
        ("-(3)", -3),
        ("abs(-4.5)", 4.5),
        ("round(3.14159, 2)", 3.14),
        ("max(1, 5, 3) - min(4, 2)", 3),
        ("sqrt(16)", 4.0),
        ("2 * pi", 6.283185307179586),
        ("1e3 + 1", 1001.0),
    ],
)
def test_calculator_evaluates_arithmetic(expression: str, value: float) -> None:
    assert evaluate(expression) == value


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os').system('true')", "is not allowed"),
        ("().__class__", "is not allowed"),
        ("x + 1", "unknown name 'x'"),
        ("open('/etc/passwd')", "is not allowed"),
        ("9 ** 9 ** 9", "exponents above"),
        ("2 ** 5000", "larger than"),
        ("'a' * 3", "is not allowed"),
        ("[1, 2]", "is not allowed"),
        ("lambda: 1", "is not allowed"),
        ("1 +", "not an arithmetic expression"),
        ("", "empty"),
        ("1" * 501, "longer than"),
        ("True + 1", "not numbers"),
        ("min(1)", "takes 2 to 32"),
    ],
)
def test_calculator_refuses_anything_but_arithmetic(expression: str, message: str) -> None:
    with pytest.raises(ToolArgumentsError, match=message):
        evaluate(expression)


@pytest.mark.parametrize("expression", ["1 / 0", "sqrt(-1)", "5 % 0"])
def test_calculator_arithmetic_errors_are_tool_errors(expression: str) -> None:
    with pytest.raises(ToolError):
        evaluate(expression)


def context(backend: MemoryBackend, clock: FrozenClock) -> ToolContext:
    return ToolContext(memory=backend, session_id="s-now", clock=clock)


async def test_registry_runs_tools_and_checks_arguments(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    tools = default_tools()
    assert tools.names() == ["current_time", "calculator", "search_sessions"]
    assert all(spec["type"] == "function" for spec in tools.specs())
    ctx = context(backend, clock)
    assert await tools.call("calculator", {"expression": "6 * 7"}, ctx) == {
        "expression": "6 * 7",
        "value": 42,
    }
    with pytest.raises(UnknownToolError, match="no tool named 'rm_rf'"):
        await tools.call("rm_rf", {}, ctx)
    with pytest.raises(ToolArgumentsError, match="missing argument 'expression'"):
        await tools.call("calculator", {}, ctx)
    with pytest.raises(ToolArgumentsError, match="must be a string"):
        await tools.call("calculator", {"expression": 42}, ctx)
    with pytest.raises(ToolArgumentsError, match="unknown argument 'shell'"):
        await tools.call("calculator", {"expression": "1", "shell": "x"}, ctx)


async def test_a_tool_that_raises_becomes_a_tool_error(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    async def explode(arguments: dict[str, Any], ctx: ToolContext) -> Any:
        raise KeyError("boom")

    tools = ToolRegistry([Tool("explode", "always fails", {"type": "object"}, explode)])
    with pytest.raises(ToolError, match="explode failed: KeyError") as caught:
        await tools.call("explode", {}, context(backend, clock))
    assert isinstance(caught.value.__cause__, KeyError)
    with pytest.raises(ValueError):
        tools.add(Tool("explode", "again", {"type": "object"}, explode))


async def test_current_time_uses_the_clock_and_time_zones(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    tools = default_tools()
    ctx = context(backend, clock)
    result = await tools.call("current_time", {}, ctx)
    assert result["utc"] == "2026-11-25T12:00:00Z"
    assert result["weekday"] == "Wednesday"
    paris = await tools.call("current_time", {"timezone": "Europe/Paris"}, ctx)
    assert paris["local"] == "2026-11-25T13:00:00+01:00"
    with pytest.raises(ToolArgumentsError, match="unknown time zone"):
        await tools.call("current_time", {"timezone": "Mars/Olympus"}, ctx)


async def seed(backend: MemoryBackend, clock: FrozenClock) -> None:
    await backend.create_session("s-old", title="Parser refactor")
    await backend.store(
        "s-old",
        [
            EventDraft("user", {"role": "user", "content": "How do I refactor the PARSER?"}),
            EventDraft("assistant", {"role": "assistant", "content": "Split the lexer out."}),
            EventDraft("tool_result", {"call_id": "c", "name": "x", "result": "parser"}),
        ],
    )
    clock.advance(60)
    await backend.store(
        "s-new",
        [
            EventDraft("user", {"role": "user", "content": "lunch? 100% sure_thing"}),
            EventDraft("assistant", {"role": "assistant", "content": "the parser can wait"}),
        ],
    )


async def test_search_events_contract(backend: MemoryBackend, clock: FrozenClock) -> None:
    assert isinstance(backend, EventSearch)
    await seed(backend, clock)
    found = await backend.search_events("parser")
    assert [(e.session_id, e.seq) for e in found] == [("s-new", 2), ("s-old", 1)]
    assert [(e.session_id, e.seq) for e in await backend.search_events("PARSER", limit=1)] == [
        ("s-new", 2)
    ]
    only_old = await backend.search_events("parser", session_id="s-old")
    assert [(e.session_id, e.seq) for e in only_old] == [("s-old", 1)]
    # LIKE wildcards in the query match themselves only.
    assert [e.seq for e in await backend.search_events("100%")] == [1]
    assert await backend.search_events("0% z") == []
    assert [e.seq for e in await backend.search_events("sure_thing")] == [1]
    assert await backend.search_events("sure-thing") == []
    assert await backend.search_events("   ") == []
    assert await backend.search_events("nothing like this") == []


async def test_search_sessions_tool_finds_titles_and_messages(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    await seed(backend, clock)
    result = await default_tools().call(
        "search_sessions", {"query": "parser", "limit": 5}, context(backend, clock)
    )
    assert [s["session_id"] for s in result["sessions"]] == ["s-old"]
    # The same index and ranking as `turnkeep search`: the person's own words first;
    # replies and tool output are found too.
    found = [(e["session_id"], e["seq"], e["kind"]) for e in result["events"]]
    assert found[0] == ("s-old", 1, "user")
    assert sorted(found[1:]) == [("s-new", 2, "assistant"), ("s-old", 3, "tool_result")]
    assert "«PARSER»" in result["events"][0]["snippet"]
    assert result["events"][0]["title"] == "Parser refactor"
    with pytest.raises(ToolArgumentsError, match="empty"):
        await default_tools().call("search_sessions", {"query": " "}, context(backend, clock))
