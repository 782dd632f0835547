"""Writing an import's chunks: appends gathered into batches, one write in flight.

:class:`Writer` turns each parsed :class:`~runtime.importers.base.Chunk` into an append
(:class:`~memory.sql.import_batch.ImportedAppend`) and writes them; :class:`QuickHandover`
shortens the GIL switch interval while an import runs. Used by
:func:`runtime.importers.run.run_import`.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from typing import Any, Final

from memory import MemoryBackend
from memory.bundle import PortableEvent, PortableSession
from memory.records import TokenCount, encode_payload
from memory.sql.import_batch import ImportedAppend
from runtime.importers.base import Chunk, Existing
from runtime.payloads import usage

__all__ = ["BATCH_APPENDS", "BATCH_BYTES", "SWITCH_INTERVAL", "QuickHandover", "Writer"]

#: Payload bytes of the appends written in one transaction (see :class:`Writer`).
BATCH_BYTES: Final = 4 * 1024 * 1024
#: ... or this many appends (many small sessions).
BATCH_APPENDS: Final = 200
#: The GIL switch interval (seconds) while an import runs (see :class:`QuickHandover`).
SWITCH_INTERVAL: Final = 0.0002


def _metadata(chunk: Chunk, existing: Existing | None) -> str:
    meta: dict[str, Any] = dict(existing.metadata) if existing is not None else {}
    meta.update(chunk.extra)
    meta["source"] = chunk.source
    return encode_payload(meta)


def _events(chunk: Chunk, first_seq: int) -> tuple[PortableEvent, ...]:
    return tuple(
        PortableEvent(
            first_seq + i,
            d.turn,
            d.kind,
            d.created_at,
            d.encoded or encode_payload(d.payload),
            d.search_text,
        )
        for i, d in enumerate(chunk.events)
    )


def _tokens(chunk: Chunk) -> TokenCount:
    """The token usage of the chunk's answers, read as every reader of the session's
    answers reads it (:func:`runtime.payloads.usage`): what the session's totals gain."""
    prompt = completion = 0
    estimated = False
    for draft in chunk.events:
        if draft.kind == "assistant":
            used = usage(draft.payload)
            prompt += used.prompt
            completion += used.completion
            estimated |= used.estimated
    return TokenCount(prompt, completion, estimated)


def append_of(chunk: Chunk, existing: Existing | None) -> ImportedAppend:
    """One chunk as an append: a new session whole, or an append guarded by ``last_seq``."""
    metadata_json = _metadata(chunk, existing)
    tokens = chunk.tokens if chunk.tokens is not None else _tokens(chunk)
    last_seq = existing.last_seq if existing is not None else 0
    events = _events(chunk, last_seq + 1)
    if existing is not None:
        return ImportedAppend(
            chunk.session_id,
            events,
            last_seq,
            metadata_json,
            max(chunk.updated_at, existing.updated_at),
            tokens=tokens,
        )
    session = PortableSession(
        id=chunk.session_id,
        title=chunk.title,
        agent=str(chunk.source.get("tool")),
        provider=None,
        model=chunk.model,
        created_at=chunk.created_at,
        updated_at=chunk.updated_at,
        metadata_json=metadata_json,
        states=(),
        events=(),
        forked_from=chunk.forked_from,
        forked_at_seq=chunk.forked_at_seq,
    )
    return ImportedAppend(
        chunk.session_id, events, 0, metadata_json, chunk.updated_at, session, tokens
    )


def _batches(memory: MemoryBackend) -> bool:
    """Whether ``memory`` writes many appends in one transaction (the embedded file).

    Looked up on the class, so a wrapper that intercepts ``append_imported`` (a test
    double) is not bypassed through its ``__getattr__``."""
    return (
        getattr(type(memory), "append_imported_many", None) is not None
        and getattr(memory, "mode", None) != "remote"
    )


