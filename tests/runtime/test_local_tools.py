"""The default local model calls its tools, and its answers stop instead of looping.

The model tests run the real SmolLM2 GGUF through xllamacpp (the session's shared
``local_provider``, whose default chat format is the tool router) at temperature 0 with
a fixed seed, so they are deterministic. The router's pure parts are tested on their own.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from memory import MemoryBackend
from runtime import Conversation, PersistenceWorker, ToolFinished, ToolStarted, TurnFinished
from runtime.calculator import evaluate
from runtime.errors import ProviderConfigError, UnknownToolError
from runtime.providers.base import ChatRequest, StreamEnd, TextChunk, ToolCallChunk
from runtime.providers.local import TOOL_CHAT_FORMAT, LocalProvider
from runtime.providers.local_tools import (
    ROUTE_MAX_CHARS,
    ROUTER_CHAT_FORMAT,
    resolve_chat_format,
    route_tools,
)
from runtime.providers.tool_router import (
    build_arguments,
    offered_routable,
    parse_route,
    route_request,
    tool_result_messages,
)
from runtime.repetition import RepetitionGuard, repeats_three_times
from runtime.settings import AgentSettings
from runtime.tool_support import tool_support
from runtime.tools import ToolRegistry, default_tools
from tests.runtime.conftest import make_settings
from tests.runtime.history import assert_well_formed, collect, kinds

# -- on the real model -----------------------------------------------------------------


async def test_a_calculator_question_is_a_call_the_runtime_runs(
    embedded: MemoryBackend, worker: PersistenceWorker, local_provider: LocalProvider
) -> None:
    assert local_provider.chat_format == ROUTER_CHAT_FORMAT  # the default model's default
    settings = make_settings(provider="local", max_tokens=64, temperature=0)
    conversation = await Conversation.open(
        embedded, worker, settings, provider_instance=local_provider
    )
    progress = await collect(conversation.send("Use the calculator: what is 1234 * 5678?"))
    started = [p for p in progress if isinstance(p, ToolStarted)]
    finished = [p for p in progress if isinstance(p, ToolFinished)]
    assert [p.name for p in started] == ["calculator"]
    assert evaluate(started[0].arguments["expression"]) == 1234 * 5678
    assert finished[0].error is None
    assert finished[0].result["value"] == 7006652
    assert isinstance(progress[-1], TurnFinished)
    assert await worker.flush(timeout=30)
    events = await embedded.recall(conversation.session_id)
    assert_well_formed(events)
    assert kinds(events) == ["user", "tool_call", "tool_result", "assistant"]
    assert events[2].payload["result"]["value"] == 7006652
    # The answer is written from the result (the tool result is put where it reads it).
    assert "7006652" in events[3].payload["content"].replace(",", "")


async def test_a_search_request_calls_search_sessions_with_its_words(
    embedded: MemoryBackend, worker: PersistenceWorker, local_provider: LocalProvider
) -> None:
    settings = make_settings(provider="local", max_tokens=48, temperature=0)
    conversation = await Conversation.open(
        embedded, worker, settings, provider_instance=local_provider
    )
    progress = await collect(conversation.send("Search my past sessions for docker."))
    started = [p for p in progress if isinstance(p, ToolStarted)]
    assert [p.name for p in started] == ["search_sessions"]
    assert "docker" in started[0].arguments["query"].lower()
    finished = [p for p in progress if isinstance(p, ToolFinished)]
    assert finished[0].error is None and finished[0].result["query"]
    assert await worker.flush(timeout=30)
    events = await embedded.recall(conversation.session_id)
    assert_well_formed(events)
    assert kinds(events)[:3] == ["user", "tool_call", "tool_result"]


async def test_a_question_needing_no_tool_is_answered_in_text(
    local_provider: LocalProvider,
) -> None:
    request = ChatRequest(
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "What is the capital of France?"},
        ],
        tools=default_tools().specs(),
        tool_choice="auto",
        max_tokens=24,
        temperature=0,
    )
    chunks = [chunk async for chunk in local_provider.stream(request)]
    assert not [c for c in chunks if isinstance(c, ToolCallChunk)]
    text = "".join(c.text for c in chunks if isinstance(c, TextChunk))
    assert text.strip()  # whether it is right is bench/tool_calls.py's "answers" figure


LOOPING = "What is 12 times 12?"


async def test_an_answer_stops_instead_of_repeating(local_provider: LocalProvider) -> None:
    # The question that looped ("12 * 12 = 12 * 12 = ...") until the token limit; here
    # without tools, so the model itself answers.
    request = ChatRequest(
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": LOOPING},
        ],
        max_tokens=256,
        temperature=0,
    )
    chunks = [chunk async for chunk in local_provider.stream(request)]
    end = chunks[-1]
    assert isinstance(end, StreamEnd)
    text = "".join(c.text for c in chunks if isinstance(c, TextChunk))
    assert end.finish_reason == "stop"
    assert end.usage["completion_tokens"] < 256
    assert not repeats_three_times(text), text


async def test_a_forced_call_skips_the_route_question(local_provider: LocalProvider) -> None:
    request = ChatRequest(
        messages=[{"role": "user", "content": "Add 2 and 3 please."}],
        tools=default_tools().specs(),
        tool_choice={"type": "function", "function": {"name": "calculator"}},
        max_tokens=32,
        temperature=0,
    )
    chunks = [chunk async for chunk in local_provider.stream(request)]
    calls = [c for c in chunks if isinstance(c, ToolCallChunk)]
    assert [c.name for c in calls] == ["calculator"]
    assert calls[0].arguments_error is None
    assert isinstance(calls[0].arguments["expression"], str)


# -- the router's pure parts -----------------------------------------------------------


def test_the_default_model_gets_the_router_and_other_ggufs_their_template() -> None:
    assert resolve_chat_format(None, default_model=True) == ROUTER_CHAT_FORMAT
    assert resolve_chat_format(None, default_model=False) is None
    assert resolve_chat_format(TOOL_CHAT_FORMAT, default_model=True) == TOOL_CHAT_FORMAT


def test_only_offered_known_tools_are_routed() -> None:
    tools = default_tools()
    assert offered_routable(tools.specs()) == ["calculator", "search_sessions"]
    assert offered_routable(tools.only("current_time").specs()) == []
    body = route_request("hi", ["calculator"])
    assert body["grammar"] == 'root ::= "calculator" | "none"'
    assert "search_sessions" not in json.dumps(body["messages"])  # its examples are left out
    assert route_request("hi", ["calculator"], with_none=False)["grammar"] == (
        'root ::= "calculator"'
    )


def test_a_route_answer_is_parsed_strictly() -> None:
    assert parse_route(" calculator\n", ["calculator"]) == "calculator"
    assert parse_route("none", ["calculator"]) is None
    assert parse_route("search_sessions", ["calculator"]) is None  # not offered
    assert parse_route("calc", ["calculator"]) is None


def test_arguments_are_a_json_object_whatever_the_answer() -> None:
    assert json.loads(build_arguments("calculator", " 2 *\n 3 ")) == {"expression": "2 * 3"}
    assert json.loads(build_arguments("search_sessions", 'it\'s "x"')) == {"query": 'it\'s "x"'}


def test_tool_results_are_put_in_the_question_for_the_answer() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "calculator", "arguments": "{}"}}
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is 6 * 7?"},
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "name": "calculator", "content": '{"value": 42}'},
    ]
    out = tool_result_messages(messages)
    assert out[0] == messages[0]
    assert len(out) == 2 and out[1]["role"] == "user"
    assert out[1]["content"].startswith("What is 6 * 7?")
    assert 'calculator result: {"value": 42}' in out[1]["content"]


def test_triple_repeats_are_detected() -> None:
    assert repeats_three_times("12 * 12 = 12 * 12 = 12 * 12 = 12")
    assert repeats_three_times("a b a b a b")
    assert not repeats_three_times("12 * 12 = 144. So 12 times 12 is 144.")
    assert not repeats_three_times("one two, one three, one four")


def test_tool_support_says_which_tools_and_why_none(local_provider: LocalProvider) -> None:
    agent = AgentSettings(provider="local")
    support = tool_support(local_provider, agent, default_tools())
    assert support.names == ("calculator", "search_sessions")
    assert support.label == "tools: calculator, search_sessions"
    off = tool_support(local_provider, AgentSettings(tools=False), default_tools())
    assert not off.available and "TURNKEEP_AGENT__TOOLS=false" in off.reason
    none = tool_support(local_provider, AgentSettings(tool_choice="none"), default_tools())
    assert none.label == "no tools" and "TOOL_CHOICE=none" in none.reason
    assert not tool_support(local_provider, agent, ToolRegistry()).available


def test_another_gguf_on_its_own_template_gets_no_tools_and_says_how(
    smollm2_path: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other-model.gguf"
    other.symlink_to(smollm2_path)
    provider = LocalProvider(other)  # never loaded: nothing here runs it
    assert provider.chat_format is None and not provider.supports_tools
    support = tool_support(provider, AgentSettings(), default_tools())
    assert support.label == "no tools"
    assert "TURNKEEP_AGENT__CHAT_FORMAT=tool-router" in support.reason


def test_registry_get_names_the_missing_tool() -> None:
    assert default_tools().get("calculator").name == "calculator"
    with pytest.raises(UnknownToolError, match="'nope'"):
        default_tools().get("nope")


def test_the_router_is_a_known_chat_format(smollm2_path: Path) -> None:
    provider = LocalProvider(None, chat_format=ROUTER_CHAT_FORMAT)
    assert provider.supports_tools and provider.chat_format == ROUTER_CHAT_FORMAT
    with pytest.raises(ProviderConfigError) as caught:
        LocalProvider(None, chat_format="tool-routr")
    assert ROUTER_CHAT_FORMAT in caught.value.hint


class NeverCalledServerDouble:
    """A test double for xllamacpp's server that fails the test if it is asked anything."""

    def handle_chat_completions(self, body: object, callback: object = None) -> None:
        raise AssertionError(f"the model was asked: {body!r}")


