"""Importing other tools' histories: Claude Code, Codex, ChatGPT exports, llm's logs.db.

Each source has a reader (:mod:`~runtime.importers.claude_code`,
:mod:`~runtime.importers.codex`, :mod:`~runtime.importers.chatgpt`,
:mod:`~runtime.importers.llm_logs`) that maps the source's records to turnkeep events
(:mod:`~runtime.importers.base`); :func:`~runtime.importers.run.run_import` writes what
is new. Nothing here does I/O at import time, and the sources are only ever read.
"""

from runtime.importers.base import TOOLS, SourceFormatError
from runtime.importers.run import ImportReport, run_import

__all__ = ["TOOLS", "ImportReport", "SourceFormatError", "run_import"]
