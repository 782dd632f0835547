"""The in-process backend used when memory is disabled; also the reference implementation.

It keeps everything in dictionaries for the life of the process and honours exactly
the same contract as :class:`~memory.sql.store.LibsqlMemory` (the contract tests run
against both). Payloads go through the same JSON encoding, so what would be refused by
the database is refused here too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from memory.bundle import (
    ImportOutcome,
    PortableEvent,
    PortableSession,
    PortableState,
    canonical_json,
    check_distinct_ids,
)
from memory.ephemeral.navigation import EphemeralNavigator
from memory.ephemeral.organize import EphemeralOrganizer
from memory.ephemeral.search import SearchMirror
from memory.ephemeral.session_text import EphemeralSessionText
from memory.ephemeral.vectors import EphemeralVectorIndex, EphemeralVectors
from memory.errors import ImportConflictError, NotFoundError
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
    TurnRef,
    bounded_title,
    check_new_session,
    check_session_id,
    check_text,
    check_title,
    decode_payload,
    encode_payload,
    format_ts,
    new_session_id,
    utc_now,
)
from memory.search_records import SETTLE_BATCH
from memory.sql.imported import check_contiguous
from memory.sql.search_statements import COMPLETE, SearchHit, SearchProgress, TextOf

__all__ = ["EphemeralMemory"]

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass
class _Session:
    info: SessionInfo
    events: list[Event] = field(default_factory=list)
    states: dict[int, StateSnapshot] = field(default_factory=dict)


class EphemeralMemory(
    EphemeralOrganizer, EphemeralVectorIndex, EphemeralNavigator, EphemeralSessionText
):
    """Memory that lives only as long as the process.

    Args:
        clock: returns the current time; tests freeze it.
    """

    mode = "disabled"
    where = "in-process memory (nothing is saved)"

    def __init__(self, *, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._sessions: dict[str, _Session] = {}
        self._save_points: dict[tuple[str, str], tuple[int, ...]] = {}
        self._lock = asyncio.Lock()
        self._closed = False
        self._search = SearchMirror()
        #: The semantic index (migration 0006 on the search mirror).
        self._vectors = EphemeralVectors(self._search.connection, self._payload_of)

    def _now(self) -> str:
        return format_ts(self._clock())

    def _payload_of(self, session_id: str, seq: int) -> str | None:
        session = self._sessions.get(session_id)
        if session is None:
            return None
        if 0 < seq <= len(session.events) and session.events[seq - 1].seq == seq:
            return session.events[seq - 1].payload_json
        found = [e.payload_json for e in session.events if e.seq == seq]
        return found[0] if found else None

    def _get(self, session_id: str) -> _Session:
        try:
            return self._sessions[session_id]
        except KeyError:
            raise NotFoundError(session_id) from None

    def _new_info(self, session_id: str, now: str) -> SessionInfo:
        return SessionInfo(session_id, None, None, None, None, now, now, 0, 0, 0, {})

    def _new_session(self, info: SessionInfo) -> _Session:
        return _Session(info)

    # -- IdempotentStore -----------------------------------------------------------------

    async def store_once(
        self, session_id: str, key: str, events: Sequence[EventDraft]
    ) -> list[int]:
        """See :meth:`memory.protocol.IdempotentStore.store_once`."""
        if not events:
            return []
        check_text(key, "save point key")
        done = self._save_points.get((session_id, key))
        if done is not None and session_id in self._sessions:
            return list(done)
        seqs = await self.store(session_id, events)
        self._save_points[(session_id, key)] = tuple(seqs)
        return seqs

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
        decoded_state = None if state is None else decode_payload(encode_payload(state))
        done = self._save_points.get((session_id, key))
        session = self._sessions.get(session_id)
        if done is not None and session is not None:
            return SaveResult(done, self._turn_of_seq(session, done[0]))
        number = 1
        if session is not None:
            if isinstance(turn, NewTurn):
                number = session.info.turns + 1
            else:
                check_text(turn.key, "save point key")
                earlier = self._save_points.get((session_id, turn.key))
                found = None if earlier is None else self._turn_of_seq(session, earlier[0])
                number = found if found else max(session.info.turns, 1)
        drafts = [replace(event, turn=number) for event in events]
        seqs = await self.store(session_id, drafts)
        self._save_points[(session_id, key)] = tuple(seqs)
        if decoded_state is not None:
            stored = self._sessions[session_id]
            stored.states = {
                seqs[-1]: StateSnapshot(session_id, seqs[-1], decoded_state, self._now())
            }
        return SaveResult(tuple(seqs), number)

    @staticmethod
    def _turn_of_seq(session: _Session, seq: int) -> int:
        for event in session.events:
            if event.seq == seq:
                return event.turn
        return 0

    # -- Memory ------------------------------------------------------------------------

    async def store(self, session_id: str, events: Sequence[EventDraft]) -> list[int]:
        """See :meth:`memory.protocol.Memory.store`."""
        if not events:
            return []
        check_session_id(session_id)
        encoded = [(e, encode_payload(e.payload), check_text(e.kind, "event kind")) for e in events]
        async with self._lock:
            now = self._now()
            session = self._sessions.get(session_id)
            if session is None:
                session = self._sessions[session_id] = _Session(self._new_info(session_id, now))
            first = session.info.last_seq + 1
            new = [
                Event(session_id, first + i, draft.turn, kind, payload, now)
                for i, (draft, payload, kind) in enumerate(encoded)
            ]
            session.events.extend(new)
            info = session.info
            counted = [e.tokens for e in events if e.tokens is not None]
            session.info = replace(
                info,
                last_seq=info.last_seq + len(new),
                events=info.events + len(new),
                turns=max(info.turns, max(e.turn for e in events)),
                updated_at=now,
                prompt_tokens=info.prompt_tokens + sum(t.prompt for t in counted),
                completion_tokens=info.completion_tokens + sum(t.completion for t in counted),
                tokens_estimated=info.tokens_estimated or any(t.estimated for t in counted),
            )
            self._search.upsert_session(session_id, info.title, now)
            self._search.add_events(new)
            return [e.seq for e in new]

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
        session = self._get(session_id)
        chosen = [e for e in session.events if e.seq > after and (before is None or e.seq < before)]
        if limit is not None:
            limit = max(0, limit)
            chosen = chosen[max(0, len(chosen) - limit) :] if newest and limit else chosen[:limit]
        return chosen

    async def forget(self, session_id: str) -> None:
        """See :meth:`memory.protocol.Memory.forget`."""
        async with self._lock:
            self._get(session_id)
            del self._sessions[session_id]
            self._search.forget(session_id)
            for stored in [k for k in self._save_points if k[0] == session_id]:
                del self._save_points[stored]

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
        meta = None if metadata is None else decode_payload(encode_payload(metadata))
        async with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                session = self._sessions[session_id] = _Session(
                    self._new_info(session_id, self._now())
                )
            info = session.info
            session.info = replace(
                info,
                title=title if title is not None else info.title,
                agent=agent if agent is not None else info.agent,
                provider=provider if provider is not None else info.provider,
                model=model if model is not None else info.model,
                metadata=meta if meta is not None else info.metadata,
            )
            self._search.upsert_session(session_id, session.info.title, session.info.updated_at)
            return session.info

    async def find_session(self, session_id: str) -> SessionInfo | None:
        """See :meth:`memory.protocol.SessionCatalog.find_session`."""
        session = self._sessions.get(session_id)
        return None if session is None else session.info

    async def get_session(self, session_id: str) -> SessionInfo:
        """See :meth:`memory.protocol.SessionCatalog.get_session`."""
        return self._get(session_id).info

    async def rename_session(self, session_id: str, title: str) -> SessionInfo:
        """See :meth:`memory.protocol.SessionCatalog.rename_session`."""
        check_title(title)
        async with self._lock:
            session = self._get(session_id)
            session.info = replace(session.info, title=title)
            self._search.upsert_session(session_id, title, session.info.updated_at)
            return session.info

    async def count_sessions(self, *, archived: bool | None = None) -> int:
        """See :meth:`memory.protocol.SessionCatalog.count_sessions`."""
        if archived is None:
            return len(self._sessions)
        return sum((s.info.archived_at is not None) is archived for s in self._sessions.values())

    # -- EventSearch -------------------------------------------------------------------

    async def search_events(
        self, query: str, *, limit: int = 20, session_id: str | None = None
    ) -> list[Event]:
        """See :meth:`memory.protocol.EventSearch.search_events`."""
        if not query.strip() or limit <= 0:
            return []
        check_text(query, "search text")
        # SQLite's LIKE folds ASCII letters only; the reference does exactly the same.
        needle = query.translate(_ASCII_LOWER)
        sessions = (
            list(self._sessions.values())
            if session_id is None
            else [s for s in (self._sessions.get(session_id),) if s is not None]
        )
        found = [
            event
            for session in sessions
            for event in session.events
            if event.kind in ("user", "assistant")
            and isinstance(content := event.payload.get("content"), str)
            and needle in content.translate(_ASCII_LOWER)
        ]
        found.sort(key=lambda e: (e.created_at, e.seq, e.session_id), reverse=True)
        return found[:limit]

    async def search(
        self,
        query: str,
        *,
        limit: int = 20,
        session_id: str | None = None,
        kinds: tuple[str, ...] = (),
        since: str | None = None,
    ) -> list[SearchHit]:
        """See :meth:`memory.protocol.EventSearch.search`."""
        async with self._lock:
            return self._search.search(
                query, limit=limit, session_id=session_id, kinds=kinds, since=since
            )

    async def search_progress(self) -> SearchProgress:
        """Everything is indexed as it is stored."""
        return COMPLETE

    async def settle_search(self, batch: int = SETTLE_BATCH) -> int:
        """Every row is indexed whole as it is saved here: nothing waits."""
        del batch
        return 0

    async def tidy_search(self, pages: int = 64) -> bool:
        """This index is one in-memory structure: nothing to merge."""
        del pages
        return False

    async def backfill_search(self, batch: int = 500) -> SearchProgress:
        """Nothing predates the index here."""
        del batch
        return COMPLETE

    def use_search_text(self, text_of: TextOf) -> None:
        """See :meth:`memory.protocol.EventSearch.use_search_text`."""
        self._search.text_of = text_of

    # -- StateStore --------------------------------------------------------------------

    async def save_state(self, session_id: str, state: Mapping[str, Any]) -> StateSnapshot:
        """See :meth:`memory.protocol.StateStore.save_state`."""
        decoded = decode_payload(encode_payload(state))
        async with self._lock:
            session = self._get(session_id)
            snapshot = StateSnapshot(session_id, session.info.last_seq, decoded, self._now())
            session.states[snapshot.seq] = snapshot
            return snapshot

    async def load_state(self, session_id: str) -> StateSnapshot | None:
        """See :meth:`memory.protocol.StateStore.load_state`."""
        session = self._get(session_id)
        if not session.states:
            return None
        return session.states[max(session.states)]

    # -- Porter ------------------------------------------------------------------------

    def _export(self, session: _Session) -> PortableSession:
        info = session.info
        return PortableSession(
            id=info.id,
            title=info.title,
            agent=info.agent,
            provider=info.provider,
            model=info.model,
            created_at=info.created_at,
            updated_at=info.updated_at,
            metadata_json=encode_payload(info.metadata),
            states=tuple(
                PortableState(seq, snap.created_at, encode_payload(snap.state))
                for seq, snap in sorted(session.states.items())
            ),
            events=tuple(
                PortableEvent(e.seq, e.turn, e.kind, e.created_at, canonical_json(e.payload_json))
                for e in session.events
            ),
            pinned_at=info.pinned_at,
            archived_at=info.archived_at,
            tags=info.tags,
            forked_from=info.forked_from,
            forked_at_seq=info.forked_at_seq,
            prompt_tokens=info.prompt_tokens,
            completion_tokens=info.completion_tokens,
            tokens_estimated=info.tokens_estimated,
        )

    async def export_sessions(
        self, session_ids: Sequence[str] | None = None
    ) -> AsyncIterator[PortableSession]:
        """See :meth:`memory.protocol.Porter.export_sessions`."""
        if session_ids is None:
            wanted = sorted(self._sessions)
        else:
            wanted = sorted(set(session_ids))
            for session_id in wanted:
                self._get(session_id)
        for session_id in wanted:
            session = self._sessions.get(session_id)
            if session is not None:
                yield self._export(session)
            elif session_ids is not None:
                raise NotFoundError(session_id)

    def _restore(self, portable: PortableSession) -> _Session:
        info = SessionInfo(
            id=portable.id,
            title=bounded_title(portable.title),
            agent=portable.agent,
            provider=portable.provider,
            model=portable.model,
            created_at=portable.created_at,
            updated_at=portable.updated_at,
            turns=portable.turns,
            events=len(portable.events),
            last_seq=portable.last_seq,
            metadata=decode_payload(portable.metadata_json),
            pinned_at=portable.pinned_at,
            archived_at=portable.archived_at,
            tags=portable.tags,
            forked_from=portable.forked_from,
            forked_at_seq=portable.forked_at_seq,
            prompt_tokens=portable.prompt_tokens,
            completion_tokens=portable.completion_tokens,
            tokens_estimated=portable.tokens_estimated,
        )
        return _Session(
            info,
            [
                Event(portable.id, e.seq, e.turn, e.kind, e.payload_json, e.created_at)
                for e in portable.events
            ],
            {
                s.seq: StateSnapshot(portable.id, s.seq, decode_payload(s.state_json), s.created_at)
                for s in portable.states
            },
        )

    async def import_sessions(
        self, sessions: Sequence[PortableSession], *, as_new: bool = False
    ) -> ImportOutcome:
        """See :meth:`memory.protocol.Porter.import_sessions`."""
        check_distinct_ids(sessions)
        async with self._lock:
            if as_new:
                to_write = [(s.id, s.with_id(new_session_id())) for s in sessions]
                unchanged: list[str] = []
            else:
                present = {
                    s.id: self._export(self._sessions[s.id])
                    for s in sessions
                    if s.id in self._sessions
                }
                conflicts = tuple(s.id for s in sessions if s.id in present and present[s.id] != s)
                if conflicts:
                    raise ImportConflictError(conflicts)
                unchanged = [s.id for s in sessions if s.id in present]
                to_write = [(s.id, s) for s in sessions if s.id not in present]
            restored = [self._restore(new) for _, new in to_write]
            for session in restored:
                self._sessions[session.info.id] = session
                info = session.info
                self._search.upsert_session(info.id, info.title, info.updated_at)
                self._search.add_events(session.events)
        return ImportOutcome(
            imported=tuple((old, new.id) for old, new in to_write),
            unchanged=tuple(unchanged),
            events=sum(len(new.events) for _, new in to_write),
        )

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
        check_contiguous(events, expect_last_seq)
        payloads = [canonical_json(e.payload_json) for e in events]
        for e in events:
            check_text(e.kind, "event kind")
        meta = None if metadata_json is None else decode_payload(canonical_json(metadata_json))
        async with self._lock:
            if create is not None:
                if session_id in self._sessions:
                    raise ImportConflictError((session_id,))
                header = create.with_id(session_id)
                self._sessions[session_id] = self._restore(replace(header, events=(), states=()))
            session = self._get(session_id)
            info = session.info
            if info.last_seq != expect_last_seq:
                raise ImportConflictError(
                    (session_id,), message=f"session {session_id!r} changed while it was imported"
                )
            appended = [
                Event(session_id, e.seq, e.turn, e.kind, text, e.created_at)
                for e, text in zip(events, payloads, strict=True)
            ]
            session.events.extend(appended)
            session.info = replace(
                info,
                last_seq=info.last_seq + len(events),
                events=info.events + len(events),
                turns=max([info.turns, *(e.turn for e in events)]),
                updated_at=updated_at if updated_at is not None else info.updated_at,
                metadata=meta if meta is not None else info.metadata,
                prompt_tokens=info.prompt_tokens + (tokens.prompt if tokens else 0),
                completion_tokens=info.completion_tokens + (tokens.completion if tokens else 0),
                tokens_estimated=info.tokens_estimated or bool(tokens and tokens.estimated),
            )
            # Imported events are found by search like any others.
            self._search.upsert_session(session_id, session.info.title, session.info.updated_at)
            self._search.add_events(appended)
            return session.info.last_seq

    # -- HealthProbe -------------------------------------------------------------------

    async def health(self) -> HealthReport:
        """See :meth:`memory.protocol.HealthProbe.health`."""
        return HealthReport(
            mode="disabled",
            location=self.where,
            reachable=True,
            latency_ms=0.0,
            engine_version=None,
            row_counts={
                "sessions": len(self._sessions),
                "conversation_events": sum(len(s.events) for s in self._sessions.values()),
                "session_state": sum(len(s.states) for s in self._sessions.values()),
            },
        )

    async def integrity_check(self) -> list[str]:
        """Nothing on disk to check."""
        return ["ok"]

    async def close(self) -> None:
        """Release the search mirror."""
        if not self._closed:
            self._search.close()
        self._closed = True
