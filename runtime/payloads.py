"""Every event kind's payload, written and read in one place.

An event is ``(kind, payload)`` with a JSON object payload. The runtime writes payloads
only through the constructors here, and every reader (the prompt builder, the TUI, the
CLI transcripts, search, the tools, importers) reads them only through the readers
here, so the shape of each kind is defined once. Readers are tolerant: rows written by
older versions, imported from other tools or edited by hand still decode, and an
unexpected shape gives an empty value rather than an exception.

Kinds and their payloads (keys marked ``?`` are optional)::

    user         {"role": "user", "content": str}
    assistant    {"role": "assistant", "content": str, "provider"?, "model"?,
                  "usage"?: {"prompt_tokens", "completion_tokens", "total_tokens",
                             "cached_tokens"?, "cache_write_tokens"?,
                             "estimated"?: bool},
                  "timings"?: {"first_token_ms", "total_ms"}, "finish_reason"?}
    tool_call    {"call_id": str, "name": str, "arguments": object, "raw_arguments"?: str}
    tool_result  {"call_id": str, "name": str, "result": any}
                 | {"call_id", "name", "error": str, "cancelled"?: true}
    cancelled    {"role": "assistant", "reason": str, "partial_content"?: str}
    interrupted  {"reason": str}          (a turn whose process died before it ended)
    error        {"title", "message", "hint", "error_type", "provider", "model",
                  "partial_content"?: str}
    system       {"role": "system", "content": str}
    reasoning    {"content": str}         (imported thinking / reasoning blocks)
    summary      {"content": str}         (imported summary / compaction records)
    superseded   {"from_seq": int, "to_seq": int, "turn"?: int, "reason": str}
                 (events from_seq..to_seq, an earlier attempt, were replaced by a
                 regenerated answer or an edited question; they stay stored and
                 searchable, and the prompt builder leaves them out)

Any other kind is allowed (the schema accepts every non-empty kind) and is shown
generically. Imported events may carry a ``"source"`` object with the rest of the
original record; readers ignore it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = [
    "CANCELLED_REASON",
    "KNOWN_KINDS",
    "MESSAGE_KINDS",
    "SUPERSEDE_REASONS",
    "INDEX_FORM",
    "SEARCH_TEXT_LIMIT",
    "SEARCH_TEXT_TAIL",
    "TOOL_TEXT_LIMIT",
    "TOOL_TEXT_TAIL",
    "Usage",
    "answer_tokens",
    "answered_by",
    "assistant",
    "cancelled",
    "content_text",
    "end_message",
    "error",
    "error_hint",
    "error_text",
    "has_tool_arguments",
    "interrupted",
    "message_text",
    "model_label",
    "named_tool",
    "partial_text",
    "stop_reason",
    "total_ms",
    "was_cancelled",
    "searchable_text",
    "superseded",
    "superseded_range",
    "system",
    "tool_arguments",
    "tool_call",
    "tool_call_id",
    "tool_name",
    "tool_result",
    "tool_result_value",
    "usage",
    "user",
]

#: What a cancelled turn's marker says, everywhere (TUI, transcripts, exports).
CANCELLED_REASON: Final = "cancelled by the user"
#: Kinds whose payload is a chat message with ``content``.
MESSAGE_KINDS: Final = frozenset({"user", "assistant", "system", "reasoning", "summary"})
KNOWN_KINDS: Final = frozenset(
    {
        *MESSAGE_KINDS,
        "tool_call",
        "tool_result",
        "cancelled",
        "interrupted",
        "error",
        "superseded",
    }
)
#: Why an earlier attempt was superseded: its answer was regenerated, or its question
#: was edited and sent again.
SUPERSEDE_REASONS: Final = frozenset({"regenerate", "edit"})
#: Indexed text of one message is cut to this many characters: a pasted 100 KB log is
#: findable whole (a 40 KB message's save point costs about as much as a 32 KB one's, a
#: 200 KB one's about 1.6 times, README "Search"); a longer one keeps its start and its
#: last :data:`SEARCH_TEXT_TAIL` characters.
SEARCH_TEXT_LIMIT: Final = 131_072
#: Characters of the end of a longer message that are indexed.
SEARCH_TEXT_TAIL: Final = 32_768
#: Tool calls and results index less: a 5 MB tool output is mostly data nobody types
#: back, and a trigram index pays for every character it holds. A longer one keeps its
#: start and its last :data:`TOOL_TEXT_TAIL` characters (a build's error is at the end).
TOOL_TEXT_LIMIT: Final = 4_096
#: Characters of the end of a longer tool call or result that are indexed.
TOOL_TEXT_TAIL: Final = 2_048
#: ``searchable_text``'s default: the text as the index holds it (start and end).
INDEX_FORM: Final = "index"

# -- constructors ----------------------------------------------------------------------


def user(text: str) -> dict[str, Any]:
    """The person's message."""
    return {"role": "user", "content": text}


