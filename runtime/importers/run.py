"""Running an import: find what each source session adds, write it, count what happened.

A *reader* (one per source tool) lists *units* (a transcript file, a conversation);
each unit, told what was imported from it before (:class:`~runtime.importers.base.Existing`),
yields :class:`~runtime.importers.base.Chunk` objects, each written as an append
(:meth:`memory.Porter.append_imported`; a new session's first chunk creates it in the
same transaction). On the embedded file the appends of several chunks and sessions go
in one transaction, a savepoint a session (:class:`runtime.importers.writer.Writer`):
a session that fails there is rolled back whole, reported, and the import goes on.
With ``dry_run`` nothing is written and the same counts are reported.

Where the parsing runs: a large history from a reader that allows it
(:attr:`Reader.in_child`) on a machine with two or more usable CPUs is parsed in a
child process (:mod:`runtime.importers.parallel`), so parsing and writing each have a
core and a GIL; otherwise in a worker thread of this process.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final, TypeVar

from memory import MemoryBackend, SessionInfo
from memory.drivers.wire_limits import MAX_VALUE_BYTES
from runtime.importers.base import Chunk
from runtime.importers.parallel import ChildUnavailable, import_in_child
from runtime.importers.units import (
    MAX_LISTED,
    ImportReport,
    Reader,
    Unit,
    UnitImport,
    encode_chunk,
    existing_of,
    let_go,
)
from runtime.importers.writer import QuickHandover, Writer

__all__ = [
    "MAX_LISTED",
    "PARALLEL_MIN_BYTES",
    "ImportReport",
    "Reader",
    "Unit",
    "existing_of",
    "parallel_fits",
    "run_import",
    "usable_cpus",
]

T = TypeVar("T")

#: A source of at least this many bytes is parsed in a child process (when the reader
#: allows it and two CPUs are usable): below it, starting the process (a fresh
#: interpreter, about 0.2 s) costs more than the overlap saves.
PARALLEL_MIN_BYTES: Final = 16 * 1024 * 1024

_DONE: Final = object()


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    sched_getaffinity = getattr(os, "sched_getaffinity", None)
    if sched_getaffinity is not None:
        return len(sched_getaffinity(0))
    return os.cpu_count() or 1


def parallel_fits(reader: Reader, cpus: int | None = None) -> bool:
    """Whether ``reader`` is parsed in a child process when nothing says otherwise: it
    allows it, its history is large (:data:`PARALLEL_MIN_BYTES`) and two or more CPUs
    are usable (on one CPU the two processes would only take turns), on a POSIX system
    (the child gets its pipes as inherited file descriptors)."""
    if not getattr(reader, "in_child", False) or os.name != "posix":
        return False
    if reader.unit_name != "bytes" or reader.total < PARALLEL_MIN_BYTES:
        return False
    return (usable_cpus() if cpus is None else cpus) >= 2


@dataclass(frozen=True, slots=True)
class _Failed:
    """The source's next unit could not be read: raised once the one before is imported."""

    error: Exception


def _next(iterator: Iterator[T]) -> T | object:
    return next(iterator, _DONE)


def _next_chunk(
    chunks: Iterator[Chunk], report: ImportReport, max_bytes: int | None
) -> Chunk | object:
    chunk = next(chunks, _DONE)
    return encode_chunk(chunk, report, max_bytes) if isinstance(chunk, Chunk) else chunk


