"""One turn's loop: model calls, tool calls, save points, and how a turn ends.

Used by :class:`runtime.conversation.Conversation`, which runs :meth:`TurnRunner.run` in
its own task. Cancellation can only land where the runner awaits (the provider's stream
or a running tool); everything else, including handing a save point to the worker, is
synchronous, so the runner always knows exactly which events are not yet handed over.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from memory import EventDraft, MemoryBackend, NewTurn, TurnOf, TurnRef
from memory.records import TokenCount
from runtime import payloads
from runtime.context import MESSAGE_OVERHEAD, fit_units, to_units
from runtime.errors import ProviderError, ProviderResponseError, ToolError
from runtime.progress import (
    Progress,
    TextDelta,
    ToolFinished,
    ToolStarted,
    TurnCancelled,
    TurnFailed,
    TurnFinished,
)
from runtime.providers.base import ChatRequest, Provider, StreamEnd, TextChunk, ToolCallChunk
from runtime.settings import Settings
from runtime.tools import ToolContext, ToolRegistry

__all__ = ["Outcome", "SaveFn", "TurnRunner", "clean_text", "jsonable"]

_MAX_DEPTH = 100

#: How a turn stands, as recorded in the session's checkpoint.
Outcome = str  # "running" | "finished" | "cancelled" | "failed"
#: Hands one save point to the persistence worker (never blocks); returns its key.
SaveFn = Callable[[list[EventDraft], TurnRef, Outcome], str]


def clean_text(text: str) -> str:
    """Replace lone surrogates (which cannot be stored as UTF-8) with U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def jsonable(value: Any, depth: int = 0) -> Any:
    """A JSON-ready copy of a tool result: text cleaned, odd values as strings."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return clean_text(value)
    if depth >= _MAX_DEPTH:
        return clean_text(str(value))[:1000]
    if isinstance(value, Mapping):
        return {clean_text(str(k)): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v, depth + 1) for v in value]
    return clean_text(str(value))


class TurnRunner:
    """Runs one turn and records its events (see the module docstring).

    Args:
        settings: the agent settings.
        provider: the model provider.
        tools: the tools that may be offered.
        memory: given to tools (``search_sessions``).
        session_id: the session.
        clock: given to tools (``current_time``).
        window: earlier events of the session (for the prompt), oldest first.
        save: hands one save point to the persistence worker (never blocks), with the
            turn it belongs to and how the turn stands; returns the save point's key.
        emit: hands one progress value to the caller (never blocks).
    """

    def __init__(
        self,
        *,
        settings: Settings,
        provider: Provider,
        tools: ToolRegistry,
        memory: MemoryBackend,
        session_id: str,
        clock: Callable[[], datetime],
        window: list[Any],
        save: SaveFn,
        emit: Callable[[Progress], None],
    ) -> None:
        self._settings = settings
        self._agent = settings.agent
        self._provider = provider
        self._tools = tools
        self._context = ToolContext(memory=memory, session_id=session_id, clock=clock)
        self._window = window
        self._save = save
        self._emit = emit
        self._turn = 0
        #: Every event of this turn, in order (saved or not).
        self.events: list[EventDraft] = []
        self._pending: list[EventDraft] = []
        self._partial = ""
        self._streamed: list[str] = []
        self._open_call: ToolCallChunk | None = None
        self._ended = False
        #: The key of the save point holding the question (the turn's first).
        self._turn_key: str | None = None

    @staticmethod
    def budget(settings: Settings, provider: Provider, tools: ToolRegistry) -> int:
        """Tokens left for conversation messages once the reply, system prompt and tool
        descriptions are set aside."""
        agent = settings.agent
        count = provider.count_tokens
        fixed = MESSAGE_OVERHEAD + count(agent.system_prompt)
        if provider.supports_tools and len(tools) and agent.tools:
            fixed += count(json.dumps(tools.specs()))
        return agent.context_window - agent.max_tokens - fixed

    # -- the loop ----------------------------------------------------------------------

    @property
    def turn(self) -> int:
        """The turn number."""
        return self._turn

    @property
    def ended(self) -> bool:
        """Whether the turn reached an end (finished, failed or cancelled) and said so."""
        return self._ended

    def begin(self, turn: int, text: str, *, opening: EventDraft | None = None) -> None:
        """Record the user's message and hand it to the worker at once, as its own save point.

        The question is the one event of a turn that cannot be regenerated: it is made
        durable before the model starts, so a crash mid-generation keeps it.
        ``opening`` (a ``superseded`` marker) is stored just before it, in the same save
        point.
        """
        self._turn = turn
        if opening is not None:
            self._add(opening)
        self._add(EventDraft("user", payloads.user(text), turn))
        self._flush("running")

    async def run(self) -> None:
        """Run the turn to its end: finished, failed (error event) or cancelled."""
        try:
            await self._steps()
        except asyncio.CancelledError:
            self._finish_cancelled()
            self._end(TurnCancelled(self._turn, "".join(self._streamed)))
        except ProviderError as exc:
            self._finish_failed(exc)
            self._end(TurnFailed(self._turn, exc))

    def abort(self) -> None:
        """Record a cancellation when :meth:`run` never got to (cancelled before it ran)."""
        if not self._ended:
            self._finish_cancelled()
            self._ended = True

    def _end(self, progress: TurnFinished | TurnFailed | TurnCancelled) -> None:
        self._ended = True
        self._emit(progress)

    async def _steps(self) -> None:
        agent = self._agent
        offered = (
            self._tools.specs()
            if agent.tools
            and self._provider.supports_tools
            and len(self._tools)
            and agent.tool_choice != "none"
            else []
        )
        forced = agent.tool_choice not in ("auto", "none")
        step = 0
        while True:
            offer = bool(offered) and step < agent.max_tool_rounds and not (forced and step > 0)
            choice: str | dict[str, Any] | None = None
            if offer:
                choice = agent.tool_choice if step == 0 else "auto"
                if choice not in ("auto", "required"):
                    choice = {"type": "function", "function": {"name": choice}}
            request = ChatRequest(
                messages=self._prompt(),
                tools=offered if offer else [],
                tool_choice=choice,
                max_tokens=agent.max_tokens,
                temperature=agent.temperature,
                turn=self._turn,
                step=step,
            )
            text, calls, end, timings = await self._stream(request)
            if text or not calls:
                payload = payloads.assistant(
                    text,
                    provider=self._provider.name,
                    model=self._provider.model,
                    usage=self._usage(request, text, end),
                    timings=timings,
                    finish_reason=end.finish_reason,
                )
                counted = payloads.usage(payload)
                tokens = TokenCount(counted.prompt, counted.completion, counted.estimated)
                self._add(EventDraft("assistant", payload, self._turn, tokens))
            self._partial = ""
            for call in calls:
                await self._call_tool(call, allowed=offer)
            if not calls or not offer:
                break
            step += 1
        self._flush("finished")
        cut_off = end.finish_reason == "length"
        self._end(TurnFinished(self._turn, "".join(self._streamed), cut_off))

    def _usage(self, request: ChatRequest, text: str, end: StreamEnd) -> dict[str, Any]:
        """The provider's usage report; figures it left out are estimated and marked so."""
        usage = dict(end.usage)
        count = self._provider.count_tokens
        if not isinstance(usage.get("prompt_tokens"), int):
            usage["prompt_tokens"] = sum(
                count(str(m.get("content") or "")) + MESSAGE_OVERHEAD for m in request.messages
            )
            usage["estimated"] = True
        if not isinstance(usage.get("completion_tokens"), int):
            usage["completion_tokens"] = count(text) if text else 0
            usage["estimated"] = True
        if usage.get("estimated"):
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return usage

    def _prompt(self) -> list[dict[str, Any]]:
        count = self._provider.count_tokens
        units = to_units([*self._window, *self.events], count)
        required = len(to_units(self.events, count))
        budget = self.budget(self._settings, self._provider, self._tools)
        messages = fit_units(units, required=required, budget=budget)
        if self._agent.system_prompt:
            messages.insert(0, {"role": "system", "content": self._agent.system_prompt})
        return messages

    async def _stream(
        self, request: ChatRequest
    ) -> tuple[str, list[ToolCallChunk], StreamEnd, dict[str, float | None]]:
        calls: list[ToolCallChunk] = []
        end = StreamEnd()
        started = time.perf_counter()
        first: float | None = None
        try:
            async for chunk in self._provider.stream(request):
                if isinstance(chunk, TextChunk):
                    if first is None:
                        first = time.perf_counter()
                    text = clean_text(chunk.text)
                    self._partial += text
                    self._streamed.append(text)
                    self._emit(TextDelta(text))
                elif isinstance(chunk, ToolCallChunk):
                    calls.append(chunk)
                elif isinstance(chunk, StreamEnd):
                    end = chunk
        except ProviderError:
            raise
        except Exception as exc:  # a provider bug must still end the turn cleanly
            raise ProviderResponseError(
                f"the {self._provider.name} provider failed: {type(exc).__name__}: {exc}"
            ) from exc
        finished = time.perf_counter()
        timings: dict[str, float | None] = {
            "first_token_ms": None if first is None else round((first - started) * 1000, 1),
            "total_ms": round((finished - started) * 1000, 1),
        }
        return self._partial, calls, end, timings

    async def _call_tool(self, call: ToolCallChunk, *, allowed: bool) -> None:
        arguments = jsonable(call.arguments)
        raw = clean_text(call.raw_arguments) if call.arguments_error is not None else None
        payload = payloads.tool_call(call.call_id, call.name, arguments, raw_arguments=raw)
        self._add(EventDraft("tool_call", payload, self._turn))
        self._open_call = call
        self._emit(ToolStarted(call.call_id, call.name, arguments))
        result: Any = None
        error: str | None = None
        if call.arguments_error is not None:
            error = f"{call.name}: {call.arguments_error}"
        elif not allowed:
            error = (
                f"not run: no tools were offered for this model call (at most "
                f"{self._agent.max_tool_rounds} tool rounds per turn)"
            )
        else:
            try:
                result = jsonable(await self._tools.call(call.name, arguments, self._context))
            except ToolError as exc:
                error = clean_text(exc.message)
        outcome = payloads.tool_result(call.call_id, call.name, result=result, error=error)
        self._add(EventDraft("tool_result", outcome, self._turn))
        self._open_call = None
        self._flush("running")  # save point: the call travels with its result
        self._emit(ToolFinished(call.call_id, call.name, result, error))

    # -- endings -----------------------------------------------------------------------

    def _finish_cancelled(self) -> None:
        call = self._open_call
        if call is not None:
            result = payloads.tool_result(
                call.call_id,
                call.name,
                error="cancelled before the tool finished",
                cancelled=True,
            )
            self._add(EventDraft("tool_result", result, self._turn))
            self._open_call = None
        self._add(EventDraft("cancelled", payloads.cancelled(self._partial), self._turn))
        self._flush("cancelled")

    def _finish_failed(self, exc: ProviderError) -> None:
        payload = payloads.error(
            title=exc.title,
            message=clean_text(exc.message),
            hint=clean_text(exc.hint),
            error_type=type(exc).__name__,
            provider=self._provider.name,
            model=self._provider.model,
            partial=self._partial,
        )
        self._add(EventDraft("error", payload, self._turn))
        self._flush("failed")

    # -- bookkeeping -------------------------------------------------------------------

    def _add(self, draft: EventDraft) -> None:
        self.events.append(draft)
        self._pending.append(draft)

    def _flush(self, outcome: Outcome) -> None:
        if self._pending:
            pending, self._pending = self._pending, []
            turn: TurnRef = NewTurn() if self._turn_key is None else TurnOf(self._turn_key)
            key = self._save(pending, turn, outcome)
            if self._turn_key is None:
                self._turn_key = key
