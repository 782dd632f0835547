"""Rendering a live turn into the event log as its progress arrives.

:class:`LiveTurn` turns the runtime's progress values into event views, and when the
persistence worker reports a save point stored, gives those views their ``seq`` so the
log's window stays exact (a view that was saved is never loaded twice).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

from memory.records import EventDraft
from runtime import payloads
from tui.services import error_parts
from tui.widgets.event_log import EventLog
from tui.widgets.events import AssistantMessageView, EventView, MarkerView, UserMessageView
from tui.widgets.tool_views import ToolCallView, ToolResultView

if TYPE_CHECKING:
    from runtime.progress import Progress

__all__ = ["LiveTurn"]


class LiveTurn:
    """The views of one turn in progress.

    Args:
        log: the event log to append to.
        turn: the turn's number.
        model: ``provider · model`` for the assistant's heading.
    """

    def __init__(self, log: EventLog, turn: int, model: str) -> None:
        self.log = log
        self.turn = turn
        self.model = model
        self.ended = False
        self._assistant: AssistantMessageView | None = None
        self._calls: dict[str, ToolCallView] = {}
        #: Views not yet matched with a stored event, in the order they were shown.
        self._views: deque[EventView] = deque()
        #: Stored events of this turn not yet matched with a view: (kind, key, seq).
        self._stored: deque[tuple[str, str | None, int, bool]] = deque()

    async def _add(self, view: EventView) -> EventView:
        self._views.append(view)
        self._match()
        return await self.log.add_live(view)

    async def start(self, text: str, *, opening: EventView | None = None) -> None:
        """Show the person's message (after ``opening``, a regenerate/edit marker)."""
        if opening is not None:
            await self._add(opening)
        await self._add(UserMessageView(text, seq=None, turn=self.turn, when="just now"))

    async def show(self, progress: Progress) -> None:
        """Show one progress value."""
        from runtime.progress import (
            TextDelta,
            ToolFinished,
            ToolStarted,
            TurnCancelled,
            TurnFailed,
            TurnFinished,
        )

        turn = self.turn
        if isinstance(progress, TextDelta):
            if self._assistant is None:
                view = AssistantMessageView(
                    "", seq=None, turn=turn, when="just now", model=self.model, streaming=True
                )
                await self._add(view)
                self._assistant = view
            self._assistant.append(progress.text)
        elif isinstance(progress, ToolStarted):
            self._end_text()
            call = ToolCallView(
                progress.name,
                progress.arguments,
                call_id=progress.call_id,
                seq=None,
                turn=turn,
                running=True,
            )
            self._calls[progress.call_id] = call
            await self._add(call)
        elif isinstance(progress, ToolFinished):
            started = self._calls.get(progress.call_id)
            if started is not None:
                started.running = False
            await self._add(
                ToolResultView(
                    progress.name,
                    progress.result,
                    progress.error,
                    call_id=progress.call_id,
                    seq=None,
                    turn=turn,
                )
            )
        elif isinstance(progress, TurnFinished):
            if progress.cut_off and self._assistant is not None:
                self._assistant.cut_off = True
            self._end_text()
            self.ended = True
        elif isinstance(progress, TurnCancelled):
            await self.cancelled()
        elif isinstance(progress, TurnFailed):
            self._end_text(note="interrupted")
            title, message, hint = error_parts(progress.error)
            await self._add(
                MarkerView("error", f"{title}: {message}", detail=hint, seq=None, turn=turn)
            )
            self.ended = True

    def _end_text(self, note: str = "") -> None:
        if self._assistant is not None:
            self._assistant.finish(note=note)
            self._assistant = None

    async def cancelled(self) -> None:
        """The turn was cancelled: keep what streamed, mark it, stop running tools."""
        if self.ended:
            return
        self.ended = True
        self._end_text(note="cancelled, partial")
        for call in self._calls.values():
            call.running = False
        await self._add(
            MarkerView(
                "cancelled",
                "cancelled by the user; what was written is kept",
                seq=None,
                turn=self.turn,
            )
        )

    async def interrupted(self, error: BaseException) -> None:
        """The turn stopped on an error the runtime raised (the app shows it too)."""
        if self.ended:
            return
        self.ended = True
        self._end_text(note="interrupted")
        for call in self._calls.values():
            call.running = False
        title, message, hint = error_parts(error)
        await self._add(
            MarkerView("error", f"{title}: {message}", detail=hint, seq=None, turn=self.turn)
        )

    def saved(self, drafts: Sequence[EventDraft], seqs: Sequence[int]) -> None:
        """A save point was stored: give the views of this turn their ``seq``.

        Saves may land before or after the views they belong to are shown, so both
        sides queue up and are matched in order, by kind and tool call id.
        """
        for draft, seq in zip(drafts, seqs, strict=False):
            if draft.turn != self.turn:
                continue
            payload = draft.payload
            tool = draft.kind in ("tool_call", "tool_result")
            key = payloads.tool_call_id(payload) if tool else None
            # Stored events that are never shown live: an empty answer before tool calls,
            # and the result stored for a tool call that was cancelled while it ran.
            silent = (draft.kind == "assistant" and not payloads.message_text(payload)) or (
                draft.kind == "tool_result" and payloads.was_cancelled(payload)
            )
            self._stored.append((draft.kind, key, seq, silent))
        self._match()
        if seqs:
            self.log.saved_up_to(max(seqs))

    def _match(self) -> None:
        views, stored = self._views, self._stored
        while views and stored:
            kind, key, seq, silent = stored[0]
            view = views[0]
            if (kind, key) == _identity(view):
                view.seq = seq
                views.popleft()
                stored.popleft()
            elif silent:
                stored.popleft()
            elif isinstance(view, AssistantMessageView) and kind in ("cancelled", "error"):
                views.popleft()  # the partial answer is stored inside the end marker
            else:
                return


def _identity(view: EventView) -> tuple[str, str | None]:
    if isinstance(view, ToolCallView | ToolResultView):
        return _kind_of(view), view.call_id
    return _kind_of(view), None


def _kind_of(view: EventView) -> str:
    if isinstance(view, UserMessageView):
        return "user"
    if isinstance(view, AssistantMessageView):
        return "assistant"
    if isinstance(view, ToolCallView):
        return "tool_call"
    if isinstance(view, ToolResultView):
        return "tool_result"
    if isinstance(view, MarkerView):
        return view.kind
    return ""
