"""The libSQL backend: every statement turnkeep sends, written once for both modes.

It talks to a :class:`~memory.drivers.base.Driver` and knows no driver:
:class:`~memory.drivers.sqlite_file.SqliteFileDriver` for a local file, or
:class:`~memory.drivers.hrana.HranaDriver` for sqld/Turso. Drivers raise
:mod:`memory.errors` types themselves, so nothing here translates.

Writes are single batches (one transaction, one round trip remotely): ``store`` creates
the session if needed, inserts each event at ``last_seq + i`` read inside the same
transaction, bumps the counters and reads the new ``last_seq`` back.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

from memory.bundle import PortableEvent, PortableSession
from memory.drivers.base import Driver, Result, Statement
from memory.errors import ImportConflictError, MemoryLayerError, NotFoundError, QueryError
from memory.protocol import HealthReport
from memory.records import (
    Clock,
    Event,
    EventDraft,
    NewTurn,
    SaveResult,
    SessionInfo,
    StateSnapshot,
    TokenCount,
    TurnOf,
    TurnRef,
    check_new_session,
    check_session_id,
    check_text,
    check_title,
    decode_payload,
    encode_payload,
    format_ts,
    utc_now,
)
from memory.schema.migrate import MigrationOutcome
from memory.sql.health import read_counts_and_migrations
from memory.sql.import_batch import ImportedAppend, LibsqlImportBatch, append_plan, check_append
from memory.sql.navigation import LibsqlNavigator
from memory.sql.organize import SESSION_COLUMNS, LibsqlOrganizer, session_from_row
from memory.sql.save_point import event_insert_statements
from memory.sql.search import LibsqlSearch
from memory.sql.search_statements import (
    event_rows_statements,
    import_statements,
    index_values_of,
    title_statements,
)
from memory.sql.session_text import LibsqlSessionText
from memory.sql.transfer import LibsqlPorter
from memory.sql.vectors import LibsqlVectors

__all__ = ["Clock", "LibsqlMemory", "utc_now"]

T = TypeVar("T")

_SESSION_COLUMNS = SESSION_COLUMNS
_EVENT_COLUMNS = "seq, turn, kind, payload, created_at"


_session_from_row = session_from_row


class LibsqlMemory(
    LibsqlSearch,
    LibsqlSessionText,
    LibsqlPorter,
    LibsqlImportBatch,
    LibsqlOrganizer,
    LibsqlVectors,
    LibsqlNavigator,
):
    """The memory backend over a driver (embedded file or remote server).

    Args:
        driver: the open :class:`~memory.drivers.base.Driver` statements go through.
        mode: ``"embedded"`` or ``"remote"``, for health reports.
        where: the redacted location (path or URL without credentials); every error
            message names it.
        clock: returns the current time; tests freeze it.
        migration_ids: the project's migration ids, to report pending ones.
        path: the database file in embedded mode.
        migration_outcome: what opening it migrated.
    """

    def __init__(
        self,
        driver: Driver,
        *,
        mode: Literal["embedded", "remote"],
        where: str,
        clock: Clock = utc_now,
        migration_ids: Sequence[str] = (),
        path: Path | None = None,
        migration_outcome: MigrationOutcome | None = None,
    ) -> None:
        self._driver = driver
        self.mode: Literal["embedded", "remote"] = mode
        self.where = where
        self._clock = clock
        self._migration_ids = tuple(migration_ids)
        self._path = path
        #: What opening this backend migrated (``None`` when it did not migrate).
        self.migration_outcome = migration_outcome
        self._tag_sizes: dict[str, tuple[float, int]] = {}

    @property
    def driver(self) -> Driver:
        """The driver statements go through (for maintenance commands such as backup)."""
        return self._driver

    @property
    def path(self) -> Path | None:
        """The database file in embedded mode, else ``None``."""
        return self._path

    async def _execute(self, sql: str, args: Sequence[Any] = ()) -> Result:
        return await self._driver.execute(sql, args)

    async def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One read as plain tuples."""
        return await self._driver.rows(sql, args)

    async def _page_rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A short, bounded read (a page of a list), answered without the database
        thread's hop when it is idle (:meth:`memory.drivers.base.Driver.page_rows`)."""
        return await self._driver.page_rows(sql, args)

    async def _read_batch(self, stmts: Sequence[Statement]) -> list[Result]:
        """Reads in one snapshot; the local file takes no write lock for them."""
        return await self._driver.read_batch(stmts)

    async def _batch(self, stmts: Sequence[Statement]) -> list[Result]:
        """Statements in one write transaction: all or nothing."""
        return await self._driver.batch(stmts)

    def _now(self) -> str:
        return format_ts(self._clock())

    # -- Memory ------------------------------------------------------------------------

    async def store(self, session_id: str, events: Sequence[EventDraft]) -> list[int]:
        """See :meth:`memory.protocol.Memory.store`."""
        if not events:
            return []
        results = await self._batch(self._store_statements(session_id, events, None))
        last = int(results[-1].rows[0][0])
        return list(range(last - len(events) + 1, last + 1))

    async def store_once(
        self, session_id: str, key: str, events: Sequence[EventDraft]
    ) -> list[int]:
        """See :meth:`memory.protocol.IdempotentStore.store_once`."""
        if not events:
            return []
        check_text(key, "save point key")
        results = await self._batch(self._store_statements(session_id, events, key))
        first, count = (int(v) for v in results[-1].rows[0][:2])
        return list(range(first, first + count))

    async def store_turn(
        self,
        session_id: str,
        key: str,
        events: Sequence[EventDraft],
        *,
        turn: TurnRef,
        state: Mapping[str, Any] | None = None,
    ) -> SaveResult:
        """See :meth:`memory.protocol.TurnStore.store_turn`."""
        check_text(key, "save point key")
        if not events:
            raise ValueError("a save point needs at least one event")
        stmts = self._store_statements(session_id, events, key, turn=turn, state=state)
        results = await self._batch(stmts)
        first, count, stored_turn = (int(v) for v in results[-1].rows[0])
        return SaveResult(tuple(range(first, first + count)), stored_turn)

    def _store_statements(
        self,
        session_id: str,
        events: Sequence[EventDraft],
        key: str | None,
        *,
        turn: TurnRef | None = None,
        state: Mapping[str, Any] | None = None,
    ) -> list[tuple[str, list[Any]]]:
        """One save point as one batch: session upsert, events at ``last_seq + i``, counters.

        With a ``key``, a ``save_points`` row is claimed first and every later statement
        runs only if this batch claimed it (its ``first_seq`` is still ``last_seq + 1``);
        a key stored by an earlier, committed attempt turns the batch into a read of the
        seqs it got then. With a ``turn`` reference the turn number is computed in the
        transaction (``turn_count + 1``, or the turn of the save point referenced), and a
        ``state`` checkpoint replaces the session's previous one in the same batch.
        """
        check_session_id(session_id)
        now = self._now()
        count = len(events)
        guard, guard_args = "", []
        stmts: list[tuple[str, list[Any]]] = [
            (
                "INSERT INTO sessions (id, created_at, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO NOTHING",
                [session_id, now, now],
            )
        ]
        if key is not None:
            stmts.append(
                (
                    "INSERT OR IGNORE INTO save_points (session_id, key, first_seq, count, "
                    "created_at) SELECT id, ?, last_seq + 1, ?, ? FROM sessions WHERE id = ?",
                    [key, count, now, session_id],
                )
            )
            guard = (
                " AND (SELECT first_seq FROM save_points WHERE session_id = ? AND key = ?)"
                " = last_seq + 1"
            )
            guard_args = [session_id, key]
        # The turn as an SQL expression over the session row ``s`` (read before the UPDATE).
        turn_sql, turn_args = "v.column2", None
        if isinstance(turn, NewTurn):
            turn_sql, turn_args = "s.turn_count + 1", []
        elif isinstance(turn, TurnOf):
            check_text(turn.key, "save point key")
            turn_sql = (
                "coalesce((SELECT e.turn FROM save_points p JOIN conversation_events e "
                "ON e.session_id = p.session_id AND e.seq = p.first_seq "
                "WHERE p.session_id = s.id AND p.key = ?), max(s.turn_count, 1))"
            )
            turn_args = [turn.key]
        text_of = self.search_text_of
        index_rows: list[tuple[int, tuple[str, str, str]]] = []
        event_rows: list[tuple[int, int, str, str]] = []
        max_turn = 0
        prompt = completion = estimated = 0
        for offset, event in enumerate(events, start=1):
            payload = encode_payload(event.payload)
            kind = check_text(event.kind, "event kind")
            event_rows.append((offset, event.turn, kind, payload))
            index_rows.append((offset, index_values_of(text_of, kind, event.payload)))
            max_turn = max(max_turn, event.turn)
            if event.tokens is not None:
                prompt += event.tokens.prompt
                completion += event.tokens.completion
                estimated |= event.tokens.estimated
        # All events in one statement (one statement per save point, not one per event).
        stmts += event_insert_statements(
            session_id,
            event_rows,
            turn_sql=turn_sql,
            turn_args=turn_args or [],
            created_at=now,
            guard=guard.replace("last_seq", "s.last_seq"),
            guard_args=guard_args,
        )
        if turn is None:
            turn_update, turn_update_args = "max(turn_count, ?)", [max_turn]
        else:  # the turn of the events just inserted (the first of them)
            turn_update = (
                "max(turn_count, (SELECT turn FROM conversation_events "
                "WHERE session_id = sessions.id AND seq = sessions.last_seq + 1))"
            )
            turn_update_args = []
        # The index rows, in the same transaction (the search index, memory.sql.search_statements).
        stmts += event_rows_statements(
            session_id, index_rows, guard.replace("last_seq", "s.last_seq"), tuple(guard_args)
        )
        stmts.append(
            (
                "UPDATE sessions SET last_seq = last_seq + ?, event_count = event_count + ?, "
                f"turn_count = {turn_update}, updated_at = ?, "
                "prompt_tokens = prompt_tokens + ?, completion_tokens = completion_tokens + ?, "
                f"tokens_estimated = max(tokens_estimated, ?) WHERE id = ?{guard}",
                [count, count, *turn_update_args, now, prompt, completion, estimated, session_id]
                + guard_args,
            )
        )
        if state is not None:
            encoded = encode_payload(state)
            state_guard = (
                ""
                if key is None
                else " AND (SELECT first_seq + count - 1 FROM save_points "
                "WHERE session_id = ? AND key = ?) = last_seq"
            )
            stmts.append(
                (
                    "DELETE FROM session_state WHERE session_id = ? AND EXISTS (SELECT 1 FROM "
                    f"sessions WHERE id = ?{state_guard})",
                    [session_id, session_id, *guard_args],
                )
            )
            stmts.append(
                (
                    "INSERT INTO session_state (session_id, seq, state, created_at) "
                    f"SELECT id, last_seq, ?, ? FROM sessions WHERE id = ?{state_guard}",
                    [encoded, now, session_id, *guard_args],
                )
            )
        if key is None:
            stmts.append(("SELECT last_seq FROM sessions WHERE id = ?", [session_id]))
        else:
            stmts.append(
                (
                    "SELECT p.first_seq, p.count, coalesce(e.turn, 0) FROM save_points p "
                    "LEFT JOIN conversation_events e ON e.session_id = p.session_id "
                    "AND e.seq = p.first_seq WHERE p.session_id = ? AND p.key = ?",
                    [session_id, key],
                )
            )
        return stmts

    async def recall(
        self,
        session_id: str,
        *,
        after: int = 0,
        before: int | None = None,
        limit: int | None = None,
        newest: bool = False,
    ) -> list[Event]:
        """See :meth:`memory.protocol.Memory.recall`."""
        sql = f"SELECT {_EVENT_COLUMNS} FROM conversation_events WHERE session_id = ? AND seq > ?"
        args: list[Any] = [session_id, after]
        if before is not None:
            sql += " AND seq < ?"
            args.append(before)
        sql += " ORDER BY seq DESC" if newest and limit is not None else " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(max(0, limit))
        rows = await self._rows(sql, args)
        if not rows:
            await self.get_session(session_id)  # raises NotFoundError for unknown sessions
            return []
        if newest and limit is not None:
            rows = rows[::-1]
        return [Event(session_id, *row) for row in rows]

    async def forget(self, session_id: str) -> None:
        """See :meth:`memory.protocol.Memory.forget`."""
        results = await self._batch(
            [
                ("DELETE FROM conversation_events WHERE session_id = ?", [session_id]),
                ("DELETE FROM session_state WHERE session_id = ?", [session_id]),
                ("DELETE FROM save_points WHERE session_id = ?", [session_id]),
                ("DELETE FROM session_tags WHERE session_id = ?", [session_id]),
                ("DELETE FROM sessions WHERE id = ?", [session_id]),
            ]
        )
        if results[-1].rows_affected == 0:
            raise NotFoundError(session_id)

    # -- SessionCatalog ----------------------------------------------------------------

    async def create_session(
        self,
        session_id: str,
        *,
        title: str | None = None,
        agent: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> SessionInfo:
        """See :meth:`memory.protocol.SessionCatalog.create_session`."""
        check_new_session(session_id, title, agent)
        meta = None if metadata is None else encode_payload(metadata)
        now = self._now()
        results = await self._batch(
            [
                (
                    "INSERT INTO sessions (id, title, agent, provider, model, created_at, "
                    "updated_at, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, coalesce(?, '{}')) "
                    "ON CONFLICT (id) DO UPDATE SET title = coalesce(excluded.title, title), "
                    "agent = coalesce(excluded.agent, agent), "
                    "provider = coalesce(excluded.provider, provider), "
                    "model = coalesce(excluded.model, model), "
                    "metadata = CASE WHEN ? IS NULL THEN metadata ELSE excluded.metadata END",
                    [session_id, title, agent, provider, model, now, now, meta, meta],
                ),
                *(title_statements(session_id, title) if title is not None else []),
                (f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id = ?", [session_id]),
            ]
        )
        return _session_from_row(results[-1].rows[0])

    async def find_session(self, session_id: str) -> SessionInfo | None:
        """See :meth:`memory.protocol.SessionCatalog.find_session`."""
        rows = await self._rows(
            f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id = ?", [session_id]
        )
        return _session_from_row(rows[0]) if rows else None

    async def get_session(self, session_id: str) -> SessionInfo:
        """See :meth:`memory.protocol.SessionCatalog.get_session`."""
        info = await self.find_session(session_id)
        if info is None:
            raise NotFoundError(session_id)
        return info

    async def rename_session(self, session_id: str, title: str) -> SessionInfo:
        """See :meth:`memory.protocol.SessionCatalog.rename_session`."""
        check_title(title)
        results = await self._batch(
            [
                ("UPDATE sessions SET title = ? WHERE id = ?", [title, session_id]),
                *title_statements(session_id, title),
                (f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id = ?", [session_id]),
            ]
        )
        if not results[-1].rows:
            raise NotFoundError(session_id)
        return _session_from_row(results[-1].rows[0])

    async def count_sessions(self, *, archived: bool | None = None) -> int:
        """See :meth:`memory.protocol.SessionCatalog.count_sessions`."""
        # All: kept by triggers (migration 0008.counts), as count(*) would walk every
        # session. The archived are counted on their own partial index (migration
        # 0005), one entry each; the rest is the difference, in the same statement.
        total = "(SELECT rows FROM row_counts WHERE name = 'sessions')"
        archived_count = "(SELECT count(*) FROM sessions WHERE archived_at IS NOT NULL)"
        sql = {
            None: f"SELECT {total}",
            True: f"SELECT {archived_count}",
            False: f"SELECT {total} - {archived_count}",
        }[archived]
        rows = await self._page_rows(sql, [])
        return int(rows[0][0])

    # -- EventSearch -------------------------------------------------------------------

    async def search_events(
        self, query: str, *, limit: int = 20, session_id: str | None = None
    ) -> list[Event]:
        """See :meth:`memory.protocol.EventSearch.search_events`."""
        if not query.strip() or limit <= 0:
            return []
        check_text(query, "search text")
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        sql = (
            "SELECT session_id, seq, turn, kind, payload, created_at FROM conversation_events "
            "WHERE kind IN ('user', 'assistant') "
            "AND json_extract(payload, '$.content') LIKE ? ESCAPE '\\'"
        )
        args: list[Any] = [f"%{escaped}%"]
        if session_id is not None:
            sql += " AND session_id = ?"
            args.append(session_id)
        sql += " ORDER BY created_at DESC, seq DESC, session_id DESC LIMIT ?"
        args.append(limit)
        result = await self._execute(sql, args)
        return [
            Event(str(r[0]), int(r[1]), int(r[2]), str(r[3]), str(r[4]), str(r[5]))
            for r in result.rows
        ]

    def _search_index_statements(self, session: Any) -> list[tuple[str, list[Any]]]:
        """Index rows of an imported session, for the import's batch."""
        events = [(e.seq, e.kind, e.payload_json, e.search_text) for e in session.events]
        return import_statements(self.search_text_of, session.id, session.title, events)

    # -- StateStore --------------------------------------------------------------------

    async def save_state(self, session_id: str, state: Mapping[str, Any]) -> StateSnapshot:
        """See :meth:`memory.protocol.StateStore.save_state`."""
        encoded = encode_payload(state)
        now = self._now()
        results = await self._batch(
            [
                # DELETE then INSERT rather than INSERT OR REPLACE: a REPLACE deletes
                # without firing delete triggers, and migration 0008 counts rows by them.
                (
                    "DELETE FROM session_state WHERE session_id = ? "
                    "AND seq = (SELECT last_seq FROM sessions WHERE id = ?)",
                    [session_id, session_id],
                ),
                (
                    "INSERT INTO session_state (session_id, seq, state, created_at) "
                    "SELECT id, last_seq, ?, ? FROM sessions WHERE id = ?",
                    [encoded, now, session_id],
                ),
                ("SELECT last_seq FROM sessions WHERE id = ?", [session_id]),
            ]
        )
        if not results[-1].rows:
            raise NotFoundError(session_id)
        seq = int(results[-1].rows[0][0])
        return StateSnapshot(session_id, seq, decode_payload(encoded), now)

    async def load_state(self, session_id: str) -> StateSnapshot | None:
        """See :meth:`memory.protocol.StateStore.load_state`."""
        result = await self._execute(
            "SELECT seq, state, created_at FROM session_state WHERE session_id = ? "
            "ORDER BY seq DESC LIMIT 1",
            [session_id],
        )
        if not result.rows:
            await self.get_session(session_id)
            return None
        row = result.rows[0]
        return StateSnapshot(session_id, int(row[0]), decode_payload(row[1]), str(row[2]))

    # -- Porter (imports) --------------------------------------------------------------

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
        """See :meth:`memory.protocol.Porter.append_imported`."""
        append = ImportedAppend(
            session_id, events, expect_last_seq, metadata_json, updated_at, create, tokens
        )
        stmts = append_plan(self.search_text_of, append)
        try:
            results = await self._batch(stmts)
        except QueryError as exc:
            if create is None or "UNIQUE constraint failed" not in str(exc.__cause__):
                raise
            raise ImportConflictError((session_id,)) from exc
        return check_append(append, results)

    # -- HealthProbe -------------------------------------------------------------------

    async def health(self) -> HealthReport:
        """See :meth:`memory.protocol.HealthProbe.health`."""
        file_size, wal_size = self._file_sizes()
        started = time.perf_counter()
        try:
            version = await self._execute("SELECT sqlite_version()")
            latency = (time.perf_counter() - started) * 1000
            tables_rs = await self._execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            tables = {str(row[0]) for row in tables_rs.rows}
            counts, applied = await read_counts_and_migrations(self._read_batch, tables)
        except MemoryLayerError as error:
            return HealthReport(
                mode=self.mode,
                location=self.where,
                reachable=False,
                latency_ms=None,
                engine_version=None,
                error=f"{error.title}: {error}",
                file_size=file_size,
                wal_size=wal_size,
            )
        journal: str | None = None
        try:
            result = await self._execute("PRAGMA journal_mode")
            journal = str(result.rows[0][0]) if result.rows else None
        except Exception:  # sqld may refuse PRAGMAs; the mode is then simply unknown
            journal = None
        return HealthReport(
            mode=self.mode,
            location=self.where,
            reachable=True,
            latency_ms=latency,
            engine_version=str(version.rows[0][0]),
            applied_migrations=applied,
            pending_migrations=tuple(m for m in self._migration_ids if m not in applied),
            row_counts=counts,
            journal_mode=journal,
            file_size=file_size,
            wal_size=wal_size,
        )

    def _file_sizes(self) -> tuple[int | None, int | None]:
        """Sizes of the database file and its WAL (``None`` when not a local file)."""
        if self._path is None:
            return None, None
        try:
            size: int | None = os.stat(self._path).st_size
        except OSError:
            size = None
        try:
            wal: int | None = os.stat(f"{self._path}-wal").st_size
        except OSError:
            wal = 0
        return size, wal

    async def integrity_check(self) -> list[str]:
        """See :meth:`memory.protocol.HealthProbe.integrity_check`."""
        result = await self._execute("PRAGMA integrity_check")
        return [str(row[0]) for row in result.rows]

    async def close(self) -> None:
        """Close the driver. Safe to call twice."""
        if not self._driver.closed:
            await self._driver.close()
