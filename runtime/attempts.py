"""Regenerate and edit: find the last attempt of a session, to be superseded.

An *attempt* is the session's last question and everything after it (the answer, its
tool calls and results, a cancellation or error marker). Regenerating asks the same
question again; editing asks a changed one. Either way the attempt is never touched: the
new turn begins with a ``superseded`` marker naming the attempt's ``seq`` range (see
:func:`runtime.payloads.superseded`), which the prompt builder honours
(:mod:`runtime.context`) and the TUI shows collapsed.
"""

from __future__ import annotations

from dataclasses import dataclass

from memory import EventDraft, MemoryBackend
from runtime import payloads
from runtime.errors import NothingToRetryError

__all__ = ["Attempt", "find_last_attempt"]

#: Events read per page while looking back for the last question.
_PAGE = 200


@dataclass(frozen=True, slots=True)
class Attempt:
    """The last question of a session and what followed it.

    Attributes:
        turn: the question's turn number.
        from_seq: ``seq`` of the question.
        to_seq: ``seq`` of the session's last event.
        question: the question's text (what regenerate sends again).
    """

    turn: int
    from_seq: int
    to_seq: int
    question: str

    def marker(self, reason: str, turn: int) -> EventDraft:
        """The ``superseded`` event that opens the turn replacing this attempt.

        Raises:
            ValueError: ``reason`` is not ``regenerate`` or ``edit``.
        """
        payload = payloads.superseded(self.from_seq, self.to_seq, reason=reason, turn=self.turn)
        return EventDraft("superseded", payload, turn)


async def find_last_attempt(memory: MemoryBackend, session_id: str) -> Attempt:
    """The session's last ``user`` event and the events after it.

    Pages backwards from the end, so it costs one small read unless the last turn ran a
    great many tools.

    Raises:
        NothingToRetryError: the session holds no question.
        NotFoundError: the session does not exist.
        MemoryLayerError: the database failed.
    """
    last_seq: int | None = None
    before: int | None = None
    #: Turns of the events after the last question (normally only its own).
    turns: set[int] = set()
    while True:
        page = await memory.recall(session_id, before=before, limit=_PAGE, newest=True)
        if not page:
            break
        if last_seq is None:
            last_seq = page[-1].seq
        for event in reversed(page):
            if event.kind == "user":
                if turns - {event.turn}:
                    # Two writers took turns in this session at once: another turn's
                    # events sit among this one's, and the superseded range (from the
                    # question to the end) would hide them too.
                    raise NothingToRetryError(
                        "the last answer is interleaved with another turn saved at the "
                        "same time, so it cannot be superseded without hiding that turn",
                        hint="Ask again as a new message instead.",
                    )
                return Attempt(
                    turn=event.turn,
                    from_seq=event.seq,
                    to_seq=last_seq,
                    question=payloads.message_text(event.payload),
                )
            turns.add(event.turn)
        before = page[0].seq
        if before <= 1:
            break
    raise NothingToRetryError("this session holds no question to ask again")
