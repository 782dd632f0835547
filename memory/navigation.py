"""Finding places in long sessions and sessions by id prefix: the protocol.

A session of 50,000 events is never walked to reach its start, turn N or the next user
message: each question is one indexed lookup (migration 0006 indexes user messages by
``seq`` and by ``turn``), answered with a ``seq`` the reader's window is then loaded
around. Session ids are found by prefix with one range query on the primary key.

Implemented by :class:`memory.sql.navigation.LibsqlNavigator` and
:class:`memory.ephemeral.navigation.EphemeralNavigator`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["EventNavigator", "prefix_upper_bound"]

#: The highest code point: ``prefix + MAX_CHAR`` sorts after every id starting with prefix.
MAX_CHAR = "\U0010ffff"


def prefix_upper_bound(prefix: str) -> str:
    """The exclusive upper bound of ids starting with ``prefix`` (binary collation)."""
    return prefix + MAX_CHAR


@runtime_checkable
class EventNavigator(Protocol):
    """Indexed lookups for moving through a session and naming one by prefix."""

    async def turn_start_seq(self, session_id: str, turn: int) -> int | None:
        """``seq`` of the user message that starts turn ``turn``.

        A turn without a user message (an import may have one) counts as missing: the
        first user message of a later turn is returned.

        Returns:
            The ``seq``, or ``None`` when no turn ``>= turn`` has a user message.

        Raises:
            NotFoundError: the session does not exist.
        """
        ...

    async def user_message_seq(
        self, session_id: str, *, after: int | None = None, before: int | None = None
    ) -> int | None:
        """``seq`` of the first user message after ``after`` or the last one before ``before``.

        Exactly one of ``after`` and ``before`` is given.

        Returns:
            The ``seq``, or ``None`` when there is no such user message.

        Raises:
            ValueError: both or neither of ``after`` and ``before`` were given.
            NotFoundError: the session does not exist.
        """
        ...

    async def session_ids_with_prefix(self, prefix: str, limit: int) -> list[str]:
        """Up to ``limit`` session ids that start with ``prefix``, in id order.

        One range query on the primary key (``id >= prefix AND id < prefix || U+10FFFF``).
        """
        ...
