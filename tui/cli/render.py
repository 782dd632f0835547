"""Human renderings of sessions: the ``sessions show`` transcript and the Markdown export.

Payloads are read only through :mod:`runtime.payloads` (the one reader of every kind,
which also decodes the older and imported shapes); what no reader recognises is shown
as the whole payload, so an unexpected event is never hidden.

Everything stored is untrusted: the terminal transcript and the Markdown pass it through
:func:`~tui.safe_text.safe_text` (bodies) and :func:`~tui.safe_text.safe_line` (titles,
ids, labels), so no escape sequence, C1 control or bidi override is ever written raw.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from memory.bundle import PortableSession
from memory.records import SessionInfo
from runtime import payloads
from tui.format import plural
from tui.safe_text import safe_line, safe_text

__all__ = ["EventView", "markdown_session", "transcript_event", "transcript_header", "view"]

_LABELS = {
    "user": "User",
    "assistant": "Assistant",
    "system": "System",
    "tool_call": "Tool call",
    "tool_result": "Tool result",
    "error": "Error",
    "cancelled": "Cancelled",
    "superseded": "Superseded",
}


@dataclass(frozen=True, slots=True)
class EventView:
    """What to show for one event.

    Attributes:
        label: e.g. ``Tool call``.
        detail: the tool name and call id, if any.
        text: prose (user/assistant messages, error messages), or ``None``.
        partial: what the model had written before the turn was cancelled or failed.
        code: a block to show verbatim (tool arguments and results), or ``None``.
        lang: the code block's language (``json`` or empty).
    """

    label: str
    detail: str
    text: str | None
    code: str | None
    lang: str
    partial: str | None = None


#: Titles and ids in a transcript's header are cut to this many characters.
HEADER_LIMIT = 200


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def _as_code(value: Any) -> tuple[str, str]:
    """A tool argument/result as a code block: JSON pretty-printed, text verbatim."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value, ""
        if isinstance(parsed, dict | list):
            return _pretty(parsed), "json"
        return value, ""
    return _pretty(value), "json"


def view(kind: str, payload: Mapping[str, Any]) -> EventView:
    """Decide how to show one event."""
    label = _LABELS.get(kind, kind)
    name = payloads.named_tool(payload)
    call_id = payloads.tool_call_id(payload)
    detail = " ".join(part for part in (name or "", f"({call_id})" if call_id else "") if part)
    if kind == "tool_call":
        args = payloads.tool_arguments(payload) if payloads.has_tool_arguments(payload) else None
        call_code, call_lang = _as_code(args if args is not None else dict(payload))
        return EventView(label, detail, None, call_code, call_lang)
    if kind == "tool_result":
        result, error = payloads.tool_result_value(payload)
        if result is None and error is None:
            result = dict(payload)
        code: str | None = None
        lang = ""
        if result is not None:
            code, lang = _as_code(result)
        text = f"error: {error}" if error is not None else None
        return EventView(label, detail, text, code, lang)
    if kind in ("error", "cancelled"):
        message = payloads.end_message(payload)
        return EventView(label, detail, message, None, "", payloads.partial_text(payload))
    if kind == "superseded":
        found = payloads.superseded_range(payload)
        if found is not None:
            why = {"regenerate": "the answer was regenerated", "edit": "the question was edited"}
            reason = why.get(str(payload.get("reason")), "it was replaced")
            text = f"events {found[0]}-{found[1]} are an earlier attempt: {reason}"
            return EventView(label, detail, text, None, "")
    content = payloads.content_text(payload)
    if content is None or kind not in ("user", "assistant", "system"):
        return EventView(label, detail, content, _pretty(dict(payload)), "json")
    return EventView(label, detail, content, None, "")


# -- the terminal transcript --------------------------------------------------------------


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in text.splitlines() or [""])


def transcript_header(info: SessionInfo) -> str:
    """The lines above a transcript: title, id, provider/model, counts, times."""
    model = safe_line(" / ".join(p for p in (info.provider, info.model) if p) or "-")
    title = safe_line(info.title, HEADER_LIMIT) if info.title else "(untitled)"
    counts = f"{plural(info.turns, 'turn')} · {plural(info.events, 'event')}"
    return (
        f"{title}\n"
        f"  id {safe_line(info.id, HEADER_LIMIT)}\n"
        f"  model {model} · {counts}\n"
        f"  created {safe_line(info.created_at)} · last activity {safe_line(info.updated_at)}"
    )


def transcript_event(seq: int, kind: str, payload: Mapping[str, Any], created_at: str) -> str:
    """One event of the terminal transcript."""
    shown = view(kind, payload)
    head = f"#{seq} {safe_line(shown.label)}" + (
        f" {safe_line(shown.detail)}" if shown.detail else ""
    )
    lines = [f"{head}  ·  {safe_line(created_at)}"]
    if shown.text is not None:
        lines.append(_indent(safe_text(shown.text)))
    if shown.partial is not None:
        lines.append("    partial answer:")
        lines.append(_indent(_indent(safe_text(shown.partial))))
    if shown.code is not None:
        lines.append(_indent(safe_text(shown.code)))
    return "\n".join(lines)


# -- Markdown -----------------------------------------------------------------------------


def _fence(code: str, lang: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{code}\n{ticks}"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines() or [""])


def _md_event(kind: str, payload: Mapping[str, Any]) -> str:
    shown = view(kind, payload)
    head = f"**{safe_line(shown.label)}**"
    if shown.detail:
        head += f" `{safe_line(shown.detail)}`"
    parts = [head]
    if shown.text is not None:
        text = safe_text(shown.text)
        parts.append(_quote(text) if kind == "user" else text)
    if shown.partial is not None:
        parts.append("Partial answer:")
        parts.append(_quote(safe_text(shown.partial)))
    if shown.code is not None:
        parts.append(_fence(safe_text(shown.code), shown.lang))
    return "\n\n".join(parts)


def markdown_session(session: PortableSession) -> str:
    """A session as Markdown: a heading per turn, tool calls and results in fenced blocks."""
    model = safe_line(" / ".join(p for p in (session.provider, session.model) if p) or "-")
    lines = [
        f"# {safe_line(session.title) if session.title else 'Untitled session'}",
        "",
        f"- Session: `{safe_line(session.id)}`",
        f"- Model: {model}",
        f"- Created: {safe_line(session.created_at)}",
        f"- Last activity: {safe_line(session.updated_at)}",
        f"- Turns: {session.turns} · Events: {len(session.events)}",
    ]
    blocks = ["\n".join(lines)]
    turn: int | None = None
    for event in session.events:
        if event.turn != turn:
            turn = event.turn
            blocks.append(f"## Turn {turn}")
        blocks.append(_md_event(event.kind, json.loads(event.payload_json)))
    return "\n\n".join(blocks) + "\n"
