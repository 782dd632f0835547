"""Any OpenAI-compatible ``/v1/embeddings`` endpoint (OpenAI, Ollama, llama.cpp, vLLM).

One POST per batch: ``{"model": M, "input": [texts]}`` and the answer's
``data[i].embedding``, put back in ``index`` order and normalised to unit length.
Failures become typed errors naming the redacted URL, never the key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from memory.drivers.remote_url import carries_credentials, is_loopback, redact_url
from runtime.embeddings.base import TEXT_RECIPE
from runtime.embeddings.errors import (
    EmbeddingsConnectionError,
    EmbeddingsResponseError,
    EmbeddingsSetupError,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["RemoteEmbedder", "embeddings_endpoint"]

#: Texts per request.
BATCH: Final = 32
_PROBE: Final = "dimension probe"


def embeddings_endpoint(url: str) -> tuple[str, str]:
    """``(request URL, redacted URL)`` for a configured base URL.

    ``http://host:8080/v1`` becomes ``http://host:8080/v1/embeddings``; a URL ending in
    ``/embeddings`` is used as it is.

    Raises:
        EmbeddingsSetupError: not an http(s) URL, or one carrying credentials
            (``user:password@``, as the database URL refuses them): they are never sent.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EmbeddingsSetupError(
            f"TURNKEEP_SEARCH__EMBEDDINGS_URL must be an http(s) URL such as "
            f"http://127.0.0.1:8080/v1, got a {parts.scheme or 'schemeless'} URL"
        )
    path = parts.path.rstrip("/")
    if carries_credentials(parts):
        raise EmbeddingsSetupError(
            f"TURNKEEP_SEARCH__EMBEDDINGS_URL {redact_url(url.strip())} carries credentials; "
            "turnkeep does not send them",
            hint=(
                "Remove user:password@ from the URL and put the key in "
                "TURNKEEP_SEARCH__EMBEDDINGS_API_KEY (sent as a bearer token, over https:// "
                "or to a server on this machine)."
            ),
        )
    if not path.endswith("/embeddings"):
        path += "/embeddings"
    full = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return full, urlunsplit((parts.scheme, host, path, "", ""))


class RemoteEmbedder:
    """An OpenAI-compatible embeddings server.

    Args:
        url: base URL (see :func:`embeddings_endpoint`).
        model: the model name the server knows.
        api_key: bearer key, or ``None``.
        timeout: seconds per request.
    """

    def __init__(self, url: str, model: str, api_key: str | None, timeout: float = 30.0) -> None:
        self._url, self.source = embeddings_endpoint(url)
        host = urlsplit(self._url).hostname or ""
        if api_key and self._url.startswith("http://") and not is_loopback(host):
            raise EmbeddingsSetupError(
                f"refusing to send the API key to {self.source} over plain http://: it would "
                "travel in clear text; use https://, or http:// only for a server on this "
                "machine (localhost, 127.0.0.1, ::1)",
                hint=(
                    "Use an https:// TURNKEEP_SEARCH__EMBEDDINGS_URL, or unset "
                    "TURNKEEP_SEARCH__EMBEDDINGS_API_KEY for a server that needs no key."
                ),
            )
        self.model = model
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._dimension: int | None = None

    async def dimension(self) -> int:
        """Asked once: the length of the vector of a probe text."""
        if self._dimension is None:
            self._dimension = int((await self._request([_PROBE])).shape[1])
        return self._dimension

    async def fingerprint(self) -> str:
        """``openai|URL|MODEL|DIM|recipe`` (the URL without credentials)."""
        return f"openai|{self.source}|{self.model}|{await self.dimension()}|{TEXT_RECIPE}"

    async def embed(self, texts: Sequence[str], *, query: bool = False) -> npt.NDArray[np.float32]:
        """Unit vectors, :data:`BATCH` texts per request."""
        import numpy as np

        del query
        parts = [await self._request(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
        if not parts:
            return np.empty((0, await self.dimension()), dtype=np.float32)
        out = np.concatenate(parts)
        if self._dimension is None:
            self._dimension = int(out.shape[1])
        elif out.shape[1] != self._dimension:
            raise EmbeddingsResponseError(
                f"{self.source} changed dimension from {self._dimension} to {out.shape[1]}"
            )
        return out

    async def _request(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        import numpy as np

        if self._session is None:
            self._session = aiohttp.ClientSession()
        body = json.dumps({"model": self.model, "input": list(texts)})
        try:
            async with self._session.post(
                self._url,
                data=body,
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            ) as response:
                raw = await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            kind = "did not answer in time" if isinstance(exc, TimeoutError) else exc
            raise EmbeddingsConnectionError(
                f"cannot reach the embeddings server {self.source}: {kind}"
            ) from None
        if status != 200:
            detail = raw[:200].decode("utf-8", "replace").replace("\n", " ")
            raise EmbeddingsResponseError(
                f"the embeddings server {self.source} answered HTTP {status}: {detail}"
            )
        try:
            doc: Any = json.loads(raw)
            items = sorted(doc["data"], key=lambda item: int(item.get("index", 0)))
            matrix = np.array([item["embedding"] for item in items], dtype=np.float32)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise EmbeddingsResponseError(
                f"the embeddings server {self.source} did not answer with OpenAI embeddings JSON"
            ) from None
        if matrix.ndim != 2 or len(matrix) != len(texts) or matrix.shape[1] == 0:
            raise EmbeddingsResponseError(
                f"the embeddings server {self.source} returned {len(matrix)} vectors "
                f"for {len(texts)} texts"
            )
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        result: npt.NDArray[np.float32] = (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
        return result

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None
