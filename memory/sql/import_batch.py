"""Writing many imported appends in one transaction, each session isolated by a savepoint.

``turnkeep import`` writes a source session as one or more *appends* (see
:meth:`memory.protocol.Porter.append_imported`). One transaction per append costs a
commit (and a checkpoint of the write-ahead log) per small session, and, in the
embedded driver, a hand-over of Python's lock per statement that the import's parsing
thread holds most of the time. :meth:`LibsqlImportBatch.append_imported_many` writes
several appends, of several sessions, in one transaction; the appends of each session
(consecutive in the list) run inside one ``SAVEPOINT``, so a session that fails (a
constraint, another writer that moved its ``last_seq``) is rolled back whole and the
other sessions of the batch are committed. A crash at any point leaves each session as
its last committed append left it (whole, or a prefix with its resume point).

Remotely (sqld) each append stays its own batch: a Hrana batch cannot roll back to a
savepoint on an error, and one round trip an append is what a remote import costs
anyway.

Between :meth:`LibsqlImportBatch.begin_bulk_write` and
:meth:`~LibsqlImportBatch.end_bulk_write` the embedded file's write-ahead log is
checkpointed beside the batches, on a thread of its own
(:class:`memory.drivers.wal_checkpointer.WalCheckpointer`), instead of inside them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

from memory.bundle import PortableEvent, PortableSession
from memory.drivers.base import Driver, Result
from memory.drivers.wal_checkpointer import MAX_LOG_BYTES, WalCheckpointer
from memory.errors import ImportConflictError, MemoryLayerError, NotFoundError, QueryError
from memory.records import TokenCount
from memory.sql.imported import (
    EVENT_INSERT,
    EVENT_ROW_INSERT,
    ROW_GUARD_FAILED,
    append_statements,
    check_contiguous,
)
from memory.sql.search_statements import TextOf, import_statements

__all__ = ["ImportedAppend", "LibsqlImportBatch", "append_plan", "check_append"]


@dataclass(frozen=True, slots=True)
class ImportedAppend:
    """The arguments of one :meth:`~memory.protocol.Porter.append_imported` call."""

    session_id: str
    events: Sequence[PortableEvent]
    expect_last_seq: int
    metadata_json: str | None = None
    updated_at: str | None = None
    create: PortableSession | None = None
    tokens: TokenCount | None = None

    async def write_to(self, append_imported: Callable[..., Awaitable[int]]) -> int:
        """Make this ``append_imported`` call (a backend's bound method; one
        transaction)."""
        return await append_imported(
            self.session_id,
            self.events,
            expect_last_seq=self.expect_last_seq,
            metadata_json=self.metadata_json,
            updated_at=self.updated_at,
            create=self.create,
            tokens=self.tokens,
        )


def append_plan(
    text_of: TextOf, append: ImportedAppend, *, single_rows: bool = False
) -> list[tuple[str, list[Any]]]:
    """The statements of one append: its events, their index rows, the counters.

    ``single_rows``: see :func:`memory.sql.imported.append_statements` (only for a batch
    that rolls the append back on any failure).

    Raises:
        BundleFormatError: the seqs do not continue ``expect_last_seq``.
    """
    session_id, events = append.session_id, append.events
    check_contiguous(events, append.expect_last_seq)
    stmts = append_statements(
        session_id,
        events,
        expect_last_seq=append.expect_last_seq,
        metadata_json=append.metadata_json,
        updated_at=append.updated_at,
        create=append.create,
        tokens=append.tokens,
        single_rows=single_rows,
    )
    # Imported events are found by search like any others: their index rows go in
    # the same batch, before its closing UPDATE and read (the last two statements).
    index = import_statements(
        text_of,
        session_id,
        append.create.title if append.create is not None else None,
        [(e.seq, e.kind, e.payload_json, e.search_text) for e in events],
    )
    # Only when the append is not refused (``last_seq`` has not moved: the UPDATE that
    # moves it comes after), so a refused append indexes nobody else's events.
    guarded = [
        (
            f"{sql} WHERE (SELECT last_seq FROM sessions WHERE id = ?) = ?",
            [*args, session_id, append.expect_last_seq],
        )
        if sql.startswith(("INSERT INTO search_events", "INSERT INTO search_words"))
        else (sql, args)
        for sql, args in index
    ]
    return [*stmts[:-2], *guarded, *stmts[-2:]]


def check_append(append: ImportedAppend, results: Sequence[Result]) -> int:
    """The session's new ``last_seq`` from an append's results (its last two statements).

    Raises:
        NotFoundError: the session does not exist.
        ImportConflictError: its ``last_seq`` had moved; the append wrote nothing.
    """
    if not results[-1].rows:
        raise NotFoundError(append.session_id)
    if results[-2].rows_affected != 1:
        raise ImportConflictError(
            (append.session_id,),
            message=f"session {append.session_id!r} changed while it was imported",
        )
    return int(results[-1].rows[0][0])


def _conflict_or(append: ImportedAppend, exc: MemoryLayerError) -> MemoryLayerError:
    """A failed create of a session that exists, or an event whose guard found the
    session moved on (or gone), is a conflict; else ``exc`` itself."""
    reason = str(exc.__cause__ or exc) if isinstance(exc, QueryError) else ""
    if append.create is not None and "UNIQUE constraint failed" in reason:
        conflict = ImportConflictError((append.session_id,))
    elif ROW_GUARD_FAILED in reason:
        conflict = ImportConflictError(
            (append.session_id,),
            message=f"session {append.session_id!r} changed (or was deleted) while it was imported",
        )
    else:
        return exc
    conflict.__cause__ = exc
    return conflict


def _releases(plans: list[list[list[tuple[str, list[Any]]]]]) -> list[tuple[str, list[Any]]]:
    """Each multi-row event INSERT of the batch once more, with every value NULL: it
    inserts nothing (its guard names no session), and SQLite lets go of the payloads it
    keeps bound to the cached statement (up to one group of rows per statement size),
    so memory between batches holds none of them. (The one-row insert keeps its last
    row's values, one event at most: binding NULLs there would fail its guard.)"""
    sizes = {
        sql: len(args)
        for group_plans in plans
        for plan in group_plans
        for sql, args in plan
        if sql.startswith(EVENT_INSERT) and sql != EVENT_ROW_INSERT
    }
    return [(sql, [None] * size) for sql, size in sizes.items()]


def _no_check(results: list[Result]) -> None:
    del results


class LibsqlImportBatch:
    """``append_imported_many`` for :class:`~memory.sql.store.LibsqlMemory`."""

    _driver: Driver
    mode: str
    _bulk_checkpointer: WalCheckpointer | None = None

    async def begin_bulk_write(self, max_log_bytes: int = MAX_LOG_BYTES) -> bool:
        """Checkpoint the write-ahead log beside the batches of
        :meth:`append_imported_many` from now on (see
        :mod:`memory.drivers.wal_checkpointer`); only on the embedded file.

        Args:
            max_log_bytes: the log size past which a batch waits for the checkpoint to
                catch up (so the log starts over).

        Returns:
            Whether it is on (call :meth:`end_bulk_write` when done).
        """
        driver = self._driver
        path = getattr(driver, "path", None)
        if getattr(driver, "batch_each", None) is None or not isinstance(path, Path):
            return False
        if self._bulk_checkpointer is not None:
            return False
        checkpointer = WalCheckpointer(
            path,
            synchronous=getattr(driver, "synchronous", "full"),
            busy_timeout=getattr(driver, "busy_timeout", 5.0),
            max_log_bytes=max_log_bytes,
        )
        await driver.execute("PRAGMA wal_autocheckpoint = 0")
        checkpointer.start()
        self._bulk_checkpointer = checkpointer
        return True

    async def end_bulk_write(self) -> None:
        """Checkpoint what the last batches wrote, then give checkpoints back to SQLite
        (its default: one in the commit that takes the log past 1,000 pages)."""
        checkpointer, self._bulk_checkpointer = self._bulk_checkpointer, None
        if checkpointer is None:
            return
        await asyncio.to_thread(checkpointer.stop)
        await self._driver.execute("PRAGMA wal_autocheckpoint = 1000")

    @property
    def search_text_of(self) -> TextOf:
        raise NotImplementedError  # provided by LibsqlSearch

    async def append_imported(
        self,
        session_id: str,
        events: Sequence[PortableEvent],
        *,
        expect_last_seq: int,
        metadata_json: str | None = None,
        updated_at: str | None = None,
        create: PortableSession | None = None,
        tokens: TokenCount | None = None,
    ) -> int:
        raise NotImplementedError  # provided by LibsqlMemory

    async def append_imported_many(
        self, appends: Sequence[ImportedAppend]
    ) -> dict[str, MemoryLayerError]:
        """Write ``appends`` in one transaction, one savepoint per session.

        The appends of one session must be consecutive; each continues the one before
        it (its ``expect_last_seq`` is the last seq that one leaves).

        Returns:
            The sessions that failed, each with its error; every append of such a
            session in this batch was rolled back, the other sessions are committed.

        Raises:
            BundleFormatError: an append's seqs do not continue its ``expect_last_seq``
                (nothing is written).
            StoreConnectionError / QueryError / ...: the store itself failed; nothing
                of the batch was written.
        """
        groups = [list(g) for _, g in groupby(appends, key=lambda a: a.session_id)]
        batch_each = getattr(self._driver, "batch_each", None)
        if batch_each is None:  # remote: one batch an append, as append_imported does
            return await self._one_by_one(groups)
        # (A failing statement rolls its session's savepoint back: one-row inserts.)
        plans = [
            [append_plan(self.search_text_of, a, single_rows=True) for a in group]
            for group in groups
        ]

        def checker(
            group: list[ImportedAppend], sizes: list[int]
        ) -> Callable[[list[Result]], None]:
            def check(results: list[Result]) -> None:
                start = 0
                for append, size in zip(group, sizes, strict=True):
                    check_append(append, results[start : start + size])
                    start += size

            return check

        checkpointer = self._bulk_checkpointer
        if checkpointer is not None:
            await asyncio.to_thread(checkpointer.before_write)
        outcomes: list[list[Result] | MemoryLayerError] = await batch_each(
            [
                *(
                    (
                        [stmt for plan in group_plans for stmt in plan],
                        checker(group, [len(plan) for plan in group_plans]),
                    )
                    for group, group_plans in zip(groups, plans, strict=True)
                ),
                (_releases(plans), _no_check),
            ]
        )
        outcomes.pop()
        if checkpointer is not None:
            checkpointer.committed()
        return {
            group[0].session_id: _conflict_or(group[0], outcome)
            for group, outcome in zip(groups, outcomes, strict=True)
            if isinstance(outcome, MemoryLayerError)
        }

    async def _one_by_one(self, groups: list[list[ImportedAppend]]) -> dict[str, MemoryLayerError]:
        failed: dict[str, MemoryLayerError] = {}
        for group in groups:
            for append in group:
                try:
                    await append.write_to(self.append_imported)
                except (ImportConflictError, NotFoundError) as exc:
                    failed[append.session_id] = exc
                    break
        return failed
