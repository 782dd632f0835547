"""Tool calls for a very small model: two short grammar-constrained choices, parsed strictly.

A 135M model (the default SmolLM2) rarely starts an answer with a tool call, however its
template lists the tools, and when made to call (``required``) it calls on every message.
Measured on ``bench/tool_prompts.py``, what works is to ask it two narrow questions, each
with examples and each answered under a llama.cpp grammar, so the answer can only be
well-formed:

1. **Route.** Which tool does the last user message need: one of the offered tools this
   module knows, or ``none``. The grammar allows exactly those names.
2. **Arguments.** For ``calculator``, the arithmetic expression (the grammar allows only
   numbers, operators, parentheses and ``sqrt``); for ``search_sessions``, the words to
   look for (one line of plain text).

Both prompts are fixed text (the examples below), so llama.cpp reuses their evaluated
prefix from one question to the next. The answers are parsed strictly: anything but an
offered tool name is ``none``, and arguments are built as a JSON object from the
constrained text, so a call is always well-formed. Whether the model chose the right tool
and the right arguments is what ``bench/tool_calls.py`` measures.

Nothing here runs the model: :class:`~runtime.providers.local.LocalProvider` sends the
requests built here and hands the answers back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "ROUTED_TOOLS",
    "ArgumentQuestion",
    "arguments_request",
    "build_arguments",
    "offered_routable",
    "parse_route",
    "route_request",
    "tool_result_messages",
]

NONE: Final = "none"

#: What each routable tool is for, in the route question's instruction.
ROUTE_PURPOSES: Final = {
    "calculator": "calculator for arithmetic on numbers",
    "search_sessions": "search_sessions to search past conversations",
}

#: Route examples: (message, tool). None of them is in the benchmark's prompt set.
ROUTE_EXAMPLES: Final = (
    ("What is 3 * 4?", "calculator"),
    ("Hi! How are you today?", NONE),
    ("Search my past sessions for holidays.", "search_sessions"),
    ("Write a limerick about a frog.", NONE),
    ("Calculate 250 / 5 + 7.", "calculator"),
    ("What is the capital of Spain?", NONE),
    ("Find the conversation where we talked about my car.", "search_sessions"),
    ("Give me a tip for learning to cook.", NONE),
    ("How much is 45 * 12?", "calculator"),
    ("Did we talk about taxes before? Look in my old chats.", "search_sessions"),
    ("Who painted the Mona Lisa?", NONE),
    ("What is 2 to the power of 8?", "calculator"),
    ("Tell me about elephants.", NONE),
    ("What is 5000 + 2500?", "calculator"),
    ("Translate 'cat' into German.", NONE),
    ("Search my chats for the word 'recipe'.", "search_sessions"),
    ("What is the main language of Egypt?", NONE),
    ("Compute 60 * 60 * 24.", "calculator"),
    ("How do I tie a tie?", NONE),
    ("Suggest a gift for my sister.", NONE),
    ("Look in my earlier sessions for the book list.", "search_sessions"),
    ("Which session mentioned the printer? Find it.", "search_sessions"),
    ("Search my history for notes about hiking.", "search_sessions"),
)


@dataclass(frozen=True, slots=True)
class ArgumentQuestion:
    """How one tool's arguments are asked for.

    Attributes:
        argument: the one argument the answer fills.
        system: the instruction.
        examples: (message, answer) pairs.
        grammar: the GBNF grammar the answer must match.
    """

    argument: str
    system: str
    examples: tuple[tuple[str, str], ...]
    grammar: str


ROUTED_TOOLS: Final[Mapping[str, ArgumentQuestion]] = {
    "calculator": ArgumentQuestion(
        argument="expression",
        system="Write the arithmetic expression to calculate.",
        examples=(
            ("What is 3 * 4?", "3 * 4"),
            ("Calculate 250 / 5 + 7.", "250 / 5 + 7"),
            ("How much is 45 times 12?", "45 * 12"),
            ("What is 20% of 150?", "20 / 100 * 150"),
            ("What is the square root of 81?", "sqrt(81)"),
            ("Compute (3 + 4) * 2.", "(3 + 4) * 2"),
            ("What is 6 * 7?", "6 * 7"),
            ("What is 2 to the power of 8?", "2 ** 8"),
            ("What is 100 divided by 8?", "100 / 8"),
            ("Calculate (10 - 4) / 3.", "(10 - 4) / 3"),
            ("What's 5000 minus 1250?", "5000 - 1250"),
            ("What is 11 * 11?", "11 * 11"),
        ),
        grammar='root ::= item{1,80}\nitem ::= [0-9 .+*/%()-] | "sqrt"',
    ),
    "search_sessions": ArgumentQuestion(
        argument="query",
        system="Write the search query: the words to look for in past conversations.",
        examples=(
            ("Search my past sessions for holidays.", "holidays"),
            ("Find the conversation where we talked about my car.", "car"),
            ("Did we talk about taxes before? Look in my old chats.", "taxes"),
            ("Search my chats for the word 'recipe'.", "recipe"),
            ("Look in my earlier sessions for the book list.", "book list"),
            ("Which session mentioned the printer? Find it.", "printer"),
            ("Search my history for notes about hiking.", "hiking"),
        ),
        grammar="root ::= [a-zA-Z0-9 '.-]{1,60}",
    ),
}

_TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _name(spec: Mapping[str, Any]) -> str:
    function = spec.get("function")
    return str(function.get("name", "")) if isinstance(function, Mapping) else ""


def offered_routable(tools: Iterable[Mapping[str, Any]]) -> list[str]:
    """The offered tools this module can route to, in :data:`ROUTED_TOOLS` order."""
    offered = {_name(spec) for spec in tools}
    return [name for name in ROUTED_TOOLS if name in offered]


def _examples(system: str, pairs: Sequence[tuple[str, str]], message: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for question, answer in pairs:
        messages.append({"role": "user", "content": question})
        messages.append({"role": "assistant", "content": answer})
    messages.append({"role": "user", "content": message})
    return messages


def _choice_grammar(names: Sequence[str]) -> str:
    for name in names:
        if not _TOOL_NAME.fullmatch(name):
            raise ValueError(f"tool name {name!r} cannot be routed")
    return "root ::= " + " | ".join(f'"{name}"' for name in names)


def route_request(message: str, tools: Sequence[str], *, with_none: bool = True) -> dict[str, Any]:
    """The Chat Completions body asking which of ``tools`` (or ``none``) ``message`` needs."""
    names = [*tools, NONE] if with_none else list(tools)
    pairs = [(q, t) for q, t in ROUTE_EXAMPLES if t == NONE or t in tools]
    purposes = ", ".join(ROUTE_PURPOSES[name] for name in tools)
    system = f"Pick the tool for each message: {purposes}, none for anything else."
    return {
        "messages": _examples(system, pairs, message),
        "grammar": _choice_grammar(names),
        "max_tokens": 8,
        "temperature": 0,
    }


def parse_route(answer: str, tools: Sequence[str]) -> str | None:
    """The routed tool's name, or ``None`` when the answer is ``none`` (or anything else)."""
    chosen = answer.strip()
    return chosen if chosen in tools else None


