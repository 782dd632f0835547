"""The tools a model can call: described by JSON schema, run by name.

:func:`default_tools` builds the registry turnkeep offers: ``current_time``,
``calculator`` (safe arithmetic, see :mod:`runtime.calculator`) and ``search_sessions``
(past conversations through the memory layer). A tool that raises does not end the
turn: the conversation stores its error as the tool result and the model goes on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from memory import MemoryBackend
from memory.records import Clock, utc_now
from runtime.calculator import evaluate
from runtime.errors import ToolArgumentsError, ToolError, UnknownToolError
from runtime.semantic_search import searcher_for

__all__ = [
    "Tool",
    "ToolContext",
    "ToolRegistry",
    "default_tools",
]


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


@dataclass(frozen=True, slots=True)
class ToolContext:
    """What a running tool may use.

    Attributes:
        memory: the memory backend of the conversation.
        session_id: the session the call belongs to.
        clock: the current time (tests freeze it).
    """

    memory: MemoryBackend
    session_id: str
    clock: Clock = field(default=utc_now)


ToolFunction = Callable[[dict[str, Any], ToolContext], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Tool:
    """One callable tool.

    Attributes:
        name: the name the model calls it by.
        description: what it does, for the model.
        parameters: the JSON schema of its arguments (an ``object`` schema).
        run: ``await run(arguments, context)`` returns a JSON-ready result or raises.
    """

    name: str
    description: str
    parameters: Mapping[str, Any]
    run: ToolFunction

    def spec(self) -> dict[str, Any]:
        """The tool in OpenAI Chat Completions ``tools`` format."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": dict(self.parameters),
            },
        }


def check_arguments(tool: Tool, arguments: Mapping[str, Any]) -> None:
    """Check arguments against the tool's (flat) schema: required keys and value types.

    Raises:
        ToolArgumentsError: a required argument is missing, one is unknown, or has the
            wrong JSON type.
    """
    properties: Mapping[str, Any] = tool.parameters.get("properties", {})
    for name in tool.parameters.get("required", ()):
        if name not in arguments:
            raise ToolArgumentsError(f"{tool.name}: missing argument {name!r}")
    for name, value in arguments.items():
        if name not in properties:
            raise ToolArgumentsError(f"{tool.name}: unknown argument {name!r}")
        expected = _JSON_TYPES.get(str(properties[name].get("type", "")))
        wrong_bool = isinstance(value, bool) and bool not in (expected or ())
        if expected is not None and (not isinstance(value, expected) or wrong_bool):
            raise ToolArgumentsError(
                f"{tool.name}: argument {name!r} must be a {properties[name]['type']}, "
                f"not {type(value).__name__}"
            )


class ToolRegistry:
    """Tools by name, in the order they were added.

    Args:
        tools: the tools; names must be unique.

    Raises:
        ValueError: two tools share a name.
    """

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            self.add(tool)

    def add(self, tool: Tool) -> None:
        """Register a tool.

        Raises:
            ValueError: a tool of that name is already registered.
        """
        if tool.name in self._tools:
            raise ValueError(f"a tool named {tool.name!r} is already registered")
        self._tools[tool.name] = tool

    def only(self, *names: str) -> ToolRegistry:
        """A registry with just the named tools (in this registry's order).

        Raises:
            UnknownToolError: a name is not registered.
        """
        missing = [name for name in names if name not in self._tools]
        if missing:
            raise UnknownToolError(f"no tool named {missing[0]!r}")
        return ToolRegistry(tool for name, tool in self._tools.items() if name in names)

    def get(self, name: str) -> Tool:
        """The tool of that name.

        Raises:
            UnknownToolError: no tool has that name.
        """
        tool = self._tools.get(name)
        if tool is None:
            raise UnknownToolError(f"no tool named {name!r}")
        return tool

    def names(self) -> list[str]:
        """The registered names, in order."""
        return list(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)

    def specs(self) -> list[dict[str, Any]]:
        """Every tool in OpenAI ``tools`` format."""
        return [tool.spec() for tool in self._tools.values()]

    async def call(self, name: str, arguments: Mapping[str, Any], context: ToolContext) -> Any:
        """Run one tool.

        Raises:
            UnknownToolError: no tool has that name.
            ToolArgumentsError: the arguments do not match its schema.
            ToolError: the tool failed (its own exceptions are wrapped, with ``from``).
        """
        tool = self._tools.get(name)
        if tool is None:
            known = ", ".join(self._tools) or "none"
            raise UnknownToolError(f"no tool named {name!r} (known: {known})")
        check_arguments(tool, arguments)
        try:
            return await tool.run(dict(arguments), context)
        except ToolError:
            raise
        except Exception as exc:
            raise ToolError(f"{name} failed: {type(exc).__name__}: {exc}") from exc


