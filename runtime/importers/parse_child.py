"""The import's parsing process: parse a reader's units, send what they add to the parent.

Started by :func:`runtime.importers.parallel.import_in_child` as
``python -c "from runtime.importers.parse_child import serve; serve()" OUT_FD IN_FD``;
the conversation is described there. This module imports only what parsing needs.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from runtime.errors import ImportWorkerError
from runtime.importers.base import Existing, Malformed
from runtime.importers.units import MAX_LISTED, ImportReport, Reader, Unit, encode_chunk

__all__ = ["AHEAD", "Pipe", "Tally", "child_main", "serve"]

#: Units announced (their catalog rows looked up) ahead of the one being parsed.
AHEAD: Final = 4


class Pipe:
    """One direction of the conversation: messages pickled straight into a pipe as they
    are pickled, and read back as they arrive (large texts go through without a copy of
    the whole message being made on either side)."""

    def __init__(self, fd: int, mode: str) -> None:
        self.file = os.fdopen(fd, mode)

    def send(self, message: object) -> None:
        """Write one message (blocks while the pipe is full: the reader sets the pace).

        Raises:
            OSError: the other side has gone (``BrokenPipeError``).
            ValueError: this side was closed.
        """
        pickle.dump(message, self.file, protocol=pickle.HIGHEST_PROTOCOL)
        self.file.flush()

    def recv(self) -> Any:
        """Read one message.

        Raises:
            EOFError / pickle.UnpicklingError: the other side ended, perhaps mid-message.
        """
        return pickle.load(self.file)

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.file.close()


@dataclass(slots=True)
class Tally:
    """What the child's report counted since its last message."""

    advanced: int = 0
    malformed_count: int = 0
    malformed: list[Malformed] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)
    unknown: Counter[str] = field(default_factory=Counter)
    repaired: int = 0

    def merge_into(self, report: ImportReport) -> None:
        """Add these counts to the parent's report (and its progress display)."""
        report.repaired += self.repaired
        report.malformed_count += self.malformed_count
        room = MAX_LISTED - len(report.malformed)
        report.malformed.extend(self.malformed[: max(room, 0)])
        report.ignored.update(self.ignored)
        report.unknown.update(self.unknown)
        if self.advanced:
            report.advance(self.advanced)


class _ChildReport:
    """The child's report, emptied into a :class:`Tally` with each message."""

    def __init__(self, tool: str) -> None:
        self.report = ImportReport(tool)
        self.advanced = 0
        self.report.on_progress = self._advance

    def _advance(self, amount: int) -> None:
        self.advanced += amount

    def take(self) -> Tally | None:
        report = self.report
        if not (
            self.advanced
            or report.malformed_count
            or report.ignored
            or report.unknown
            or report.repaired
        ):
            return None
        tally = Tally(
            self.advanced,
            report.malformed_count,
            report.malformed,
            report.ignored,
            report.unknown,
            report.repaired,
        )
        self.advanced = report.malformed_count = report.repaired = 0
        report.malformed, report.ignored, report.unknown = [], Counter(), Counter()
        return tally


def _portable(error: BaseException) -> BaseException:
    """``error`` if it crosses the pipe as itself (pickled and read back, same type and
    message), else an :class:`ImportWorkerError` that names it."""
    try:
        copy = pickle.loads(pickle.dumps(error))
    except Exception:
        copy = None
    if copy is not None and type(copy) is type(error) and str(copy) == str(error):
        return error
    return ImportWorkerError(f"the import's parser failed: {type(error).__name__}: {error}")


def _failed(error: BaseException, tally: _ChildReport) -> tuple[Any, ...]:
    """The message that reports ``error`` (with its hint: pickling keeps only the
    message of a typed error)."""
    return ("failed", _portable(error), getattr(error, "hint", None), tally.take())


def serve() -> None:
    """The child process's entry: ``python -c '...; serve()' OUT_FD IN_FD``."""
    out = Pipe(int(sys.argv[1]), "wb")
    answers = Pipe(int(sys.argv[2]), "rb")
    try:
        reader, max_bytes = answers.recv()
    except (EOFError, OSError, pickle.UnpicklingError):
        return  # the parent stopped before it said what to parse
    child_main(reader, out, answers, max_bytes)
    # Everything is sent and the pipes are closed: skip the interpreter's teardown
    # (tens of milliseconds the parent would wait for before it finishes).
    os._exit(0)


def child_main(reader: Reader, out: Pipe, answers: Pipe, max_bytes: int | None) -> None:
    """Parse ``reader``'s units and send what they add to the parent."""
    tally = _ChildReport(reader.tool)
    try:
        try:
            _parse_all(reader, out, answers, max_bytes, tally)
        except (BrokenPipeError, EOFError, ConnectionResetError, pickle.UnpicklingError):
            return  # the parent has gone: nobody to tell
        except Exception as exc:
            out.send(_failed(exc, tally))
    except (BrokenPipeError, ConnectionResetError):
        return
    finally:
        reader.close()
        out.close()
        answers.close()


def _parse_all(
    reader: Reader,
    out: Pipe,
    answers: Pipe,
    max_bytes: int | None,
    tally: _ChildReport,
) -> None:
    report = tally.report
    units: Iterator[Unit] = iter(reader.units(report))
    announced: deque[tuple[int, Unit]] = deque()
    given: dict[int, tuple[Existing | None, bool]] = {}
    failure: Exception | None = None
    exhausted = False
    count = 0

    def announce() -> None:
        nonlocal count, failure, exhausted
        while not exhausted and len(announced) < AHEAD:
            try:
                unit = next(units, None)
            except Exception as exc:  # sent once the units before it are done
                failure, exhausted = exc, True
                return
            if unit is None:
                exhausted = True
                return
            announced.append((count, unit))
            out.send(("unit", count, unit.session_id, tally.take()))
            count += 1

    def answer(index: int) -> tuple[Existing | None, bool]:
        while index not in given:
            at, existing, skip = answers.recv()
            given[at] = (existing, skip)
        return given.pop(index)

    announce()
    while announced:
        index, unit = announced.popleft()
        announce()
        existing, skip = answer(index)
        if not skip:
            for chunk in unit.chunks(existing, report):
                encoded = encode_chunk(chunk, report, max_bytes)
                out.send(("chunk", index, encoded, tally.take()))
        out.send(("end", index, tally.take()))
    if failure is not None:
        out.send(_failed(failure, tally))
    else:
        out.send(("done", tally.take()))
