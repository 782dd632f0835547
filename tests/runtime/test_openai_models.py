"""The ``openai`` provider's model list and a single-model server without a model name
(issue 13), against llama.cpp's real server on loopback."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from memory import MemoryBackend
from runtime import Conversation, PersistenceWorker
from runtime.conversation import TurnFinished
from runtime.errors import (
    ProviderAuthError,
    ProviderConfigError,
    ProviderConnectionError,
    ProviderResponseError,
)
from runtime.providers.openai import OpenAIProvider
from runtime.providers.openai_models import only_model, parse_models
from runtime.sessions import Sessions
from tests.runtime.conftest import make_settings
from tests.support.llama_server import LlamaServer, free_port


async def test_the_server_lists_its_model(llama_server: LlamaServer) -> None:
    provider = OpenAIProvider(
        model=None, base_url=llama_server.base_url, api_key=SecretStr(llama_server.api_key)
    )
    try:
        assert await provider.list_models() == [llama_server.model]
        assert await provider.resolve_model() == llama_server.model
        assert provider.model == llama_server.model
    finally:
        await provider.close()


async def test_a_single_model_server_answers_without_a_model_name(
    embedded: MemoryBackend, worker: PersistenceWorker, llama_server: LlamaServer
) -> None:
    settings = make_settings(
        provider="openai",
        base_url=llama_server.base_url,
        api_key=llama_server.api_key,
        model=None,
        max_tokens=8,
        temperature=0,
        tools=False,
    )
    conversation = await Conversation.open(embedded, worker, settings)
    try:
        outcomes = [p async for p in conversation.send("Say hi.")]
    finally:
        await conversation.close()
    assert isinstance(outcomes[-1], TurnFinished), outcomes[-1]
    # The turn's last save point is queued when it finishes: read once it is written.
    assert await worker.flush(timeout=10)
    events = await embedded.recall(conversation.session_id)
    assistant = [e for e in events if e.kind == "assistant"]
    assert assistant and assistant[-1].payload.get("model") == llama_server.model


async def test_the_facade_lists_models_and_stores_the_choice(
    embedded: MemoryBackend, llama_server: LlamaServer
) -> None:
    settings = make_settings(
        provider="openai", base_url=llama_server.base_url, api_key=llama_server.api_key
    )
    sessions = Sessions(settings, embedded, owns_memory=False)
    assert await sessions.server_models() == [llama_server.model]
    await embedded.create_session("s", provider="local", model="SmolLM2")
    info = await sessions.choose_model("s", llama_server.model)
    assert (info.provider, info.model) == ("openai", llama_server.model)
    assert (await embedded.get_session("s")).model == llama_server.model
    # The pool builds the session's provider from what was stored.
    provider = sessions.provider_for(info)
    assert (provider.name, provider.model) == ("openai", llama_server.model)
    await sessions.close()


async def test_a_wrong_key_or_a_down_server_is_a_typed_error(llama_server: LlamaServer) -> None:
    wrong = OpenAIProvider(
        model=None, base_url=llama_server.base_url, api_key=SecretStr("not-the-key")
    )
    with pytest.raises(ProviderAuthError) as refused:
        await wrong.list_models()
    assert "not-the-key" not in str(refused.value)
    down = OpenAIProvider(model=None, base_url=f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(ProviderConnectionError, match="cannot connect"):
        await down.list_models()


def test_model_lists_and_the_choice_of_the_only_one() -> None:
    body = '{"object": "list", "data": [{"id": "b"}, {"id": "a"}, {"id": 3}, {"x": 1}]}'
    assert parse_models(body, "srv") == ["a", "b"]
    with pytest.raises(ProviderResponseError, match="without a 'data' list"):
        parse_models('{"models": []}', "srv")
    with pytest.raises(ProviderResponseError, match="not JSON"):
        parse_models("<html>", "srv")
    assert only_model(["m"], "srv") == "m"
    with pytest.raises(ProviderConfigError, match="serves no model"):
        only_model([], "srv")
    with pytest.raises(ProviderConfigError, match=r"serves 2 models \(a, b\); choose one") as many:
        only_model(["a", "b"], "srv")
    assert "F2" in many.value.hint