def system(text: str) -> dict[str, Any]:
    """A system message."""
    return {"role": "system", "content": text}


def assistant(
    text: str,
    *,
    provider: str | None = None,
    model: str | None = None,
    usage: Mapping[str, Any] | None = None,
    timings: Mapping[str, float | None] | None = None,
    finish_reason: str | None = None,
) -> dict[str, Any]:
    """The model's answer (one model call's text)."""
    payload: dict[str, Any] = {"role": "assistant", "content": text}
    if provider is not None:
        payload["provider"] = provider
    if model is not None:
        payload["model"] = model
    payload["usage"] = dict(usage or {})
    if timings is not None:
        payload["timings"] = dict(timings)
    payload["finish_reason"] = finish_reason
    return payload


def tool_call(
    call_id: str, name: str, arguments: Any, *, raw_arguments: str | None = None
) -> dict[str, Any]:
    """The model asked for a tool call."""
    payload: dict[str, Any] = {"call_id": call_id, "name": name, "arguments": arguments}
    if raw_arguments is not None:
        payload["raw_arguments"] = raw_arguments
    return payload


def tool_result(
    call_id: str,
    name: str,
    *,
    result: Any = None,
    error: str | None = None,
    cancelled: bool = False,
) -> dict[str, Any]:
    """What a tool returned (``result``) or why it failed (``error``)."""
    payload: dict[str, Any] = {"call_id": call_id, "name": name}
    if error is None:
        payload["result"] = result
    else:
        payload["error"] = error
    if cancelled:
        payload["cancelled"] = True
    return payload


def cancelled(partial: str = "", *, reason: str = CANCELLED_REASON) -> dict[str, Any]:
    """A turn the person cancelled, with what had streamed so far."""
    payload: dict[str, Any] = {"role": "assistant", "reason": reason}
    if partial:
        payload["partial_content"] = partial
    return payload


def interrupted(reason: str) -> dict[str, Any]:
    """A turn that never ended: its process died (found on the next open)."""
    return {"reason": reason}


def error(
    *,
    title: str,
    message: str,
    hint: str,
    error_type: str,
    provider: str | None,
    model: str | None,
    partial: str = "",
) -> dict[str, Any]:
    """A turn that failed with a typed error."""
    payload: dict[str, Any] = {
        "title": title,
        "message": message,
        "hint": hint,
        "error_type": error_type,
        "provider": provider,
        "model": model,
    }
    if partial:
        payload["partial_content"] = partial
    return payload


def superseded(
    from_seq: int, to_seq: int, *, reason: str, turn: int | None = None
) -> dict[str, Any]:
    """A marker: events ``from_seq``..``to_seq`` (an earlier attempt) were replaced.

    Args:
        from_seq: the first superseded event.
        to_seq: the last superseded event (inclusive).
        reason: ``"regenerate"`` or ``"edit"``.
        turn: the superseded turn's number, for display.

    Raises:
        ValueError: the range is empty or not positive, or the reason is unknown.
    """
    if from_seq < 1 or to_seq < from_seq:
        raise ValueError(
            f"a superseded range needs 1 <= from_seq <= to_seq, got {from_seq}..{to_seq}"
        )
    if reason not in SUPERSEDE_REASONS:
        raise ValueError(f"unknown reason {reason!r}; expected one of {sorted(SUPERSEDE_REASONS)}")
    payload: dict[str, Any] = {"from_seq": from_seq, "to_seq": to_seq, "reason": reason}
    if turn is not None:
        payload["turn"] = turn
    return payload


