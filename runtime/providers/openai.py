"""The ``openai`` provider: any OpenAI-compatible Chat Completions endpoint, streamed.

Works with OpenAI, Ollama, llama.cpp's and llama-cpp-python's servers, vLLM and LM
Studio: ``POST {base_url}/chat/completions`` with ``stream: true``, read as server-sent
events. Tool calls use the standard ``tools`` / ``tool_choice`` fields. aiohttp errors
and HTTP error answers are translated here, at this boundary, into
:class:`~runtime.errors.ProviderError` subclasses. The API key is sent only in the
``Authorization`` header and never appears in a message.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from pydantic import SecretStr

from memory.drivers.remote_url import is_loopback
from runtime.errors import (
    ContextOverflowError,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderConfigError,
    ProviderConnectionError,
    ProviderError,
    ProviderResponseError,
)
from runtime.providers.base import ChatRequest, ChunkAssembler, ProviderChunk, estimate_tokens

__all__ = ["DEFAULT_BASE_URL", "OpenAIProvider", "redact_base_url"]

DEFAULT_BASE_URL: Final = "https://api.openai.com/v1"
_MAX_ERROR_BODY: Final = 2000


def redact_base_url(url: str) -> str:
    """The URL without user info, query or fragment (safe for messages)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _error_message(body: str) -> tuple[str, str]:
    """``(message, code)`` from an OpenAI-style error body (or the raw text)."""
    try:
        data = json.loads(body)
    except ValueError:
        return " ".join(body.split())[:300], ""
    error = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(error, dict):
        message = str(error.get("message") or error.get("detail") or error)
        return " ".join(message.split())[:300], str(error.get("code") or "")
    return " ".join(str(error).split())[:300], ""


def _refuse_clear_text_key(url: str, api_key: SecretStr | None) -> None:
    """Refuse to send an API key in clear text over the network (loopback is fine).

    Raises:
        ProviderConfigError: ``url`` is ``http://`` to a non-loopback host and a key is set.
    """
    parts = urlsplit(url)
    if api_key is None or parts.scheme.lower() != "http" or is_loopback(parts.hostname or ""):
        return
    raise ProviderConfigError(
        f"refusing to send the API key to {redact_base_url(url)} over plain http://: it "
        "would travel in clear text",
        hint="Use an https:// base URL (TURNKEEP_AGENT__BASE_URL or OPENAI_BASE_URL); "
        "http:// is only for a server on this machine (localhost, 127.0.0.1, ::1).",
    )