# -- the built-in tools ----------------------------------------------------------------


async def _current_time(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    now = context.clock().astimezone(UTC)
    zone_name = arguments.get("timezone") or "UTC"
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ToolArgumentsError(
            f"current_time: unknown time zone {zone_name!r}",
            hint="Use an IANA name such as 'Europe/Paris'.",
        ) from exc
    local = now.astimezone(zone)
    return {
        "utc": now.isoformat().replace("+00:00", "Z"),
        "local": local.isoformat(),
        "timezone": zone_name,
        "weekday": local.strftime("%A"),
    }


async def _calculator(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    del context
    expression = arguments["expression"]
    return {"expression": expression, "value": evaluate(expression)}


async def _search_sessions(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    """Ranked search: the same index and ranking as ``turnkeep search`` (hybrid when the
    app has semantic search on and its index is ready; see runtime.semantic_search)."""
    query = str(arguments["query"]).strip()
    limit = max(1, min(int(arguments.get("limit") or 5), 20))
    if not query:
        raise ToolArgumentsError("search_sessions: the query is empty")
    searcher = searcher_for(context.memory)
    mode, note = "text", None
    if searcher is not None:
        outcome = await searcher.search(query, limit=2 * limit)
        hits, mode, note = outcome.hits, outcome.mode, outcome.note
    else:
        hits = await context.memory.search(query, limit=2 * limit)
    sessions = [
        {"session_id": h.session_id, "title": h.title, "updated_at": h.at, "score": h.score}
        for h in hits
        if h.kind == "title"
    ][:limit]
    events = [
        {
            "session_id": h.session_id,
            "seq": h.seq,
            "kind": h.kind,
            "title": h.title,
            "created_at": h.at,
            "snippet": h.marked(),
        }
        for h in hits
        if h.kind != "title"
    ][:limit]
    result: dict[str, Any] = {"query": query, "sessions": sessions, "events": events}
    if searcher is not None:
        result["mode"] = mode
        if note:
            result["note"] = note
    return result


def default_tools() -> ToolRegistry:
    """The registry turnkeep offers models: current_time, calculator, search_sessions."""
    return ToolRegistry(
        [
            Tool(
                name="current_time",
                description="Get the current date and time, in UTC and in a time zone.",
                parameters={
                    "type": "object",
                    "properties": {
                        "timezone": {
                            "type": "string",
                            "description": "IANA time zone, e.g. 'Europe/Paris' (default UTC)",
                        }
                    },
                },
                run=_current_time,
            ),
            Tool(
                name="calculator",
                description=(
                    "Evaluate an arithmetic expression: numbers, + - * / // % **, "
                    "parentheses, abs round min max sqrt, pi and e."
                ),
                parameters={
                    "type": "object",
                    "properties": {
                        "expression": {"type": "string", "description": "e.g. '(2 + 3) * 7'"}
                    },
                    "required": ["expression"],
                },
                run=_calculator,
            ),
            Tool(
                name="search_sessions",
                description=(
                    "Search past conversations (titles, messages, tool calls and results), "
                    "best matches first."
                ),
                parameters={
                    "type": "object",
                    "properties": {
                        "query": {"type": "string", "description": "text to look for"},
                        "limit": {"type": "integer", "description": "at most this many (5)"},
                    },
                    "required": ["query"],
                },
                run=_search_sessions,
            ),
        ]
    )
