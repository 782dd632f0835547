"""Export and import for the libSQL backend (mixed into :class:`~memory.sql.store.LibsqlMemory`).

Reads take each group of sessions in one batch, so every exported session is a
consistent snapshot (its state snapshots never point past its events) even while
another process writes. An import is one batch: one transaction, one round trip
remotely, so a failure writes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, Final

from memory.bundle import (
    ImportOutcome,
    PortableEvent,
    PortableSession,
    PortableState,
    canonical_json,
    check_distinct_ids,
)
from memory.drivers.base import Result, Statement
from memory.errors import ImportConflictError, NotFoundError, QueryError
from memory.records import bounded_title, new_session_id

__all__ = ["LibsqlPorter"]

#: Sessions listed per query while exporting everything.
_ID_PAGE: Final = 200
#: Roughly how many events one export batch reads (at least one whole session).
_EVENTS_PER_READ: Final = 5000
#: Rows per multi-row INSERT (6 parameters each, well under SQLite's variable limit).
_ROWS_PER_INSERT: Final = 100


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _groups(id_counts: Sequence[tuple[str, int]]) -> Iterator[list[str]]:
    """Split ids into groups of about :data:`_EVENTS_PER_READ` events (never empty)."""
    group: list[str] = []
    events = 0
    for session_id, count in id_counts:
        if group and (events + count > _EVENTS_PER_READ or len(group) >= _ID_PAGE):
            yield group
            group, events = [], 0
        group.append(session_id)
        events += count
    if group:
        yield group


def _is_unique_violation(exc: BaseException | None) -> bool:
    code = str(getattr(exc, "code", "") or getattr(exc, "sqlite_errorname", ""))
    return "UNIQUE constraint failed" in str(exc) or code.startswith("SQLITE_CONSTRAINT_PRIMARY")


def _insert_statements(session: PortableSession) -> list[tuple[str, list[Any]]]:
    stmts: list[tuple[str, list[Any]]] = [
        (
            "INSERT INTO sessions (id, title, agent, provider, model, created_at, updated_at, "
            "last_seq, event_count, turn_count, metadata, pinned_at, archived_at, forked_from, "
            "forked_at_seq, prompt_tokens, completion_tokens, tokens_estimated, tags) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                session.id,
                bounded_title(session.title),
                session.agent,
                session.provider,
                session.model,
                session.created_at,
                session.updated_at,
                session.last_seq,
                len(session.events),
                session.turns,
                session.metadata_json,
                session.pinned_at,
                session.archived_at,
                session.forked_from,
                session.forked_at_seq,
                session.prompt_tokens,
                session.completion_tokens,
                int(session.tokens_estimated),
                "\x1f".join(session.tags) or None,
            ],
        )
    ]
    if session.tags:
        stmts.append(
            (
                "INSERT INTO session_tags (session_id, tag) VALUES "
                + ", ".join(["(?, ?)"] * len(session.tags)),
                [value for tag in session.tags for value in (session.id, tag)],
            )
        )
    events = session.events
    # Only two statement shapes: full chunks of _ROWS_PER_INSERT rows, then single rows.
    # sqlite3 caches each distinct statement and SQLite keeps the values last bound to
    # it, so chunks of every size would keep a payload batch alive per size.
    full = len(events) - len(events) % _ROWS_PER_INSERT
    chunks = [events[i : i + _ROWS_PER_INSERT] for i in range(0, full, _ROWS_PER_INSERT)]
    chunks += [events[i : i + 1] for i in range(full, len(events))]
    for chunk in chunks:
        args: list[Any] = []
        for e in chunk:
            args.extend((session.id, e.seq, e.turn, e.kind, e.payload_json, e.created_at))
        rows = ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(chunk))
        stmts.append(
            (
                "INSERT INTO conversation_events (session_id, seq, turn, kind, payload, "
                f"created_at) VALUES {rows}",
                args,
            )
        )
    if session.states:
        args = []
        for s in session.states:
            args.extend((session.id, s.seq, s.state_json, s.created_at))
        rows = ", ".join(["(?, ?, ?, ?)"] * len(session.states))
        stmts.append(
            (
                f"INSERT INTO session_state (session_id, seq, state, created_at) VALUES {rows}",
                args,
            )
        )
    return stmts


class LibsqlPorter:
    """The :class:`~memory.protocol.Porter` capability, written once for both modes."""

    where: str

    async def _execute(self, sql: str, args: Sequence[Any] = ()) -> Result:
        raise NotImplementedError  # provided by LibsqlMemory

    async def _batch(self, stmts: Sequence[Statement]) -> list[Result]:
        raise NotImplementedError  # provided by LibsqlMemory

    async def _read_batch(self, stmts: Sequence[Statement]) -> list[Result]:
        raise NotImplementedError  # provided by LibsqlMemory

    def _search_index_statements(self, session: PortableSession) -> list[tuple[str, list[Any]]]:
        """Statements that index an imported session (the search index adds them)."""
        del session
        return []

    async def _read_group(self, ids: list[str]) -> dict[str, PortableSession]:
        """Read whole sessions in one batch (one consistent snapshot)."""
        marks = _marks(len(ids))
        sessions_rs, events_rs, states_rs = await self._read_batch(
            [
                (
                    "SELECT id, title, agent, provider, model, created_at, updated_at, metadata, "
                    "pinned_at, archived_at, forked_from, forked_at_seq, prompt_tokens, "
                    "completion_tokens, tokens_estimated, tags "
                    f"FROM sessions WHERE id IN ({marks})",
                    list(ids),
                ),
                (
                    "SELECT session_id, seq, turn, kind, payload, created_at "
                    f"FROM conversation_events WHERE session_id IN ({marks}) "
                    "ORDER BY session_id, seq",
                    list(ids),
                ),
                (
                    "SELECT session_id, seq, state, created_at FROM session_state "
                    f"WHERE session_id IN ({marks}) ORDER BY session_id, seq",
                    list(ids),
                ),
            ]
        )
        events: dict[str, list[PortableEvent]] = {}
        for r in events_rs.rows:
            events.setdefault(str(r[0]), []).append(
                PortableEvent(
                    seq=int(r[1]),
                    turn=int(r[2]),
                    kind=str(r[3]),
                    created_at=str(r[5]),
                    payload_json=canonical_json(r[4]),
                )
            )
        states: dict[str, list[PortableState]] = {}
        for r in states_rs.rows:
            states.setdefault(str(r[0]), []).append(
                PortableState(
                    seq=int(r[1]),
                    created_at=str(r[3]),
                    state_json=canonical_json(r[2]),
                )
            )
        found: dict[str, PortableSession] = {}
        for r in sessions_rs.rows:
            session_id = str(r[0])
            found[session_id] = PortableSession(
                id=session_id,
                title=None if r[1] is None else str(r[1]),
                agent=None if r[2] is None else str(r[2]),
                provider=None if r[3] is None else str(r[3]),
                model=None if r[4] is None else str(r[4]),
                created_at=str(r[5]),
                updated_at=str(r[6]),
                metadata_json=canonical_json(r[7]),
                states=tuple(states.get(session_id, ())),
                events=tuple(events.get(session_id, ())),
                pinned_at=None if r[8] is None else str(r[8]),
                archived_at=None if r[9] is None else str(r[9]),
                tags=tuple(sorted(str(r[15]).split("\x1f"))) if r[15] else (),
                forked_from=None if r[10] is None else str(r[10]),
                forked_at_seq=None if r[11] is None else int(r[11]),
                prompt_tokens=int(r[12] or 0),
                completion_tokens=int(r[13] or 0),
                tokens_estimated=bool(r[14]),
            )
        return found

    async def _event_counts(self, ids: Sequence[str]) -> dict[str, int]:
        """``{id: event_count}`` for those of ``ids`` that exist."""
        counts: dict[str, int] = {}
        for start in range(0, len(ids), _ID_PAGE):
            chunk = list(ids[start : start + _ID_PAGE])
            result = await self._execute(
                f"SELECT id, event_count FROM sessions WHERE id IN ({_marks(len(chunk))})", chunk
            )
            counts.update((str(r[0]), int(r[1])) for r in result.rows)
        return counts

    async def export_sessions(
        self, session_ids: Sequence[str] | None = None
    ) -> AsyncIterator[PortableSession]:
        """See :meth:`memory.protocol.Porter.export_sessions`."""
        if session_ids is not None:
            wanted = sorted(set(session_ids))
            counts = await self._event_counts(wanted)
            for session_id in wanted:
                if session_id not in counts:
                    raise NotFoundError(session_id)
            for group in _groups([(i, counts[i]) for i in wanted]):
                found = await self._read_group(group)
                for session_id in group:
                    if session_id not in found:  # forgotten since we looked
                        raise NotFoundError(session_id)
                    yield found[session_id]
            return
        after: str | None = None
        while True:
            if after is None:
                page = await self._execute(
                    "SELECT id, event_count FROM sessions ORDER BY id LIMIT ?", [_ID_PAGE]
                )
            else:
                page = await self._execute(
                    "SELECT id, event_count FROM sessions WHERE id > ? ORDER BY id LIMIT ?",
                    [after, _ID_PAGE],
                )
            id_counts = [(str(r[0]), int(r[1])) for r in page.rows]
            if not id_counts:
                return
            for group in _groups(id_counts):
                found = await self._read_group(group)
                for session_id in group:
                    if session_id in found:  # one forgotten meanwhile is simply not exported
                        yield found[session_id]
            after = id_counts[-1][0]

    async def import_sessions(
        self, sessions: Sequence[PortableSession], *, as_new: bool = False
    ) -> ImportOutcome:
        """See :meth:`memory.protocol.Porter.import_sessions`."""
        ids = check_distinct_ids(sessions)
        unchanged: list[str] = []
        to_write: list[tuple[str, PortableSession]] = []
        if as_new:
            to_write = [(s.id, s.with_id(new_session_id())) for s in sessions]
        else:
            counts = await self._event_counts(ids)
            existing: dict[str, PortableSession] = {}
            for group in _groups([(i, counts[i]) for i in ids if i in counts]):
                existing.update(await self._read_group(group))
            conflicts = tuple(s.id for s in sessions if s.id in existing and existing[s.id] != s)
            if conflicts:
                raise ImportConflictError(conflicts)
            for session in sessions:
                if session.id in existing:
                    unchanged.append(session.id)
                else:
                    to_write.append((session.id, session))
        stmts = [
            stmt
            for _, session in to_write
            for stmt in (*_insert_statements(session), *self._search_index_statements(session))
        ]
        if stmts:
            try:
                await self._batch(stmts)
            except QueryError as exc:
                if not _is_unique_violation(exc.__cause__):
                    raise
                raise ImportConflictError(
                    tuple(new.id for _, new in to_write),
                    message="another process created one of the imported sessions meanwhile",
                ) from exc
        return ImportOutcome(
            imported=tuple((old, new.id) for old, new in to_write),
            unchanged=tuple(unchanged),
            events=sum(len(new.events) for _, new in to_write),
        )
