"""Running an import: find what each source session adds, write it, count what happened.

A *reader* (one per source tool) lists *units* (a transcript file, a conversation);
each unit, told what was imported from it before (:class:`~runtime.importers.base.Existing`),
yields :class:`~runtime.importers.base.Chunk` objects, each written as an append
(:meth:`memory.Porter.append_imported`; a new session's first chunk creates it in the
same transaction). On the embedded file the appends of several chunks and sessions go
in one transaction, a savepoint a session (:class:`runtime.importers.writer.Writer`):
a session that fails there is rolled back whole, reported, and the import goes on.
With ``dry_run`` nothing is written and the same counts are reported.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, TypeVar, runtime_checkable

from memory import MemoryBackend, SessionInfo
from memory.drivers.wire_limits import MAX_VALUE_BYTES
from memory.errors import SerializationError
from memory.records import TokenCount, encode_payload, encode_payload_ascii
from memory.search_query import fold
from runtime.importers.base import Chunk, Draft, Existing, Malformed
from runtime.importers.writer import QuickHandover, Writer
from runtime.payloads import searchable_text, usage

__all__ = ["ImportReport", "Reader", "Unit", "existing_of", "run_import"]

T = TypeVar("T")

#: Malformed records listed in the report (all are counted).
MAX_LISTED: Final = 200


@dataclass
class ImportReport:
    """What an import did (or, with ``dry_run``, would do)."""

    tool: str
    dry_run: bool = False
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    not_updated: int = 0
    events_added: int = 0
    events_appended: int = 0
    malformed_count: int = 0
    malformed: list[Malformed] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)
    unknown: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    sessions: list[tuple[str, str, int]] = field(default_factory=list)
    on_progress: Callable[[int], None] | None = None

    def bad(self, file: str, line: int | None, reason: str) -> None:
        """Count (and list the first :data:`MAX_LISTED`) skipped records."""
        self.malformed_count += 1
        if len(self.malformed) < MAX_LISTED:
            self.malformed.append(Malformed(file, line, reason))

    def advance(self, amount: int) -> None:
        """Tell the progress display that ``amount`` more units of work are done."""
        if self.on_progress is not None:
            self.on_progress(amount)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data with stable keys."""
        return {
            "tool": self.tool,
            "dry_run": self.dry_run,
            "sessions": {
                "added": self.added,
                "updated": self.updated,
                "skipped": self.unchanged + self.not_updated,
                "unchanged": self.unchanged,
                "not_updated": self.not_updated,
            },
            "events": {"added": self.events_added, "appended": self.events_appended},
            "malformed": {
                "count": self.malformed_count,
                "records": [
                    {"file": m.file, "line": m.line, "reason": m.reason} for m in self.malformed
                ],
            },
            "ignored_record_types": dict(sorted(self.ignored.items())),
            "unknown_record_types": dict(sorted(self.unknown.items())),
            "notes": list(self.notes),
        }


@runtime_checkable
class Unit(Protocol):
    """One source session (a transcript file, a conversation)."""

    session_id: str

    def chunks(self, existing: Existing | None, report: ImportReport) -> Iterator[Chunk]:
        """Yield what this source session adds beyond ``existing``."""
        ...


class Reader(Protocol):
    """One source: its tool name, the amount of work for a progress bar, its units."""

    tool: str
    #: Total work in the unit the reader advances by (bytes, or conversations).
    total: int
    #: What ``total`` counts, for the progress display.
    unit_name: str

    def units(self, report: ImportReport) -> Iterator[Unit]:
        """Yield the source sessions; a malformed one is reported and skipped."""
        ...

    def close(self) -> None:
        """Release what the reader holds open."""
        ...


def existing_of(info: SessionInfo | None) -> Existing | None:
    """What the catalog says about a session imported earlier (``None``: not there)."""
    if info is None:
        return None
    source = info.metadata.get("source")
    return Existing(
        session_id=info.id,
        last_seq=info.last_seq,
        turns=info.turns,
        source=source if isinstance(source, dict) else {},
        metadata=dict(info.metadata),
        updated_at=info.updated_at,
    )


