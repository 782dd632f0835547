"""Organizing sessions through the runtime: pins, archive, tags, forks, pruning, usage rows.

A part of the :class:`~runtime.sessions.Sessions` facade (mixed in there), kept in its
own module so each file stays about one question. Front ends call these methods; only
the runtime calls the memory layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from memory import Event, SessionInfo, TokenCount
from runtime import payloads

if TYPE_CHECKING:
    from memory import MemoryBackend

__all__ = ["OrganizeSessions", "count_tokens_until"]

#: Events read per page while counting a fork's tokens.
_PAGE = 500


class OrganizeSessions:
    """Pins, archive, tags, forks, pruning and the rows ``turnkeep usage`` sums."""

    memory: MemoryBackend

    async def fork(
        self, source: SessionInfo, *, at: int | None = None, title: str | None = None
    ) -> SessionInfo:
        """Copy ``source``'s events ``1..at`` (default: all) into a new session.

        The token totals of a partial fork are counted here with the runtime's payload
        reader (the memory layer never reads payload keys).

        Raises:
            NotFoundError: the session does not exist.
            ForkPointError: ``at`` is below 1 or past the last event.
        """
        tokens = None
        if at is not None and 1 <= at < source.last_seq:
            tokens = await count_tokens_until(self.memory, source.id, at)
        return await self.memory.fork_session(source.id, at=at, title=title, tokens=tokens)

    async def set_pinned(self, session_id: str, pinned: bool) -> SessionInfo:
        """Pin or unpin a session (idempotent).

        Raises:
            NotFoundError: it does not exist.
        """
        return await self.memory.set_pinned(session_id, pinned)

    async def set_archived(self, session_id: str, archived: bool) -> SessionInfo:
        """Archive or restore a session (idempotent; archiving deletes nothing).

        Raises:
            NotFoundError: it does not exist.
        """
        return await self.memory.set_archived(session_id, archived)

    async def add_tags(self, session_id: str, tags: Sequence[str]) -> SessionInfo:
        """Add tags.

        Raises:
            NotFoundError: the session does not exist.
            SerializationError: a tag is invalid; no tag was added.
        """
        return await self.memory.add_tags(session_id, tags)

    async def remove_tags(self, session_id: str, tags: Sequence[str]) -> SessionInfo:
        """Remove tags (absent ones are ignored)."""
        return await self.memory.remove_tags(session_id, tags)

    async def retag(self, info: SessionInfo, tags: Sequence[str]) -> SessionInfo:
        """Give a session exactly ``tags``: removes the others, adds the new ones."""
        removed = [t for t in info.tags if t not in tags]
        added = [t for t in tags if t not in info.tags]
        changed = info
        if removed:
            changed = await self.memory.remove_tags(info.id, removed)
        if added:
            changed = await self.memory.add_tags(info.id, added)
        return changed

    async def all_tags(self) -> list[tuple[str, int]]:
        """Every tag in use with its number of sessions, by tag."""
        return await self.memory.all_tags()

    async def prune_candidates(
        self, *, empty: bool = False, older_than: str | None = None, archived: bool = False
    ) -> list[SessionInfo]:
        """Unpinned sessions matching every given criterion, oldest activity first."""
        return await self.memory.prune_candidates(
            empty=empty, older_than=older_than, archived=archived
        )

    async def prune(self, plan: Sequence[SessionInfo]) -> list[str]:
        """Delete the planned sessions that did not change since the plan; their ids."""
        return await self.memory.prune_sessions(plan)

    async def assistant_events(
        self, *, since: str | None = None, after: tuple[str, str, int] | None = None, limit: int
    ) -> list[tuple[Event, str | None, str | None]]:
        """Assistant events with their session's provider and model, oldest first
        (keyset-paged on ``(created_at, session_id, seq)``), for ``turnkeep usage``."""
        return await self.memory.assistant_events(since=since, after=after, limit=limit)


async def count_tokens_until(memory: MemoryBackend, session_id: str, at: int) -> TokenCount:
    """The token totals of a session's assistant events ``1..at``, read with the runtime's
    payload reader (the memory layer never reads payload keys)."""
    total = payloads.Usage()
    after = 0
    while after < at:
        events = await memory.recall(session_id, after=after, before=at + 1, limit=_PAGE)
        if not events:
            break
        answers = (event.payload for event in events if event.kind == "assistant")
        total = payloads.summed_usage(answers, total)
        after = events[-1].seq
    return TokenCount(total.prompt, total.completion, total.estimated)