# -- readers ---------------------------------------------------------------------------


def _as_text(value: Any) -> str | None:
    """Message content as text: a string, or OpenAI/Anthropic-style content parts."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts: list[str] = []
        for part in value:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, Mapping):
                text = part.get("text")
                if isinstance(text, str):
                    parts.append(text)
        return "\n".join(parts) if any("\n" in p for p in parts) else "".join(parts)
    return None


def message_text(payload: Mapping[str, Any]) -> str:
    """The text of a message-like event (``content`` as text or parts); ``""`` if none."""
    for key in ("content", "text", "partial_content", "partial_text", "message"):
        text = _as_text(payload.get(key))
        if text is not None:
            return text
    return ""


def content_text(payload: Mapping[str, Any]) -> str | None:
    """A message's ``content`` as text; ``None`` when the payload has no content (the
    transcript then shows the whole payload)."""
    if payload.get("content") is None:
        return None
    return message_text(payload)


def partial_text(payload: Mapping[str, Any]) -> str | None:
    """The answer streamed before a turn was cancelled or failed, if any."""
    value = payload.get("partial_content") or payload.get("partial_text")
    return value if isinstance(value, str) and value else None


def named_tool(payload: Mapping[str, Any]) -> str | None:
    """The tool a payload names (``name``; older or imported rows: ``tool``,
    ``tool_name``, ``function.name``), or ``None``."""
    for key in ("name", "tool", "tool_name"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value
    function = payload.get("function")
    if isinstance(function, Mapping) and isinstance(function.get("name"), str):
        return str(function["name"])
    return None


def tool_name(payload: Mapping[str, Any]) -> str:
    """A tool event's tool name (``"tool"`` when missing)."""
    return named_tool(payload) or "tool"


def tool_call_id(payload: Mapping[str, Any]) -> str | None:
    """The id pairing a tool call with its result."""
    for key in ("call_id", "tool_call_id", "id"):
        value = payload.get(key)
        if value is not None and value != "":
            return str(value)
    return None


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "["):
            try:
                return json.loads(stripped)
            except ValueError:
                return value
    return value


def has_tool_arguments(payload: Mapping[str, Any]) -> bool:
    """The payload records a tool call's arguments (under any of the known keys)."""
    if any(payload.get(key) is not None for key in _ARGUMENT_KEYS):
        return True
    function = payload.get("function")
    return isinstance(function, Mapping) and function.get("arguments") is not None


_ARGUMENT_KEYS: Final = ("arguments", "args", "input")


def tool_arguments(payload: Mapping[str, Any]) -> Any:
    """A tool call's arguments (decoded when they were stored as JSON text)."""
    for key in _ARGUMENT_KEYS:
        if key in payload:
            return _maybe_json(payload[key])
    function = payload.get("function")
    if isinstance(function, Mapping) and "arguments" in function:
        return _maybe_json(function["arguments"])
    return {}


def tool_result_value(payload: Mapping[str, Any]) -> tuple[Any, str | None]:
    """``(result, error)`` of a tool result; ``error`` is ``None`` when it worked."""
    raw_error = payload.get("error")
    error_message: str | None = None
    if raw_error:
        error_message = raw_error if isinstance(raw_error, str) else _compact(raw_error)
    for key in ("result", "output", "content"):
        if key in payload:
            return _maybe_json(payload[key]), error_message
    return None, error_message