def _encoded(chunk: Chunk, report: ImportReport, max_bytes: int | None = None) -> Chunk:
    """Encode the chunk's payloads (in the parsing thread); a payload that cannot be
    stored (a lone surrogate, nesting deeper than SQLite reads, larger than a remote
    server takes: ``max_bytes``) is reported and left out.

    Only the encoded text is written: each decoded payload (its text once more, two
    bytes a character for most non-ASCII text) is let go as soon as it is encoded, after
    its token usage is counted into ``chunk.tokens``."""
    kept: list[Draft] = []
    prompt = completion = 0
    estimated = False
    for draft in chunk.events:
        try:
            # Text that is nearly all ASCII is stored as ASCII JSON: no UTF-8 pass here nor
            # in SQLite, and its few escapes take next to no room. Other text keeps its
            # UTF-8 (escaping it would take up to twice the space), and a remote server
            # counts bytes, so escapes could make a payload over its limit.
            as_ascii = draft.ascii and max_bytes is None
            draft.encoded = (encode_payload_ascii if as_ascii else encode_payload)(draft.payload)
            # The index text too, here in the parsing thread while the payload is still
            # decoded: the write path then neither decodes the payload again nor folds.
            draft.search_text = fold(searchable_text(draft.kind, draft.payload))
        except SerializationError as exc:
            report.bad(draft.where or chunk.session_id, None, f"not imported: {exc}")
            continue
        if max_bytes is not None and len(draft.encoded) > max_bytes // 4:
            size = len(draft.encoded.encode("utf-8"))
            if size > max_bytes:
                report.bad(
                    draft.where or chunk.session_id,
                    None,
                    f"not imported: a {draft.kind} event of {size:,} bytes is larger than "
                    f"the remote server accepts ({max_bytes:,} bytes per value)",
                )
                continue
        if draft.kind == "assistant":
            used = usage(draft.payload)
            prompt += used.prompt
            completion += used.completion
            estimated |= used.estimated
        draft.payload = {}
        kept.append(draft)
    chunk.events = kept
    chunk.tokens = TokenCount(prompt, completion, estimated)
    return chunk


def _after(chunk: Chunk, existing: Existing | None) -> Existing:
    """What the catalog says about the session once ``chunk`` is written."""
    last_seq = existing.last_seq if existing is not None else 0
    turns = max([existing.turns if existing else 0, *(e.turn for e in chunk.events)])
    meta = dict(existing.metadata) if existing is not None else {}
    meta.update(chunk.extra)
    meta["source"] = chunk.source
    return Existing(
        chunk.session_id, last_seq + len(chunk.events), turns, chunk.source, meta, chunk.updated_at
    )


_DONE: Final = object()


