"""The ``openai`` provider against a real OpenAI-compatible server on loopback.

The server is llama.cpp's own HTTP server from the prebuilt ``xllamacpp`` wheel, serving
SmolLM2 with a ChatML tool template and an API key (see ``tests/support/llama_server.py``);
it is started once per test session.
"""

from __future__ import annotations

import json
import os
import signal
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from memory import MemoryBackend
from runtime import (
    Conversation,
    PersistenceWorker,
    ProviderAuthError,
    ProviderConnectionError,
    ProviderResponseError,
    TextDelta,
    ToolFinished,
    ToolStarted,
    TurnFailed,
    TurnFinished,
)
from runtime.errors import ContextOverflowError, ModelNotFoundError, ProviderConfigError
from runtime.providers.base import ChatRequest, StreamEnd, TextChunk, ToolCallChunk
from runtime.providers.openai import OpenAIProvider
from runtime.tools import default_tools
from tests.runtime.conftest import make_settings
from tests.runtime.history import assert_well_formed, collect, kinds
from tests.support.llama_server import LlamaServer, free_port, start_llama_server


def server_settings(server: LlamaServer, **agent: Any) -> Any:
    base: dict[str, Any] = {
        "provider": "openai",
        "base_url": server.base_url,
        "api_key": server.api_key,
        "model": server.model,
        "max_tokens": 16,
        "temperature": 0,
    }
    return make_settings(**{**base, **agent})


async def test_streams_text_and_persists_the_turn(
    embedded: MemoryBackend, worker: PersistenceWorker, llama_server: LlamaServer
) -> None:
    settings = server_settings(llama_server, tools=False)
    conversation = await Conversation.open(embedded, worker, settings)
    try:
        assert (conversation.provider_name, conversation.model_name) == ("openai", "smollm2")
        progress = await collect(conversation.send("What is the capital of France?"))
    finally:
        await conversation.close()
    final = progress[-1]
    assert isinstance(final, TurnFinished), final
    deltas = [p.text for p in progress if isinstance(p, TextDelta)]
    assert len(deltas) >= 2  # server-sent events, several chunks
    assert final.text == "".join(deltas) and final.text.strip()
    assert await worker.flush(timeout=30)
    events = await embedded.recall(conversation.session_id)
    assert_well_formed(events)
    assert kinds(events) == ["user", "assistant"]
    reply = events[1].payload
    assert (reply["provider"], reply["model"], reply["content"]) == (
        "openai",
        "smollm2",
        final.text,
    )
    assert reply["finish_reason"] in ("stop", "length")


async def test_a_forced_tool_call_round_trips_through_the_wire_format(
    embedded: MemoryBackend, worker: PersistenceWorker, llama_server: LlamaServer
) -> None:
    # "required" with the calculator as the only tool: llama.cpp's server ignores a
    # tool_choice that names a function (llama-cpp-python's honoured it), and its
    # tool-call JSON takes more tokens than the 24 llama-cpp-python needed.
    settings = server_settings(llama_server, tool_choice="required", max_tokens=48)
    calculator_only = default_tools().only("calculator")  # a shorter prompt for the tiny model
    conversation = await Conversation.open(embedded, worker, settings, tools=calculator_only)
    try:
        progress = await collect(conversation.send("Use the calculator to add 2 and 3."))
    finally:
        await conversation.close()
    started = [p for p in progress if isinstance(p, ToolStarted)]
    finished = [p for p in progress if isinstance(p, ToolFinished)]
    assert [p.name for p in started] == ["calculator"]
    assert isinstance(started[0].arguments.get("expression"), str)  # grammar-constrained JSON
    assert started[0].call_id
    assert finished[0].call_id == started[0].call_id
    # Whatever the tiny model wrote, the call ran: a value or a typed calculator error.
    assert (finished[0].result is None) != (finished[0].error is None)
    assert isinstance(progress[-1], TurnFinished)

    assert await worker.flush(timeout=30)
    events = await embedded.recall(conversation.session_id)
    assert_well_formed(events)
    assert kinds(events) == ["user", "tool_call", "tool_result", "assistant"]
    call, result = events[1].payload, events[2].payload
    assert call["name"] == "calculator"
    assert call["call_id"] == result["call_id"] == started[0].call_id
    assert call["arguments"] == started[0].arguments