async def run_import(
    memory: MemoryBackend,
    reader: Reader,
    *,
    dry_run: bool = False,
    report: ImportReport | None = None,
    parallel: bool | None = None,
) -> ImportReport:
    """Import everything new from ``reader`` into ``memory``.

    Chunks are written in transactions of a few MiB (each chunk its own on a remote
    server), a savepoint a session: a session whose write fails there (a constraint;
    ``ImportConflictError``: something else wrote to it meanwhile) is rolled back whole,
    reported under ``malformed`` and counted as not updated, and the import goes on. A
    failure of the store itself leaves the sessions committed before it (each whole, or
    a prefix with its resume point that the next import completes) and raises. Sources
    are parsed while the previous batch is being written: in a child process
    (``parallel``; by default when :func:`parallel_fits`) or in a worker thread.

    Raises:
        SourceFormatError: the source is not of the reader's format.
        MemoryLayerError: the store failed (remotely also ``ImportConflictError``).
        ImportWorkerError: the parsing process stopped without saying why (killed).
        ValueError: ``parallel`` is true for a reader that cannot be parsed in a child.
    """
    report = report or ImportReport(reader.tool, dry_run=dry_run)
    report.dry_run = dry_run
    if parallel is None:
        parallel = parallel_fits(reader)
    elif parallel and not getattr(reader, "in_child", False):
        raise ValueError(f"the {reader.tool} reader cannot be parsed in a child process")
    writer = Writer(memory)
    # A remote server refuses values over its limit; the file backends take any size.
    max_bytes = MAX_VALUE_BYTES if getattr(memory, "mode", None) == "remote" else None
    handover = QuickHandover()
    try:
        if not dry_run:
            await writer.begin()
        if parallel:
            try:
                await import_in_child(memory, reader, report, writer, max_bytes)
            except ChildUnavailable as exc:
                report.notes.append(f"parsed in this process: no parsing process ({exc})")
                parallel = False
        if not parallel:
            await _import_here(memory, reader, report, writer, max_bytes)
    finally:
        try:
            try:
                await writer.settle()
            finally:
                await writer.end()
        finally:
            handover.end()
    _settle(report, writer)
    return report


async def _import_here(
    memory: MemoryBackend,
    reader: Reader,
    report: ImportReport,
    writer: Writer,
    max_bytes: int | None,
) -> None:
    """Parse in a worker thread of this process while the writer writes."""
    units = iter(reader.units(report))
    # One parsing thread for the whole import: a thread pool would spread the big,
    # short-lived strings of the records over several malloc arenas and the peak
    # memory would then grow with the number of sessions.
    parser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="turnkeep-import")
    loop = asyncio.get_running_loop()

    async def step(iterator: Iterator[T]) -> T | object:
        return await loop.run_in_executor(parser, _next, iterator)

    async def step_chunk(chunks: Iterator[Chunk]) -> Chunk | object:
        return await loop.run_in_executor(parser, _next_chunk, chunks, report, max_bytes)

    def look_up(unit: Unit | object) -> asyncio.Future[SessionInfo | None] | None:
        if not isinstance(unit, Unit):
            return None
        return asyncio.ensure_future(memory.find_session(unit.session_id))

    upcoming_found: asyncio.Future[SessionInfo | None] | None = None
    try:
        # Each unit's catalog row is looked up while the unit before it is imported, so
        # the lookup does not wait behind that unit's last write and the parser goes
        # straight on (a lookup our own writes may have overtaken is made again).
        upcoming = await step(units)
        upcoming_found = look_up(upcoming)
        while isinstance(upcoming, Unit) and upcoming_found is not None:
            unit, found = upcoming, upcoming_found
            try:
                upcoming = await step(units)
            except Exception as exc:  # (the units before it are imported first)
                upcoming = _Failed(exc)
            upcoming_found = look_up(upcoming)
            info = await found
            if unit.session_id in writer.touched:
                await writer.settle()  # the same session again: read what was written
                info = await memory.find_session(unit.session_id)
            state = UnitImport(reader.tool, unit.session_id, info, report)
            if not state.skip:
                chunks = unit.chunks(state.existing, report)
                while (chunk := await step_chunk(chunks)) is not _DONE:
                    assert isinstance(chunk, Chunk)
                    await state.add(chunk, writer)
            state.finish()
        if isinstance(upcoming, _Failed):
            raise upcoming.error
    finally:
        if upcoming_found is not None:  # (not needed after a failure: let it go)
            let_go(upcoming_found)
        try:
            await writer.settle()  # (before the parser stops: nothing waits on it then)
        finally:
            parser.shutdown(wait=True)


def _settle(report: ImportReport, writer: Writer) -> None:
    """Count the sessions rolled back as not imported (what of them was committed in
    earlier batches, a prefix with its resume point, stays counted)."""
    for index, (sid, outcome, written) in enumerate(report.sessions):
        if sid not in writer.failed:
            continue
        where, reason = writer.failed[sid]
        kept = writer.committed[sid]
        report.bad(where, None, f"session {sid} not imported: {reason}")
        if outcome == "added":
            report.events_added -= written - kept
            if sid not in writer.created:
                report.added -= 1
                report.not_updated += 1
                outcome = "failed"
        elif outcome == "updated":
            report.events_appended -= written - kept
            if kept == 0:
                report.updated -= 1
                report.not_updated += 1
                outcome = "failed"
        report.sessions[index] = (sid, outcome, kept)
