"""Test doubles for the import's parsing process: Claude Code readers that fail on purpose.

They are imported by the child process too (it unpickles the reader), so they live in a
module of their own. Nothing real makes a parser process crash, or a source fail after
its first unit, on demand; these do, at a chosen unit.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runtime.importers.base import Chunk, Existing, SourceFormatError
from runtime.importers.claude_code import ClaudeCodeReader
from runtime.importers.run import ImportReport, Unit


class _DyingUnit:
    """A unit whose parsing ends its process: ``os._exit(3)`` or SIGKILL."""

    def __init__(self, unit: Unit, how: str) -> None:
        self.session_id = unit.session_id
        self.how = how

    def chunks(self, existing: Existing | None, report: ImportReport) -> Iterator[Chunk]:
        if self.how == "exit":
            os._exit(3)
        os.kill(os.getpid(), signal.SIGKILL)
        yield from ()  # pragma: no cover (never reached)


class DyingReader(ClaudeCodeReader):
    """Claude Code transcripts whose second unit kills the process parsing it."""

    def __init__(self, path: Path, how: str) -> None:
        super().__init__(path)
        self.how = how

    def units(self, report: ImportReport) -> Iterator[Any]:
        for index, unit in enumerate(super().units(report)):
            yield _DyingUnit(unit, self.how) if index == 1 else unit


class FailingSourceReader(ClaudeCodeReader):
    """Claude Code transcripts whose source fails (a typed error with its own hint)
    when asked for its second unit."""

    def units(self, report: ImportReport) -> Iterator[Any]:
        for index, unit in enumerate(super().units(report)):
            if index == 1:
                raise SourceFormatError("the second transcript vanished", hint="Look again.")
            yield unit