async def test_raw_stream_yields_text_then_end(llama_server: LlamaServer) -> None:
    provider = OpenAIProvider(
        model=llama_server.model,
        base_url=llama_server.base_url,
        api_key=SecretStr(llama_server.api_key),
    )
    try:
        chunks = [
            chunk
            async for chunk in provider.stream(
                ChatRequest(messages=[{"role": "user", "content": "Say hi"}], max_tokens=8)
            )
        ]
    finally:
        await provider.close()
    assert isinstance(chunks[-1], StreamEnd)
    assert all(isinstance(c, TextChunk) for c in chunks[:-1])
    assert not any(isinstance(c, ToolCallChunk) for c in chunks)


async def test_consecutive_calls_survive_the_servers_closed_keep_alive(
    llama_server: LlamaServer,
) -> None:
    # llama.cpp's server announces keep-alive after a streamed answer, then closes the
    # connection: the provider must not fail every second call (a tool round-trip).
    provider = OpenAIProvider(
        model=llama_server.model,
        base_url=llama_server.base_url,
        api_key=SecretStr(llama_server.api_key),
    )
    request = ChatRequest(messages=[{"role": "user", "content": "Say hi"}], max_tokens=4)
    try:
        for _ in range(3):
            chunks = [chunk async for chunk in provider.stream(request)]
            assert isinstance(chunks[-1], StreamEnd)
    finally:
        await provider.close()


async def test_a_wrong_api_key_is_refused_with_a_typed_error_event(
    embedded: MemoryBackend, worker: PersistenceWorker, llama_server: LlamaServer
) -> None:
    secret = "tk-wrong-key-SECRET-42"
    settings = server_settings(llama_server, api_key=secret)
    conversation = await Conversation.open(embedded, worker, settings)
    try:
        progress = await collect(conversation.send("hi"))
    finally:
        await conversation.close()
    failed = progress[-1]
    assert isinstance(failed, TurnFailed)
    assert isinstance(failed.error, ProviderAuthError)
    assert "HTTP 401" in failed.error.message
    assert "OPENAI_API_KEY" in failed.error.hint
    assert await worker.flush(timeout=30)
    events = await embedded.recall(conversation.session_id)
    assert kinds(events) == ["user", "error"]
    assert secret not in events[1].payload_json
    assert secret not in str(failed.error)


async def test_a_prompt_beyond_the_servers_context_is_a_typed_error_event(
    embedded: MemoryBackend, worker: PersistenceWorker, llama_server: LlamaServer
) -> None:
    # Claiming a larger window than the server's 2048 lets the prompt through to the
    # server, which refuses it (HTTP 400, exceed_context_size_error).
    settings = server_settings(llama_server, context_window=100_000)
    conversation = await Conversation.open(embedded, worker, settings)
    try:
        progress = await collect(conversation.send("lorem ipsum " * 2000))
    finally:
        await conversation.close()
    failed = progress[-1]
    assert isinstance(failed, TurnFailed)
    assert isinstance(failed.error, ContextOverflowError)
    assert failed.error.title == "Message too long for the model"
    assert await worker.flush(timeout=30)
    assert kinds(await embedded.recall(conversation.session_id)) == ["user", "error"]


