"""Building the model's prompt from stored events, within the context window.

Events become Chat Completions messages grouped into *units* that must stay together:
an assistant message carrying tool calls travels with the tool results that answer it
(a prompt never holds a result without its call, or a call without a result). When the
history is longer than the window, the most recent units that fit are kept; nothing is
summarised, and the stored history is never touched.

An earlier attempt that was regenerated or edited stays stored, followed later by a
``superseded`` marker naming its ``seq`` range; the prompt leaves those events out.
The marker always comes after the range it names, so any suffix of a session that
holds a superseded event also holds its marker.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from memory import Memory
from runtime import payloads
from runtime.errors import ContextOverflowError

__all__ = [
    "ContextUnit",
    "EventLike",
    "SupersededRanges",
    "fit_units",
    "recall_window",
    "superseded_seqs",
    "to_units",
]

TokenCounter = Callable[[str], int]
#: Tokens a message costs beyond its text (role markers, separators).
MESSAGE_OVERHEAD = 4
_PAGE = 200


class EventLike(Protocol):
    """A stored :class:`~memory.Event` or a not-yet-stored :class:`~memory.EventDraft`."""

    @property
    def kind(self) -> str: ...

    @property
    def payload(self) -> Mapping[str, Any]: ...


@dataclass
class ContextUnit:
    """Messages that must be kept or dropped together, and what they cost."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    tokens: int = 0
    open_calls: set[str] = field(default_factory=set)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _cost(message: Mapping[str, Any], count: TokenCounter) -> int:
    tokens = MESSAGE_OVERHEAD + count(str(message.get("content") or ""))
    if message.get("tool_calls"):
        tokens += count(json.dumps(message["tool_calls"], ensure_ascii=False))
    return tokens


class SupersededRanges:
    """The ``seq`` ranges that ``superseded`` markers took out of the prompt."""

    def __init__(self) -> None:
        self._ranges: list[tuple[int, int]] = []

    def add(self, event: EventLike) -> bool:
        """Note ``event``'s range if it is a well-formed marker; whether it was one."""
        if event.kind != "superseded":
            return False
        found = payloads.superseded_range(event.payload)
        if found is not None:
            self._ranges.append(found)
        return True

    def __contains__(self, event: object) -> bool:
        seq = getattr(event, "seq", None)
        if not isinstance(seq, int):
            return False  # a draft of this process: never superseded by its own turn
        return any(low <= seq <= high for low, high in self._ranges)

    def __bool__(self) -> bool:
        return bool(self._ranges)


def superseded_seqs(events: Sequence[EventLike]) -> SupersededRanges:
    """The ranges the ``superseded`` markers among ``events`` name."""
    ranges = SupersededRanges()
    for event in events:
        ranges.add(event)
    return ranges


