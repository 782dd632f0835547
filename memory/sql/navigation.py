"""Navigation lookups on the libSQL backend (mixed into :class:`~memory.sql.store.LibsqlMemory`).

Each lookup is one statement on an index: the partial user-message indexes of migration
0006 for turns and user messages, the primary key of ``sessions`` for id prefixes.
"""

from __future__ import annotations

from typing import Any

from memory.navigation import prefix_upper_bound

__all__ = [
    "ID_PREFIX_SQL",
    "NEXT_USER_SQL",
    "PREVIOUS_USER_SQL",
    "TURN_START_SQL",
    "LibsqlNavigator",
]

_USERS = "SELECT seq FROM conversation_events INDEXED BY conversation_events_user_{} "
#: ``seq`` of the user message starting the first turn ``>= ?`` (args: session, turn).
TURN_START_SQL = (
    _USERS.format("turn")
    + "WHERE session_id = ? AND kind = 'user' AND turn >= ? ORDER BY turn, seq LIMIT 1"
)
#: The first user message after a seq (args: session, seq).
NEXT_USER_SQL = (
    _USERS.format("seq") + "WHERE session_id = ? AND kind = 'user' AND seq > ? ORDER BY seq LIMIT 1"
)
#: The last user message before a seq (args: session, seq).
PREVIOUS_USER_SQL = (
    _USERS.format("seq")
    + "WHERE session_id = ? AND kind = 'user' AND seq < ? ORDER BY seq DESC LIMIT 1"
)
#: Session ids in a half-open range (args: low, high, limit).
ID_PREFIX_SQL = "SELECT id FROM sessions WHERE id >= ? AND id < ? ORDER BY id LIMIT ?"


class LibsqlNavigator:
    """The :class:`~memory.navigation.EventNavigator` capability, in SQL."""

    async def _rows(self, sql: str, args: list[Any]) -> list[tuple[Any, ...]]:
        raise NotImplementedError  # provided by LibsqlMemory

    async def get_session(self, session_id: str) -> Any:
        raise NotImplementedError  # provided by LibsqlMemory

    async def _one_seq(self, session_id: str, sql: str, args: list[Any]) -> int | None:
        rows = await self._rows(sql, args)
        if rows:
            return int(rows[0][0])
        await self.get_session(session_id)  # raises NotFoundError for unknown sessions
        return None

    async def turn_start_seq(self, session_id: str, turn: int) -> int | None:
        """See :meth:`memory.navigation.EventNavigator.turn_start_seq`."""
        return await self._one_seq(session_id, TURN_START_SQL, [session_id, turn])

    async def user_message_seq(
        self, session_id: str, *, after: int | None = None, before: int | None = None
    ) -> int | None:
        """See :meth:`memory.navigation.EventNavigator.user_message_seq`."""
        if (after is None) == (before is None):
            raise ValueError("give exactly one of after and before")
        if after is not None:
            return await self._one_seq(session_id, NEXT_USER_SQL, [session_id, after])
        return await self._one_seq(session_id, PREVIOUS_USER_SQL, [session_id, before])

    async def session_ids_with_prefix(self, prefix: str, limit: int) -> list[str]:
        """See :meth:`memory.navigation.EventNavigator.session_ids_with_prefix`."""
        bounds = [prefix, prefix_upper_bound(prefix), max(0, limit)]
        rows = await self._rows(ID_PREFIX_SQL, bounds)
        return [str(row[0]) for row in rows]