def arguments_request(tool: str, message: str) -> dict[str, Any]:
    """The Chat Completions body asking for ``tool``'s argument for ``message``."""
    question = ROUTED_TOOLS[tool]
    return {
        "messages": _examples(question.system, question.examples, message),
        "grammar": question.grammar,
        "max_tokens": 48,
        "temperature": 0,
    }


def build_arguments(tool: str, answer: str) -> str:
    """The call's arguments as a JSON object text, from the constrained answer."""
    question = ROUTED_TOOLS[tool]
    return json.dumps({question.argument: " ".join(answer.split())})


def last_user_message(messages: Sequence[Mapping[str, Any]]) -> str | None:
    """The text of the last message when it is the user's (a new question), else ``None``."""
    if not messages or messages[-1].get("role") != "user":
        return None
    content = messages[-1].get("content")
    return content if isinstance(content, str) and content.strip() else None


def tool_result_messages(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Messages for the answer after routed calls, in a shape a tiny model can use.

    The trailing tool calls and results become one user message that repeats the
    question with the results, so the model answers from them instead of guessing.
    """
    out = [dict(m) for m in messages]
    results: list[str] = []
    while out and out[-1].get("role") == "tool":
        tool = out.pop()
        results.insert(0, f"{tool.get('name') or 'tool'} result: {tool.get('content') or ''}")
    if results and out and out[-1].get("role") == "assistant" and out[-1].get("tool_calls"):
        call = out.pop()
        if call.get("content"):
            out.append({"role": "assistant", "content": call["content"]})
    question = ""
    if out and out[-1].get("role") == "user":
        question = str(out.pop().get("content") or "")
    text = "\n".join(results)
    out.append(
        {
            "role": "user",
            "content": f"{question}\n\n{text}\n\nAnswer the question using this result.".strip(),
        }
    )
    return out