def to_units(events: Sequence[EventLike], count: TokenCounter) -> list[ContextUnit]:
    """Turn events (in ``seq`` order) into prompt units.

    ``user``/``assistant``/``system`` become messages; ``tool_call`` events join the
    assistant message before them (or start one); ``tool_result`` becomes a ``tool``
    message in the unit of its call; a ``cancelled`` or ``error`` event contributes its
    partial text; other kinds (markers, imported reasoning) are left out. Payloads are
    read through :mod:`runtime.payloads`. A call whose result is missing gets
    a placeholder result so the prompt stays well-formed. Events inside a range named
    by a ``superseded`` marker among ``events`` are left out.
    """
    units: list[ContextUnit] = []
    by_call: dict[str, ContextUnit] = {}
    skipped = superseded_seqs(events)
    for event in events:
        if skipped and event in skipped:
            continue
        payload = event.payload
        kind = event.kind
        if kind in ("user", "system"):
            units.append(ContextUnit([{"role": kind, "content": payloads.message_text(payload)}]))
        elif kind == "assistant":
            text = payloads.message_text(payload)
            units.append(ContextUnit([{"role": "assistant", "content": text}]))
        elif kind in ("cancelled", "error") and payloads.partial_text(payload):
            partial = payloads.partial_text(payload) or ""
            units.append(ContextUnit([{"role": "assistant", "content": partial}]))
        elif kind == "tool_call":
            call_id = payloads.tool_call_id(payload) or ""
            call = {
                "id": call_id,
                "type": "function",
                "function": {
                    "name": payloads.tool_name(payload),
                    "arguments": json.dumps(payloads.tool_arguments(payload), ensure_ascii=False),
                },
            }
            last = units[-1] if units else None
            message = last.messages[-1] if last is not None else None
            if (
                last is not None
                and message is not None
                and message["role"] == "assistant"
                and not any(m["role"] == "tool" for m in last.messages)
            ):
                message.setdefault("tool_calls", []).append(call)
                unit = last
            else:
                unit = ContextUnit([{"role": "assistant", "content": "", "tool_calls": [call]}])
                units.append(unit)
            unit.open_calls.add(call_id)
            by_call[call_id] = unit
        elif kind == "tool_result":
            call_id = payloads.tool_call_id(payload) or ""
            owner = by_call.get(call_id)
            if owner is None or call_id not in owner.open_calls:
                continue  # its call is outside the window (or was never stored)
            result, failure = payloads.tool_result_value(payload)
            content = {"error": failure} if failure is not None else result
            owner.messages.append(
                {
                    "role": "tool",
                    "tool_call_id": call_id,
                    "name": payloads.tool_name(payload),
                    "content": _text(content),
                }
            )
            owner.open_calls.discard(call_id)
    for unit in units:
        for call_id in sorted(unit.open_calls):
            unit.messages.append(
                {
                    "role": "tool",
                    "tool_call_id": call_id,
                    "content": json.dumps({"error": "no result was recorded for this call"}),
                }
            )
        unit.open_calls.clear()
        unit.tokens = sum(_cost(m, count) for m in unit.messages)
    return units


def fit_units(units: Sequence[ContextUnit], *, required: int, budget: int) -> list[dict[str, Any]]:
    """Keep the newest units within ``budget`` tokens, always including the last ``required``.

    Returns:
        The messages of the kept units, in order.

    Raises:
        ContextOverflowError: the required units alone exceed the budget.
    """
    kept: list[ContextUnit] = list(units[len(units) - required :]) if required else []
    used = sum(u.tokens for u in kept)
    if used > budget:
        raise ContextOverflowError(
            f"this turn needs about {used} tokens of context but only {max(budget, 0)} are "
            "available after the reply and tool descriptions"
        )
    for unit in reversed(units[: len(units) - required]):
        if used + unit.tokens > budget:
            break
        kept.insert(0, unit)
        used += unit.tokens
    return [message for unit in kept for message in unit.messages]


def event_tokens(event: EventLike, count: TokenCounter) -> int:
    """What one event roughly costs in a prompt."""
    payload = event.payload
    if event.kind == "tool_call":
        text = _text(payloads.tool_arguments(payload))
    elif event.kind == "tool_result":
        result, failure = payloads.tool_result_value(payload)
        text = _text({"error": failure} if failure is not None else result)
    else:  # the whole text (search text is cut; a prompt is not)
        text = payloads.searchable_text(event.kind, payload, limit=10_000_000)
    return MESSAGE_OVERHEAD + count(text)


async def recall_window(
    memory: Memory, session_id: str, *, budget: int, count: TokenCounter
) -> list[Any]:
    """Recall the newest events of a session worth about ``budget`` tokens, in order.

    Pages backwards from the end, so a 50,000-event session costs a few small reads.
    Superseded events are kept in the list (it stays a suffix of the session) but cost
    nothing: their marker, later in the session, is always read before them.

    Raises:
        NotFoundError: the session does not exist.
        StoreConnectionError / SerializationError: the memory layer failed.
    """
    events: list[Any] = []
    tokens = 0
    before: int | None = None
    skipped = SupersededRanges()
    while tokens <= budget:
        page = await memory.recall(session_id, before=before, limit=_PAGE, newest=True)
        if not page:
            break
        events[:0] = page
        for event in reversed(page):
            if not skipped.add(event) and event not in skipped:
                tokens += event_tokens(event, count)
        before = page[0].seq
        if len(page) < _PAGE or before <= 1:
            break
    return events