async def test_a_stream_the_server_abandons_is_a_typed_error_event(
    embedded: MemoryBackend,
    worker: PersistenceWorker,
    smollm2_path: Path,
    tmp_path: Path,
) -> None:
    # A server of its own, killed while it streams the answer.
    server = start_llama_server(smollm2_path, log_dir=tmp_path)
    try:
        settings = server_settings(server, tools=False, max_tokens=400)
        conversation = await Conversation.open(embedded, worker, settings)
        progress = []
        try:
            async for item in conversation.send("Count from 1 to 500, one number per line."):
                progress.append(item)
                if sum(isinstance(p, TextDelta) for p in progress) == 2:
                    os.killpg(server.process.pid, signal.SIGKILL)
        finally:
            await conversation.close()
    finally:
        server.stop()
    failed = progress[-1]
    assert isinstance(failed, TurnFailed)
    assert isinstance(failed.error, ProviderConnectionError)
    assert "lost the connection" in failed.error.message
    assert await worker.flush(timeout=30)
    events = await embedded.recall(conversation.session_id)
    assert kinds(events)[0] == "user" and kinds(events)[-1] == "error"


def test_the_servers_own_error_answers_map_to_typed_errors(llama_server: LlamaServer) -> None:
    """Real error bodies of the server (non-streamed requests) through the translation."""

    def post(body: dict[str, Any], key: str) -> tuple[int, str]:
        request = urllib.request.Request(
            f"{llama_server.base_url}/chat/completions",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    provider = OpenAIProvider(model="smollm2", base_url=llama_server.base_url)
    too_long = {"messages": [{"role": "user", "content": "lorem ipsum " * 2000}], "max_tokens": 4}
    status, body = post(too_long, llama_server.api_key)
    overflow = provider._http_error(status, body)
    assert isinstance(overflow, ContextOverflowError)
    assert "available context size (2048 tokens)" in overflow.message
    status, body = post(too_long, "wrong")
    assert isinstance(provider._http_error(status, body), ProviderAuthError)


async def test_a_server_that_is_down_is_a_connection_error_event(
    embedded: MemoryBackend, worker: PersistenceWorker
) -> None:
    settings = make_settings(
        provider="openai", base_url=f"http://127.0.0.1:{free_port()}/v1", model="m"
    )
    conversation = await Conversation.open(embedded, worker, settings)
    try:
        progress = await collect(conversation.send("hi"))
    finally:
        await conversation.close()
    failed = progress[-1]
    assert isinstance(failed, TurnFailed)
    assert isinstance(failed.error, ProviderConnectionError)
    assert "cannot connect to http://127.0.0.1:" in failed.error.message
    assert await worker.flush(timeout=30)
    events = await embedded.recall(conversation.session_id)
    assert kinds(events) == ["user", "error"]
    assert events[1].payload["title"] == "Cannot reach the model server"
    assert "OPENAI_BASE_URL" in events[1].payload["hint"]


def test_configuration_problems_are_caught_before_any_request() -> None:
    # No model named: the server is asked for its only one on the first request.
    assert OpenAIProvider(model=None).model is None
    with pytest.raises(ProviderConfigError, match="not an http"):
        OpenAIProvider(model="m", base_url="ftp://example.com/v1")
    provider = OpenAIProvider(model="m", base_url="https://user:pw@example.com/v1?x=1")
    assert provider.where == "https://example.com/v1"


@pytest.mark.parametrize(
    ("status", "body", "kind", "text"),
    [
        # OpenAI's documented answer for an unknown model (the loopback server serves
        # whatever name it is given, so it cannot produce this one).
        (
            404,
            '{"error": {"message": "The model `gpt-9` does not exist", '
            '"type": "invalid_request_error", "code": "model_not_found"}}',
            ModelNotFoundError,
            "has no model 'm'",
        ),
        (429, '{"error": {"message": "Rate limit reached"}}', ProviderConnectionError, "rate"),
        (503, "upstream unavailable", ProviderConnectionError, "HTTP 503"),
        (400, '{"error": {"message": "bad field"}}', ProviderResponseError, "bad field"),
    ],
)
def test_other_http_answers_map_to_typed_errors(
    status: int, body: str, kind: type[Exception], text: str
) -> None:
    error = OpenAIProvider(model="m", base_url="http://127.0.0.1:1/v1")._http_error(status, body)
    assert type(error) is kind
    assert text in error.message
