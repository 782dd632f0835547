"""What an import counts and how one unit's chunks are counted and encoded.

:class:`ImportReport` is what an import did; :class:`Unit` and :class:`Reader` are what
a source provides; :func:`encode_chunk` encodes a parsed chunk's payloads (where it was
parsed: the import's parsing thread, or its parsing process, see
:mod:`runtime.importers.parallel`); :class:`UnitImport` counts one unit's chunks and hands
them to the :class:`~runtime.importers.writer.Writer`. Used by
:mod:`runtime.importers.run`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

from memory import SessionInfo
from memory.errors import SerializationError
from memory.records import TokenCount, encode_payload, encode_payload_ascii
from memory.search_query import fold
from runtime.importers.base import Chunk, Draft, Existing, Malformed, without_surrogates
from runtime.payloads import searchable_text, usage

if TYPE_CHECKING:  # (the parsing process needs no writer)
    from runtime.importers.writer import Writer

__all__ = [
    "MAX_LISTED",
    "ImportReport",
    "Reader",
    "Unit",
    "UnitImport",
    "encode_chunk",
    "existing_of",
    "left_alone",
    "let_go",
]

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
    #: Records kept with U+FFFD where their text was not valid Unicode (lone surrogates).
    repaired: int = 0
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
            "repaired_records": self.repaired,
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
    """One source: its tool name, the amount of work for a progress bar, its units.

    A reader that can be pickled and whose units need nothing of this process (they
    open their files themselves) may say so with a class attribute ``in_child = True``:
    a large history of it is then parsed in a child process
    (:func:`runtime.importers.run.parallel_fits`).
    """

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


def let_go(lookup: asyncio.Future[Any]) -> None:
    """Cancel a catalog lookup no one will await, its error (if it ends with one)
    marked as seen so that it is not logged."""
    lookup.add_done_callback(_seen)
    lookup.cancel()


def _seen(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


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


def _encode(draft: Draft, max_bytes: int | None) -> str:
    """Encode ``draft``'s payload and its index text (in the parsing thread).

    Text that is nearly all ASCII is stored as ASCII JSON: no UTF-8 pass here nor in
    SQLite, and its few escapes take next to no room. Other text keeps its UTF-8
    (escaping it would take up to twice the space), and a remote server counts bytes, so
    escapes could make a payload over its limit. The index text is made here too, while
    the payload is still decoded: the write path then neither decodes it again nor folds.
    """
    as_ascii = draft.ascii and max_bytes is None
    encoded = (encode_payload_ascii if as_ascii else encode_payload)(draft.payload)
    draft.encoded = encoded
    draft.search_text = fold(searchable_text(draft.kind, draft.payload))
    return encoded


def encode_chunk(chunk: Chunk, report: ImportReport, max_bytes: int | None = None) -> Chunk:
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
            encoded = _encode(draft, max_bytes)
        except SerializationError as exc:
            # Text that is not valid Unicode (a JSON "\ud800" escape, a name's
            # undecodable byte) is kept with U+FFFD in its place, as any reader of the
            # source shows it; anything else that cannot be stored is left out.
            repaired = without_surrogates(draft.payload)
            try:
                if repaired == draft.payload:
                    raise
                draft.payload = repaired
                encoded = _encode(draft, max_bytes)
            except SerializationError:
                report.bad(draft.where or chunk.session_id, None, f"not imported: {exc}")
                continue
            report.repaired += 1
        if max_bytes is not None and len(encoded) > max_bytes // 4:
            size = len(encoded.encode("utf-8"))
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


def left_alone(tool: str, existing: Existing | None) -> bool:
    """Whether a session found in the catalog was not imported from ``tool`` (so an
    import from ``tool`` leaves it alone)."""
    return existing is not None and existing.source.get("tool") != tool


def went_on(existing: Existing) -> bool:
    """Whether events were added to an imported session other than by importing it: its
    ``last_seq`` is not the one the last import left (``source["seq"]``; an import by an
    older turnkeep recorded none, and its session is taken as not gone on)."""
    seq = existing.source.get("seq")
    return isinstance(seq, int) and not isinstance(seq, bool) and existing.last_seq != seq


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
        self.skip = left_alone(tool, self.existing)
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
        if self.outcome == "diverged":
            return
        if existing is not None and went_on(existing):
            # Turns were taken in turnkeep after the import: what the source added
            # since did not follow them, so appending it would make up a conversation.
            if chunk.events:
                self.outcome = "diverged"
                report.notes.append(
                    f"{chunk.session_id}: it has turns taken in turnkeep since it was "
                    "imported, so what its source added since was not appended (the source "
                    "and the session went different ways)"
                )
            return
        # Where the import left the session: a later import checks it is still there.
        chunk.source["seq"] = (existing.last_seq if existing is not None else 0) + len(chunk.events)
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
        elif outcome in ("rewritten", "diverged"):
            report.not_updated += 1
        elif outcome == "unchanged":
            report.unchanged += 1
        if outcome is not None:
            report.sessions.append((self.session_id, outcome, written))
