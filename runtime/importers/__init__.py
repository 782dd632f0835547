"""Importing other tools' histories: Claude Code, Codex, ChatGPT exports, llm's logs.db.

Each source has a reader (:mod:`~runtime.importers.claude_code`,
:mod:`~runtime.importers.codex`, :mod:`~runtime.importers.chatgpt`,
:mod:`~runtime.importers.llm_logs`) that maps the source's records to turnkeep events
(:mod:`~runtime.importers.base`); :func:`~runtime.importers.run.run_import` writes what
is new. Nothing here does I/O at import time, and the sources are only ever read.
:func:`run_import` is imported on first use: the import's parsing process
(:mod:`~runtime.importers.parse_child`) needs the readers, not the writing side.
"""

from typing import Any

from runtime.importers.base import TOOLS, SourceFormatError
from runtime.importers.units import ImportReport

__all__ = ["TOOLS", "ImportReport", "SourceFormatError", "run_import"]


def __getattr__(name: str) -> Any:
    if name == "run_import":
        from runtime.importers.run import run_import

        return run_import
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