@dataclass(frozen=True, slots=True)
class _Failed:
    """The source's next unit could not be read: raised once the one before is imported."""

    error: Exception


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a lookup no one awaits as seen, so its error is not logged."""
    if not future.cancelled():
        future.exception()


def _next(iterator: Iterator[T]) -> T | object:
    return next(iterator, _DONE)


def _next_chunk(
    chunks: Iterator[Chunk], report: ImportReport, max_bytes: int | None
) -> Chunk | object:
    chunk = next(chunks, _DONE)
    return _encoded(chunk, report, max_bytes) if isinstance(chunk, Chunk) else chunk


async def run_import(
    memory: MemoryBackend,
    reader: Reader,
    *,
    dry_run: bool = False,
    report: ImportReport | None = None,
) -> ImportReport:
    """Import everything new from ``reader`` into ``memory``.

    Chunks are written in transactions of a few MiB (each chunk its own on a remote
    server), a savepoint a session: a session whose write fails there (a constraint;
    ``ImportConflictError``: something else wrote to it meanwhile) is rolled back whole,
    reported under ``malformed`` and counted as not updated, and the import goes on. A
    failure of the store itself leaves the sessions committed before it (each whole, or
    a prefix with its resume point that the next import completes) and raises. Sources
    are parsed in a worker thread while the previous batch is being written.

    Raises:
        SourceFormatError: the source is not of the reader's format.
        MemoryLayerError: the store failed (remotely also ``ImportConflictError``).
    """
    report = report or ImportReport(reader.tool, dry_run=dry_run)
    report.dry_run = dry_run
    writer = Writer(memory)
    units = iter(reader.units(report))
    # One parsing thread for the whole import: a thread pool would spread the big,
    # short-lived strings of the records over several malloc arenas and the peak
    # memory would then grow with the number of sessions.
    parser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="turnkeep-import")
    loop = asyncio.get_running_loop()

    async def step(iterator: Iterator[T]) -> T | object:
        return await loop.run_in_executor(parser, _next, iterator)

    # A remote server refuses values over its limit; the file backends take any size.
    max_bytes = MAX_VALUE_BYTES if getattr(memory, "mode", None) == "remote" else None

    async def step_chunk(chunks: Iterator[Chunk]) -> Chunk | object:
        return await loop.run_in_executor(parser, _next_chunk, chunks, report, max_bytes)

    def look_up(unit: Unit | object) -> asyncio.Future[SessionInfo | None] | None:
        if not isinstance(unit, Unit):
            return None
        return asyncio.ensure_future(memory.find_session(unit.session_id))

    handover = QuickHandover()
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
            await _import_unit(reader.tool, unit, info, writer, report, step_chunk)
        if isinstance(upcoming, _Failed):
            raise upcoming.error
    finally:
        try:
            if upcoming_found is not None:  # (not needed after a failure: let it go)
                upcoming_found.add_done_callback(_retrieve)
                upcoming_found.cancel()
            await writer.settle()
        finally:
            parser.shutdown(wait=True)
            handover.end()
    _settle(report, writer)
    return report


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


class UnitImport:
    """The counting of one unit's import, shared by the in-process and child paths.

    Built from the unit's catalog row: :attr:`skip` says the session exists and was not
    imported from this tool (left alone, with a note). Each chunk parsed from the unit
    goes through :meth:`add` (counted; written unless a dry run), then :meth:`finish`
    counts the unit's outcome.
    """

    def __init__(
        self, tool: str, session_id: str, info: SessionInfo | None, report: ImportReport
    ) -> None:
        self.session_id = session_id
        self.report = report
        self.existing = existing_of(info)
        self.skip = self.existing is not None and self.existing.source.get("tool") != tool
        if self.skip:
            report.not_updated += 1
            report.notes.append(
                f"session {session_id} exists and was not imported from {tool}; left alone"
            )
        self.outcome = "unchanged" if self.existing is not None else None
        self.written = 0

    async def add(self, chunk: Chunk, writer: Writer) -> None:
        """Count one chunk and hand it to ``writer`` (not in a dry run)."""
        report = self.report
        if chunk.status in ("unchanged", "rewritten"):
            if chunk.status == "rewritten":
                self.outcome = "rewritten"
                report.notes.append(f"{chunk.session_id}: {chunk.note}")
            return
        existing = self.existing
        if existing is None and not chunk.events:
            return  # nothing of a conversation in it (yet)
        if self.outcome != "added":
            self.outcome = (
                "added" if existing is None else ("updated" if chunk.events else self.outcome)
            )
        if not report.dry_run:
            await writer.submit(chunk, existing)
        self.existing = _after(chunk, existing)
        self.written += len(chunk.events)

    def finish(self) -> None:
        """Count the unit's outcome (nothing for a skipped unit)."""
        if self.skip:
            return
        report, outcome, written = self.report, self.outcome, self.written
        if outcome == "added":
            report.added += 1
            report.events_added += written
        elif outcome == "updated":
            report.updated += 1
            report.events_appended += written
        elif outcome == "rewritten":
            report.not_updated += 1
        elif outcome == "unchanged":
            report.unchanged += 1
        if outcome is not None:
            report.sessions.append((self.session_id, outcome, written))


async def _import_unit(
    tool: str,
    unit: Unit,
    info: SessionInfo | None,
    writer: Writer,
    report: ImportReport,
    step: Callable[[Iterator[Chunk]], Awaitable[Chunk | object]],
) -> None:
    state = UnitImport(tool, unit.session_id, info, report)
    if not state.skip:
        chunks = unit.chunks(state.existing, report)
        while (chunk := await step(chunks)) is not _DONE:
            assert isinstance(chunk, Chunk)
            await state.add(chunk, writer)
    state.finish()