def error_text(payload: Mapping[str, Any]) -> str:
    """What went wrong, for an ``error`` event: ``title: message`` when both are known."""
    source: Any = payload.get("error", payload)
    if isinstance(source, str):
        return source
    if isinstance(source, Mapping):
        title = source.get("title")
        message = source.get("message") or source.get("detail") or source.get("error")
        if title and message:
            return f"{title}: {message}"
        if message or title:
            return str(message or title)
    return _compact(source)


def was_cancelled(payload: Mapping[str, Any]) -> bool:
    """A tool result stored for a call that was cancelled while it ran."""
    return bool(payload.get("cancelled"))


def stop_reason(payload: Mapping[str, Any]) -> str | None:
    """Why a cancelled (or interrupted) turn stopped, when the payload says."""
    reason = payload.get("reason")
    return str(reason) if reason else None


def error_hint(payload: Mapping[str, Any]) -> str | None:
    """What a person can do about a failed turn (an ``error`` event's ``hint``)."""
    hint = payload.get("hint")
    return str(hint) if hint else None


def end_message(payload: Mapping[str, Any]) -> str:
    """The one message of a cancelled or failed turn's marker: ``message`` (older or
    imported rows: ``error``, ``reason``, ``content``); ``""`` when there is none."""
    for key in ("message", "error", "reason", "content"):
        value = payload.get(key)
        if value is not None:
            text = _as_text(value)
            return text if text is not None else _compact(value)
    return ""


def model_label(payload: Mapping[str, Any]) -> str:
    """``provider · model`` of an assistant event, as far as they are known."""
    return " · ".join(str(payload[k]) for k in ("provider", "model") if payload.get(k))


def answer_tokens(payload: Mapping[str, Any]) -> int:
    """Tokens the model generated for an answer (``completion_tokens``; older rows only
    had ``total_tokens``); 0 when unknown."""
    raw = payload.get("usage")
    if not isinstance(raw, Mapping):
        return 0
    for key in ("completion_tokens", "total_tokens"):
        value = raw.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value:
            return value
    return 0


def total_ms(payload: Mapping[str, Any]) -> float | None:
    """How long an answer took (``timings.total_ms``), when recorded."""
    timings = payload.get("timings")
    if not isinstance(timings, Mapping):
        return None
    value = timings.get("total_ms")
    if isinstance(value, int | float) and not isinstance(value, bool) and value:
        return float(value)
    return None


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens of one assistant event, as the provider reported them.

    Attributes:
        prompt: prompt tokens (0 when unknown).
        completion: generated tokens (0 when unknown).
        estimated: the figures are turnkeep's estimate, not the provider's.
    """

    prompt: int = 0
    completion: int = 0
    estimated: bool = False
    #: Of the prompt tokens, those read from the provider's prompt cache.
    cached: int = 0
    #: Of the prompt tokens, those written to the provider's prompt cache (Anthropic's
    #: cache creation, priced above plain prompt tokens).
    cache_written: int = 0

    @property
    def total(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt + self.completion


def usage(payload: Mapping[str, Any]) -> Usage:
    """The token usage recorded with an assistant event (zeros when none)."""
    raw = payload.get("usage")
    if not isinstance(raw, Mapping):
        return Usage()

    def number(key: str) -> int:
        value = raw.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    prompt, completion = number("prompt_tokens"), number("completion_tokens")
    if not prompt and not completion:
        completion = number("total_tokens")
    cached = min(prompt, max(0, number("cached_tokens")))
    written = min(prompt - cached, max(0, number("cache_write_tokens")))
    return Usage(prompt, completion, bool(raw.get("estimated", False)), cached, written)


def summed_usage(answers: Iterable[Mapping[str, Any]], start: Usage = Usage()) -> Usage:
    """``start`` plus the prompt and completion tokens of the assistant payloads
    ``answers`` (estimated when any of them was): a session's token totals."""
    prompt, completion, estimated = start.prompt, start.completion, start.estimated
    for payload in answers:
        used = usage(payload)
        prompt += used.prompt
        completion += used.completion
        estimated |= used.estimated
    return Usage(prompt, completion, estimated)


