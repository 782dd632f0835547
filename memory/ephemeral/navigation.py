"""Navigation lookups on the in-process backend (the reference for the SQL one)."""

from __future__ import annotations

from typing import Any

__all__ = ["EphemeralNavigator"]


class EphemeralNavigator:
    """The :class:`~memory.navigation.EventNavigator` capability, over the event lists."""

    _sessions: dict[str, Any]

    def _get(self, session_id: str) -> Any:
        raise NotImplementedError  # provided by EphemeralMemory

    async def turn_start_seq(self, session_id: str, turn: int) -> int | None:
        """See :meth:`memory.navigation.EventNavigator.turn_start_seq`."""
        users = [e for e in self._get(session_id).events if e.kind == "user" and e.turn >= turn]
        return min(users, key=lambda e: (e.turn, e.seq)).seq if users else None

    async def user_message_seq(
        self, session_id: str, *, after: int | None = None, before: int | None = None
    ) -> int | None:
        """See :meth:`memory.navigation.EventNavigator.user_message_seq`."""
        if (after is None) == (before is None):
            raise ValueError("give exactly one of after and before")
        seqs = [e.seq for e in self._get(session_id).events if e.kind == "user"]
        if after is not None:
            return min((s for s in seqs if s > after), default=None)
        assert before is not None
        return max((s for s in seqs if s < before), default=None)

    async def session_ids_with_prefix(self, prefix: str, limit: int) -> list[str]:
        """See :meth:`memory.navigation.EventNavigator.session_ids_with_prefix`."""
        return sorted(i for i in self._sessions if i.startswith(prefix))[: max(0, limit)]
