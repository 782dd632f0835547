"""Organizing sessions in the in-process backend (mixed into ``EphemeralMemory``).

The reference for :mod:`memory.sql.organize`: same ordering, same cursors, same errors,
same refusals before any change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

from memory.ephemeral.search import SearchMirror
from memory.records import (
    Event,
    SessionInfo,
    SessionPage,
    StateSnapshot,
    TokenCount,
    bounded_title,
)
from memory.sql.organize import (
    PINNED_CURSOR,
    ForkPointError,
    check_tags,
    fork_request,
    removable_tags,
)

__all__ = ["EphemeralOrganizer"]


def _source_tool(metadata: Mapping[str, Any]) -> Any:
    source = metadata.get("source")
    return source.get("tool") if isinstance(source, Mapping) else None


class _Held(Protocol):
    info: SessionInfo
    events: list[Event]
    states: dict[int, StateSnapshot]


def _key(info: SessionInfo) -> tuple[str, str]:
    return (info.updated_at, info.id)


class EphemeralOrganizer:
    """The :class:`~memory.protocol.SessionOrganizer` capability, in dictionaries."""

    _sessions: dict[str, Any]
    _save_points: dict[tuple[str, str], tuple[int, ...]]
    _lock: asyncio.Lock
    _search: SearchMirror

    def _now(self) -> str:
        raise NotImplementedError  # provided by EphemeralMemory

    def _get(self, session_id: str) -> Any:
        raise NotImplementedError  # provided by EphemeralMemory

    def _new_session(self, info: SessionInfo) -> Any:
        raise NotImplementedError  # provided by EphemeralMemory

    async def list_sessions(
        self,
        *,
        limit: int = 50,
        after: tuple[str, str] | None = None,
        title_filter: str | None = None,
        archived: bool = False,
        tags: Sequence[str] = (),
        pinned_first: bool = False,
        source: str | None = None,
    ) -> SessionPage:
        """See :meth:`memory.protocol.SessionCatalog.list_sessions`."""
        limit = max(0, limit)
        wanted = {t.strip() for t in tags}
        needle = title_filter.casefold() if title_filter else None
        infos = [
            s.info
            for s in self._sessions.values()
            if s.info.archived == archived
            and wanted.issubset(s.info.tags)
            and (needle is None or (s.info.title is not None and needle in s.info.title.casefold()))
            and (source is None or _source_tool(s.info.metadata) == source)
        ]
        infos.sort(key=_key, reverse=True)
        if archived or not pinned_first:
            if after is not None:
                infos = [i for i in infos if _key(i) < after]
            page = tuple(infos[:limit])
            cursor = _key(page[-1]) if page and len(page) == limit else None
            return SessionPage(page, cursor)
        pins = [i for i in infos if i.pinned]
        rest = [i for i in infos if not i.pinned]
        if after is None:
            chosen = pins + rest
        elif after[0].startswith(PINNED_CURSOR):
            mark = (after[0][len(PINNED_CURSOR) :], after[1])
            chosen = [i for i in pins if _key(i) < mark] + rest
        else:
            chosen = [i for i in rest if _key(i) < after]
        page = tuple(chosen[:limit])
        if not page or len(page) < limit:
            return SessionPage(page, None)
        last = page[-1]
        prefix = PINNED_CURSOR if last.pinned else ""
        return SessionPage(page, (prefix + last.updated_at, last.id))

    async def _change(self, session_id: str, **fields: Any) -> SessionInfo:
        async with self._lock:
            session = self._get(session_id)
            session.info = replace(session.info, **fields)
            info: SessionInfo = session.info
            return info

    async def set_pinned(self, session_id: str, pinned: bool) -> SessionInfo:
        """See :meth:`memory.protocol.SessionOrganizer.set_pinned`."""
        info = self._get(session_id).info
        stamp = (info.pinned_at or self._now()) if pinned else None
        return await self._change(session_id, pinned_at=stamp)

    async def set_archived(self, session_id: str, archived: bool) -> SessionInfo:
        """See :meth:`memory.protocol.SessionOrganizer.set_archived`."""
        info = self._get(session_id).info
        stamp = (info.archived_at or self._now()) if archived else None
        return await self._change(session_id, archived_at=stamp)

    async def add_tags(self, session_id: str, tags: Sequence[str]) -> SessionInfo:
        """See :meth:`memory.protocol.SessionOrganizer.add_tags`."""
        clean = check_tags(tags)
        current = self._get(session_id).info.tags
        return await self._change(session_id, tags=tuple(sorted({*current, *clean})))

    async def remove_tags(self, session_id: str, tags: Sequence[str]) -> SessionInfo:
        """See :meth:`memory.protocol.SessionOrganizer.remove_tags`."""
        clean = set(removable_tags(tags))
        current = self._get(session_id).info.tags
        return await self._change(session_id, tags=tuple(t for t in current if t not in clean))

    async def all_tags(self) -> list[tuple[str, int]]:
        """See :meth:`memory.protocol.SessionOrganizer.all_tags`."""
        counts: dict[str, int] = {}
        for session in self._sessions.values():
            for tag in session.info.tags:
                counts[tag] = counts.get(tag, 0) + 1
        return sorted(counts.items())

    async def fork_session(
        self,
        session_id: str,
        *,
        at: int | None = None,
        title: str | None = None,
        tokens: TokenCount | None = None,
        new_id: str | None = None,
    ) -> SessionInfo:
        """See :meth:`memory.protocol.SessionOrganizer.fork_session`."""
        fork_id = fork_request(at, title, new_id)
        async with self._lock:
            source = self._get(session_id)
            src: SessionInfo = source.info
            point = src.last_seq if at is None else at
            if point > src.last_seq:
                last = src.last_seq
                raise ForkPointError(
                    f"cannot fork session {session_id} at seq {at}: it has {last} event"
                    f"{'s' if last != 1 else ''}",
                    hint=f"Give --at a seq from 1 to {last}." if last else "It has no events yet.",
                )
            now = self._now()
            events = [
                Event(fork_id, e.seq, e.turn, e.kind, e.payload_json, e.created_at)
                for e in source.events
                if e.seq <= point
            ]
            counted = tokens or TokenCount(
                src.prompt_tokens, src.completion_tokens, src.tokens_estimated
            )
            info = SessionInfo(
                fork_id,
                title if title is not None else bounded_title(f"Fork of {src.title or src.id}"),
                src.agent,
                src.provider,
                src.model,
                now,
                now,
                max((e.turn for e in events), default=0),
                len(events),
                events[-1].seq if events else 0,
                # Turnkeep's own session: no import ``source`` (as in SQL).
                {k: v for k, v in src.metadata.items() if k != "source"},
                forked_from=src.id,
                forked_at_seq=point,
                prompt_tokens=counted.prompt,
                completion_tokens=counted.completion,
                tokens_estimated=counted.estimated,
            )
            fork = self._new_session(info)
            fork.events = events
            fork.states = {
                seq: StateSnapshot(fork_id, seq, snap.state, snap.created_at)
                for seq, snap in source.states.items()
                if seq <= point
            }
            self._sessions[fork_id] = fork
            # Forked events are found by search like any others (as in the SQL backends).
            self._search.upsert_session(fork_id, info.title, info.updated_at)
            self._search.add_events(events)
            return info

    async def assistant_events(
        self, *, since: str | None = None, after: tuple[str, str, int] | None = None, limit: int
    ) -> list[tuple[Event, str | None, str | None]]:
        """See :meth:`memory.protocol.SessionOrganizer.assistant_events`."""
        found = [
            (e, s.info.provider, s.info.model)
            for s in self._sessions.values()
            for e in s.events
            if e.kind == "assistant"
            # A fork's copies of its source's events are not new answers (as in SQL).
            and (s.info.forked_from is None or e.seq > (s.info.forked_at_seq or 0))
            and (since is None or e.created_at >= since)
            and (after is None or (e.created_at, e.session_id, e.seq) > after)
        ]
        found.sort(key=lambda item: (item[0].created_at, item[0].session_id, item[0].seq))
        return found[: max(0, limit)]

    async def prune_candidates(
        self, *, empty: bool = False, older_than: str | None = None, archived: bool = False
    ) -> list[SessionInfo]:
        """See :meth:`memory.protocol.SessionOrganizer.prune_candidates`."""
        chosen = [
            s.info
            for s in self._sessions.values()
            if not s.info.pinned
            and (not empty or s.info.events == 0)
            and (older_than is None or s.info.updated_at < older_than)
            and (not archived or s.info.archived)
        ]
        return sorted(chosen, key=_key)

    async def forget_many(self, session_ids: Sequence[str]) -> int:
        """See :meth:`memory.protocol.SessionOrganizer.forget_many`."""
        removed = 0
        async with self._lock:
            for session_id in dict.fromkeys(session_ids):
                if self._sessions.pop(session_id, None) is not None:
                    removed += 1
                    self._search.forget(session_id)
                for stored in [k for k in self._save_points if k[0] == session_id]:
                    del self._save_points[stored]
        return removed

    async def prune_sessions(self, plan: Sequence[SessionInfo]) -> list[str]:
        """See :meth:`memory.protocol.SessionOrganizer.prune_sessions`."""
        async with self._lock:
            unchanged = [
                info.id
                for info in {i.id: i for i in plan}.values()
                if (held := self._sessions.get(info.id)) is not None
                and not held.info.pinned
                and (held.info.updated_at, held.info.last_seq) == (info.updated_at, info.last_seq)
            ]
        await self.forget_many(unchanged)
        return unchanged