def cut_off(payload: Mapping[str, Any]) -> bool:
    """Whether an answer stopped at its length limit (``finish_reason`` ``length``)."""
    return payload.get("finish_reason") == "length"


def superseded_range(payload: Mapping[str, Any]) -> tuple[int, int] | None:
    """``(from_seq, to_seq)`` of a ``superseded`` marker; ``None`` when malformed."""
    low, high = payload.get("from_seq"), payload.get("to_seq")
    if (
        isinstance(low, int)
        and isinstance(high, int)
        and not isinstance(low, bool)
        and not isinstance(high, bool)
        and 1 <= low <= high
    ):
        return low, high
    return None


def answered_by(payload: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The ``(provider, model)`` an assistant event records for its own turn.

    ``None`` for a part the event does not carry (older or imported rows): a session
    may change model between turns, so this, not the session's model, names who
    answered.
    """

    def text(key: str) -> str | None:
        value = payload.get(key)
        return value.strip() or None if isinstance(value, str) else None

    return text("provider"), text("model")


def searchable_text(
    kind: str,
    payload: Mapping[str, Any],
    limit: int | Literal["index"] | None = INDEX_FORM,
) -> str:
    """The text of one event a person may search for.

    Args:
        limit: :data:`INDEX_FORM` (the default): as the index holds it, at most
            :data:`SEARCH_TEXT_LIMIT` characters (:data:`TOOL_TEXT_LIMIT` of tool calls
            and results), a longer text keeping its start and its last
            :data:`SEARCH_TEXT_TAIL` (:data:`TOOL_TEXT_TAIL`) characters; a number: the
            first ``limit`` characters (at most :data:`TOOL_TEXT_LIMIT` of tool
            traffic); ``None``: the whole text (find in a session reads it for events
            longer than the index holds, ``runtime.session_find``).

    Messages give their content; tool calls their name and arguments; tool results
    their name and result or error; cancelled and failed turns their partial answer and
    reason. A ``superseded`` marker gives nothing (the attempt it marks is indexed as
    its own events). Unknown kinds give their message text, or nothing.
    """
    parts: list[str]
    if kind == "superseded":
        return ""
    tool = kind in ("tool_call", "tool_result")
    cap: int | None
    tail = 0
    if limit == INDEX_FORM:
        cap, tail = (
            (TOOL_TEXT_LIMIT, TOOL_TEXT_TAIL) if tool else (SEARCH_TEXT_LIMIT, SEARCH_TEXT_TAIL)
        )
    elif isinstance(limit, int):
        cap = min(limit, TOOL_TEXT_LIMIT) if tool else limit
    else:
        cap = None
    if kind in MESSAGE_KINDS:
        parts = [message_text(payload)]
    elif kind == "tool_call":
        parts = [tool_name(payload), _compact(tool_arguments(payload), cap, tail)]
    elif kind == "tool_result":
        result, failure = tool_result_value(payload)
        parts = [tool_name(payload), failure or "", _compact(result, cap, tail)]
    elif kind in ("cancelled", "error", "interrupted"):
        parts = [partial_text(payload) or "", error_text(payload) if kind == "error" else ""]
    else:
        parts = [message_text(payload)]
    text = "\n".join(part for part in parts if part)
    return text if cap is None else _cut(text, cap, tail)


def _cut(text: str, limit: int, tail: int = 0) -> str:
    """``text`` in at most ``limit`` characters: its start, and with ``tail`` its last
    ``tail - 1`` characters after a line break."""
    if len(text) <= limit:
        return text
    if tail <= 0:
        return text[:limit]
    return text[: limit - tail] + "\n" + text[len(text) - tail + 1 :]


def _compact(value: Any, limit: int | None = None, tail: int = 0) -> str:
    """Any JSON value as compact text (strings as they are), cut as :func:`_cut`."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value if limit is None else _cut(value, limit, tail)
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    except (TypeError, ValueError):
        text = repr(value)
    return text if limit is None else _cut(text, limit, tail)