class OpenAIProvider:
    """An OpenAI-compatible Chat Completions server.

    Args:
        model: the model name the server knows; ``None`` asks the server for its models
            on the first request and uses the only one (llama.cpp's server).
        base_url: the API root, e.g. ``http://127.0.0.1:8080/v1``.
        api_key: sent as a bearer token when given.
        context_window: tokens the model accepts (for fitting history).
        timeout: seconds to wait for the connection and between two stream chunks.

    Raises:
        ProviderConfigError: the base URL is not http(s), or an API key
            would be sent over plain ``http://`` to a host that is not this machine.
    """

    name = "openai"
    supports_tools = True

    def __init__(
        self,
        *,
        model: str | None,
        base_url: str | None = None,
        api_key: SecretStr | None = None,
        context_window: int = 8192,
        timeout: float = 120.0,
    ) -> None:
        url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise ProviderConfigError(
                f"the base URL {redact_base_url(url)!r} is not an http(s) URL",
                hint="Set TURNKEEP_AGENT__BASE_URL or OPENAI_BASE_URL, e.g. "
                "http://127.0.0.1:8080/v1.",
            )
        _refuse_clear_text_key(url, api_key)
        #: ``None`` until the server's only model is known (see :meth:`resolve_model`).
        self.model: str | None = model or None
        self.base_url = url
        self.where = redact_base_url(url)
        self.context_window = context_window
        self._api_key = api_key
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def resolve_model(self) -> str:
        """The model to ask: the named one, else the server's only one (asked once).

        Raises:
            ProviderConfigError: no model is named and the server serves none or several.
            ProviderConnectionError / ProviderAuthError: the server cannot be asked.
        """
        if self.model is None:
            from runtime.providers.openai_models import only_model

            self.model = only_model(await self.list_models(), self.where)
        return self.model

    async def list_models(self) -> list[str]:
        """The model ids the server serves (``GET {base_url}/models``), sorted.

        Raises:
            ProviderConnectionError / ProviderAuthError / ProviderResponseError.
        """
        from runtime.providers.openai_models import fetch_models

        return await fetch_models(
            self.base_url, self._api_key, where=self.where, seconds=min(self._timeout, 30.0)
        )

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key.get_secret_value()}"
        return headers

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": request.messages,
            "stream": True,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream_options": {"include_usage": True},
        }
        if request.tools:
            body["tools"] = request.tools
            body["tool_choice"] = request.tool_choice or "auto"
        return body

    def _redact(self, exc: ProviderError) -> None:
        """Take the API key out of ``exc``: some servers quote the key they refused, and
        the message is shown and stored in the turn's ``error`` event."""
        key = self._api_key.get_secret_value() if self._api_key is not None else ""
        if key and key in exc.message:
            exc.message = exc.message.replace(key, "[redacted]")
            exc.args = (exc.message,)

    def _http_error(self, status: int, body: str) -> ProviderError:
        message, code = _error_message(body)
        lowered = f"{message} {code}".lower()
        if status in (401, 403):
            return ProviderAuthError(f"{self.where} refused the API key (HTTP {status}): {message}")
        if code == "context_length_exceeded" or (
            "context" in lowered and any(w in lowered for w in ("exceed", "length", "too long"))
        ):
            return ContextOverflowError(f"{self.where}: {message}")
        if status == 404 or code == "model_not_found":
            return ModelNotFoundError(
                f"{self.where} has no model {self.model!r} (HTTP {status}): {message}",
                hint="Set TURNKEEP_AGENT__MODEL (or `turnkeep ask --model`) to a model the "
                "server serves, or check TURNKEEP_AGENT__BASE_URL (it usually ends in /v1).",
            )
        if status == 429:
            return ProviderConnectionError(
                f"{self.where} is rate limiting requests: {message}",
                hint="Wait a moment and try again, or check the account's quota.",
            )
        if status >= 500:
            return ProviderConnectionError(f"{self.where} failed (HTTP {status}): {message}")
        return ProviderResponseError(f"{self.where} refused the request (HTTP {status}): {message}")

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderChunk]:
        """See :meth:`runtime.providers.base.Provider.stream`."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        timeout = aiohttp.ClientTimeout(
            total=None, connect=min(self._timeout, 30.0), sock_read=self._timeout
        )
        assembler = ChunkAssembler()
        try:
            await self.resolve_model()
            async with await self._post(self._session, request, timeout) as response:
                if response.status >= 400:
                    raw = await response.content.read(_MAX_ERROR_BODY)
                    raise self._http_error(response.status, raw.decode("utf-8", "replace"))
                buffer = b""
                done = False
                async for block in response.content.iter_any():
                    buffer += block
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        data = _sse_data(line)
                        if data is None:
                            continue
                        if data == "[DONE]":
                            done = True
                            break
                        for text in assembler.feed(_decode_chunk(data)):
                            yield text
                    if done:
                        break
                if not done and (data := _sse_data(buffer)) is not None:
                    done = data == "[DONE]"
                    if not done:
                        for text in assembler.feed(_decode_chunk(data)):
                            yield text
                if not done and assembler.finish_reason is None:
                    # OpenAI-compatible servers end a stream with [DONE]; llama.cpp-style
                    # servers that fail after sending the headers just close it.
                    raise ProviderResponseError(
                        f"{self.where} closed the stream before the answer was complete",
                        hint="The server may have failed (context too long, out of memory); "
                        "check its log.",
                    )
        except ProviderError as exc:
            self._redact(exc)
            raise
        except TimeoutError as exc:
            raise ProviderConnectionError(
                f"{self.where} did not answer within {self._timeout:g} s",
                hint="Check the server, or raise TURNKEEP_AGENT__TIMEOUT if it is just slow.",
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            reason = getattr(exc.os_error, "strerror", None) or type(exc.os_error).__name__
            raise ProviderConnectionError(f"cannot connect to {self.where}: {reason}") from exc
        except aiohttp.ClientError as exc:
            raise ProviderConnectionError(
                f"lost the connection to {self.where}: {type(exc).__name__}"
            ) from exc
        for final in assembler.finish():
            yield final

    async def _post(
        self, session: aiohttp.ClientSession, request: ChatRequest, limits: aiohttp.ClientTimeout
    ) -> aiohttp.ClientResponse:
        """Send the request; once more on a fresh connection if the pooled one was dead.

        llama.cpp's server announces keep-alive after a streamed answer, then closes the
        connection: the next request on it fails before any answer (nothing ran).
        """
        for attempt in (1, 2):
            try:
                return await session.post(
                    f"{self.base_url}/chat/completions",
                    json=self._body(request),
                    headers=self._headers(),
                    timeout=limits,
                )
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def count_tokens(self, text: str) -> int:
        """A conservative estimate (no tokenizer for arbitrary servers)."""
        return estimate_tokens(text)

    async def close(self) -> None:
        """Close the HTTP session. Safe to call twice."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


def _sse_data(line: bytes) -> str | None:
    """The ``data:`` payload of one server-sent-events line, else ``None``."""
    text = line.decode("utf-8", "replace").strip()
    if not text.startswith("data:"):
        return None
    return text[5:].strip()


def _decode_chunk(data: str) -> dict[str, Any]:
    try:
        chunk = json.loads(data)
    except ValueError as exc:
        raise ProviderResponseError(
            f"the server sent a stream chunk that is not JSON: {exc}"
        ) from exc
    if not isinstance(chunk, dict):
        raise ProviderResponseError("the server sent a stream chunk that is not a JSON object")
    return chunk