class Writer:
    """Writes appends in batches, at most one batch in flight, so parsing the next chunks
    overlaps writing these.

    The parse runs in a worker thread and SQLite releases the GIL while it writes, so the
    two proceed together. Appends gather until :data:`BATCH_BYTES` of payload (or
    :data:`BATCH_APPENDS` appends) and are written in one transaction, a savepoint a
    session (:meth:`memory.sql.import_batch.LibsqlImportBatch.append_imported_many`):
    fewer commits, and fewer hand-overs of the GIL between the threads. Memory holds at
    most the batch being written, the one gathering and the chunk being parsed. A backend
    without batches (remote, the reference backend) gets one transaction a chunk.

    A session whose append fails in a batch is rolled back whole within that batch
    (``failed``); its later chunks are dropped, and ``run._settle`` corrects the
    counts.
    """

    def __init__(self, memory: MemoryBackend) -> None:
        self.memory = memory
        self.batched = _batches(memory)
        self.task: asyncio.Task[object] | None = None
        self.pending: list[tuple[ImportedAppend, str]] = []
        self.pending_bytes = 0
        #: Sessions with an append gathering or being written; every session written to.
        self.sessions: set[str] = set()
        self.touched: set[str] = set()
        self.in_flight: set[str] = set()
        #: ``{session id: reason}`` of sessions whose batch rolled them back.
        self.failed: dict[str, tuple[str, str]] = {}
        #: Events committed so far per session, and the sessions whose create committed.
        self.committed: Counter[str] = Counter()
        self.created: set[str] = set()
        #: The store checkpoints its log beside the batches (see :meth:`begin`).
        self.bulk = False

    async def begin(self) -> None:
        """On the embedded file, have the write-ahead log checkpointed beside the
        batches rather than inside them (``memory.sql.import_batch``); :meth:`end`
        gives it back."""
        if self.batched:
            self.bulk = bool(await self.memory.begin_bulk_write())  # type: ignore[attr-defined]

    async def end(self) -> None:
        """Undo :meth:`begin` (after :meth:`settle`)."""
        if self.bulk:
            self.bulk = False
            await self.memory.end_bulk_write()  # type: ignore[attr-defined]

    async def drain(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            try:
                await task
            finally:
                self.sessions -= self.in_flight
                self.in_flight = set()

    async def settle(self) -> None:
        """Write everything gathered and wait for it."""
        await self.flush()
        await self.drain()

    async def submit(self, chunk: Chunk, existing: Existing | None) -> None:
        if chunk.session_id in self.failed:
            return  # rolled back in an earlier batch: nothing after it can be appended
        append = append_of(chunk, existing)
        if not self.batched:
            await self.drain()
            self.sessions.add(chunk.session_id)
            self.touched.add(chunk.session_id)
            self.in_flight = {chunk.session_id}
            self.task = asyncio.create_task(append.write_to(self.memory.append_imported))
            return
        where = str(chunk.source.get("file") or chunk.session_id)
        self.pending.append((append, where))
        self.sessions.add(chunk.session_id)
        self.touched.add(chunk.session_id)
        self.pending_bytes += sum(len(e.payload_json) for e in append.events)
        if self.pending_bytes >= BATCH_BYTES or len(self.pending) >= BATCH_APPENDS:
            await self.flush()

    async def flush(self) -> None:
        if not self.pending:
            return
        await self.drain()
        batch, self.pending, self.pending_bytes = self.pending, [], 0
        self.in_flight = {append.session_id for append, _ in batch}
        self.task = asyncio.create_task(self._write_batch(batch))

    async def _write_batch(self, batch: list[tuple[ImportedAppend, str]]) -> None:
        appends = [append for append, _ in batch]
        failed = await self.memory.append_imported_many(appends)  # type: ignore[attr-defined]
        for append, where in batch:
            sid = append.session_id
            if sid in failed:
                self.failed.setdefault(sid, (where, str(failed[sid])))
            elif sid not in self.failed:
                self.committed[sid] += len(append.events)
                if append.create is not None:
                    self.created.add(sid)


class QuickHandover:
    """A short GIL switch interval while an import runs (restored when the last ends).

    The parsing thread holds the GIL but for the C calls that decode a line, while the
    database thread needs it back after each statement, and the event loop after each
    batch. With the default interval (5 ms) each of those waits up to 5 ms for the parser
    to be asked to let go: the two threads then barely overlap. At 0.2 ms the writer
    gets it back as soon as the parser's current C call returns (``bench.import_bench``:
    about 8 % less time for the same work on two cores).
    """

    active = 0
    saved = 0.0

    def __init__(self) -> None:
        if QuickHandover.active == 0:
            QuickHandover.saved = sys.getswitchinterval()
            sys.setswitchinterval(min(QuickHandover.saved, SWITCH_INTERVAL))
        QuickHandover.active += 1
        self.ended = False

    def end(self) -> None:
        if self.ended:
            return
        self.ended = True
        QuickHandover.active -= 1
        if QuickHandover.active == 0:
            sys.setswitchinterval(QuickHandover.saved)
