"""The in-process backend used when memory is disabled; also the reference implementation.

It keeps everything in dictionaries for the life of the process and honours exactly
the same contract as :class:`~memory.libsql.LibsqlMemory` (the contract tests run
against both). Payloads go through the same JSON encoding, so what would be refused by
the database is refused here too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from memory.errors import NotFoundError
from memory.libsql import Clock, utc_now
from memory.protocol import HealthReport
from memory.records import (
    Event,
    EventDraft,
    SessionInfo,
    SessionPage,
    StateSnapshot,
    check_text,
    decode_payload,
    encode_payload,
    format_ts,
)

__all__ = ["EphemeralMemory"]


@dataclass
class _Session:
    info: SessionInfo
    events: list[Event] = field(default_factory=list)
    states: dict[int, StateSnapshot] = field(default_factory=dict)


class EphemeralMemory:
    """Memory that lives only as long as the process.

    Args:
        clock: returns the current time; tests freeze it.
    """

    mode = "disabled"
    where = "in-process memory (nothing is saved)"

    def __init__(self, *, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._sessions: dict[str, _Session] = {}
        self._lock = asyncio.Lock()
        self._closed = False

    def _now(self) -> str:
        return format_ts(self._clock())

    def _get(self, session_id: str) -> _Session:
        try:
            return self._sessions[session_id]
        except KeyError:
            raise NotFoundError(session_id) from None

    def _new_info(self, session_id: str, now: str) -> SessionInfo:
        return SessionInfo(session_id, None, None, None, None, now, now, 0, 0, 0, {})

    # -- Memory ------------------------------------------------------------------------

    async def store(self, session_id: str, events: Sequence[EventDraft]) -> list[int]:
        """See :meth:`memory.protocol.Memory.store`."""
        if not events:
            return []
        check_text(session_id, "session id")
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
            session.info = replace(
                info,
                last_seq=info.last_seq + len(new),
                events=info.events + len(new),
                turns=max(info.turns, max(e.turn for e in events)),
                updated_at=now,
            )
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
            chosen = chosen[len(chosen) - limit :] if newest and limit else chosen[:limit]
        return chosen

    async def forget(self, session_id: str) -> None:
        """See :meth:`memory.protocol.Memory.forget`."""
        async with self._lock:
            self._get(session_id)
            del self._sessions[session_id]

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
        for value, what in ((session_id, "session id"), (title, "title"), (agent, "agent")):
            if value is not None:
                check_text(value, what)
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
            return session.info

    async def find_session(self, session_id: str) -> SessionInfo | None:
        """See :meth:`memory.protocol.SessionCatalog.find_session`."""
        session = self._sessions.get(session_id)
        return None if session is None else session.info

    async def get_session(self, session_id: str) -> SessionInfo:
        """See :meth:`memory.protocol.SessionCatalog.get_session`."""
        return self._get(session_id).info

    async def list_sessions(
        self,
        *,
        limit: int = 50,
        after: tuple[str, str] | None = None,
        title_filter: str | None = None,
    ) -> SessionPage:
        """See :meth:`memory.protocol.SessionCatalog.list_sessions`."""
        infos = sorted(
            (s.info for s in self._sessions.values()),
            key=lambda i: (i.updated_at, i.id),
            reverse=True,
        )
        if after is not None:
            infos = [i for i in infos if (i.updated_at, i.id) < after]
        if title_filter:
            needle = title_filter.casefold()
            infos = [i for i in infos if i.title is not None and needle in i.title.casefold()]
        page = tuple(infos[: max(0, limit)])
        cursor = (page[-1].updated_at, page[-1].id) if page and len(page) == limit else None
        return SessionPage(sessions=page, cursor=cursor)

    async def rename_session(self, session_id: str, title: str) -> SessionInfo:
        """See :meth:`memory.protocol.SessionCatalog.rename_session`."""
        check_text(title, "title")
        async with self._lock:
            session = self._get(session_id)
            session.info = replace(session.info, title=title)
            return session.info

    async def count_sessions(self) -> int:
        """See :meth:`memory.protocol.SessionCatalog.count_sessions`."""
        return len(self._sessions)

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
        """Nothing to release."""
        self._closed = True
