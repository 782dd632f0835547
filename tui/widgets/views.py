"""The view of a stored event: which widget shows which kind.

Apart from :mod:`tui.widgets.events` and :mod:`tui.widgets.tool_views` so that neither
imports the other (an import contract forbids the cycle).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from memory.records import Event, parse_ts
from runtime import payloads
from tui.format import relative_time
from tui.widgets.event_text import (
    error_text,
    message_text,
    one_line,
    tool_arguments,
    tool_name,
    tool_result,
)
from tui.widgets.events import (
    AssistantMessageView,
    EventView,
    MarkerView,
    UserMessageView,
    model_of,
    partial_of,
    usage_of,
)
from tui.widgets.superseded import SupersededView
from tui.widgets.tool_views import ToolCallView, ToolResultView

__all__ = ["view_for"]


def view_for(event: Event, now: datetime) -> EventView:
    """The view of a stored event."""
    try:
        payload = event.payload
    except Exception as exc:  # a stored payload that cannot be decoded is shown, not fatal
        return MarkerView("error", f"unreadable event: {exc}", seq=event.seq, turn=event.turn)
    when = relative_time(parse_ts(event.created_at), now)
    common: dict[str, Any] = {"seq": event.seq, "turn": event.turn, "when": when}
    kind = event.kind
    if kind == "user":
        return UserMessageView(message_text(payload), **common)
    if kind == "assistant":
        return AssistantMessageView(
            message_text(payload),
            model=model_of(payload),
            note=usage_of(payload),
            cut_off=payloads.cut_off(payload),
            **common,
        )
    if kind == "tool_call":
        return ToolCallView(
            tool_name(payload),
            tool_arguments(payload),
            call_id=payloads.tool_call_id(payload),
            **common,
        )
    if kind == "tool_result":
        result, error = tool_result(payload)
        return ToolResultView(
            tool_name(payload),
            result,
            error,
            call_id=payloads.tool_call_id(payload),
            **common,
        )
    if kind == "cancelled":
        return MarkerView(
            "cancelled",
            payloads.stop_reason(payload) or "the turn was stopped before it finished",
            partial=partial_of(payload),
            **common,
        )
    if kind == "error":
        return MarkerView(
            "error",
            error_text(payload),
            detail=payloads.error_hint(payload),
            partial=partial_of(payload),
            **common,
        )
    if kind == "superseded":
        return SupersededView(payload, **common)
    return MarkerView(kind, one_line(message_text(payload) or payload, 200), **common)