def test_a_long_message_is_answered_in_text_without_routing() -> None:
    request = ChatRequest(
        messages=[{"role": "user", "content": "x " * (ROUTE_MAX_CHARS // 2 + 1)}],
        tools=default_tools().specs(),
        tool_choice="auto",
    )
    routed = route_tools(NeverCalledServerDouble(), request, threading.Event())
    assert isinstance(routed, ChatRequest)
    assert routed.tools == [] and routed.tool_choice is None
    assert routed.messages == request.messages


def test_after_a_tool_result_the_model_answers_without_tools() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "calculator", "arguments": "{}"}}
    request = ChatRequest(
        messages=[
            {"role": "user", "content": "What is 6 * 7?"},
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c1", "name": "calculator", "content": "42"},
        ],
        tools=default_tools().specs(),
        tool_choice="auto",
    )
    routed = route_tools(NeverCalledServerDouble(), request, threading.Event())
    assert isinstance(routed, ChatRequest) and routed.tools == []
    assert routed.messages[-1]["role"] == "user"
    assert "calculator result: 42" in routed.messages[-1]["content"]


def test_the_guard_fires_on_the_looping_answer_as_it_streams() -> None:
    guard = RepetitionGuard()
    streamed = ["12", " *", " 12", " =", " 12", " *", " 12", " =", " 12", " *", " 12", " ="]
    fired_at = [i for i, token in enumerate(streamed) if guard.feed(token)]
    assert fired_at and fired_at[0] == len(streamed) - 1  # at the third "12 * 12 ="
    calm = RepetitionGuard()
    assert not any(calm.feed(t) for t in ["12", " *", " 12", " =", " 144", ".", " Yes", "."])
