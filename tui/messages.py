"""Messages that travel up to the app (widget messages live in their widgets)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from runtime.persistence import WorkerState

__all__ = ["OpenSession", "SaveStateChanged", "WorkerFailed"]


class SaveStateChanged(Message):
    """The persistence worker's state changed (posted from its listener).

    Only the newest state matters: a burst of changes waiting in the queue collapses
    into one, so a busy worker never floods the UI loop.
    """

    def __init__(self, state: WorkerState) -> None:
        super().__init__()
        self.state = state

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SaveStateChanged)


class OpenSession(Message):
    """A screen asks the app to open a session (``None``: a new one).

    ``at_seq`` opens it at that event (a search hit) instead of at the newest.
    """

    def __init__(self, session_id: str | None, *, at_seq: int | None = None) -> None:
        super().__init__()
        self.session_id = session_id
        self.at_seq = at_seq


class WorkerFailed(Message):
    """A screen's worker raised; the app shows the error (the one handler)."""

    def __init__(self, error: BaseException, group: str) -> None:
        super().__init__()
        self.error = error
        self.group = group
