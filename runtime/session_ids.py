"""Naming a session by a unique prefix of its id: the one place ids are resolved.

Every front end accepts the start of an id wherever it takes one (``turnkeep sessions
show 019a3c``, ``--resume 019a``, the TUI's id fields). An exact id always wins; a prefix
must match exactly one session. Resolution is one range query on the sessions' primary
key (:meth:`memory.navigation.EventNavigator.session_ids_with_prefix`), never a scan.
"""

from __future__ import annotations

from collections.abc import Sequence

from memory import MemoryBackend, NotFoundError
from runtime.errors import RuntimeLayerError

__all__ = [
    "CANDIDATES_SHOWN",
    "AmbiguousSessionIdError",
    "EmptySessionIdError",
    "resolve_session_id",
]

#: How many matching ids an ambiguity error lists.
CANDIDATES_SHOWN = 5


class EmptySessionIdError(RuntimeLayerError):
    """A blank session id was given."""

    title = "No session id"
    default_hint = "List sessions with `turnkeep sessions list`."


class AmbiguousSessionIdError(RuntimeLayerError):
    """A prefix matches more than one session.

    Attributes:
        prefix: what was typed.
        candidates: some of the matching ids, in id order (at most :data:`CANDIDATES_SHOWN`).
        more: more sessions match than are listed.
    """

    title = "Ambiguous session id"
    default_hint = "Type more characters of the id (see `turnkeep sessions list`)."

    def __init__(self, prefix: str, candidates: Sequence[str], *, more: bool) -> None:
        shown = ", ".join(candidates) + (", …" if more else "")
        super().__init__(
            f"{prefix!r} is the start of {'more than ' if more else ''}{len(candidates)} "
            f"session ids: {shown}"
        )
        self.prefix = prefix
        self.candidates = list(candidates)
        self.more = more


async def resolve_session_id(memory: MemoryBackend, text: str) -> str:
    """The full id of the one session whose id is ``text`` or starts with it.

    Raises:
        EmptySessionIdError: ``text`` is blank.
        NotFoundError: no session id starts with ``text``.
        AmbiguousSessionIdError: several do (and none is exactly ``text``).
    """
    prefix = text.strip()
    if not prefix:
        raise EmptySessionIdError("a session id (or the start of one) is needed")
    matches = await memory.session_ids_with_prefix(prefix, CANDIDATES_SHOWN + 1)
    if prefix in matches:
        return prefix
    if not matches:
        raise NotFoundError(prefix)
    if len(matches) == 1:
        return matches[0]
    raise AmbiguousSessionIdError(
        prefix, matches[:CANDIDATES_SHOWN], more=len(matches) > CANDIDATES_SHOWN
    )
