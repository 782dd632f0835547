"""What every importer shares: the event model, timestamps, blob placeholders, JSONL reading.

An importer turns another tool's history into :class:`Chunk` objects: a part of (or a
whole) source session, as turnkeep events with their turn numbers and the source's
timestamps, plus the *resume point* that lets the next import add only what is new.
:mod:`runtime.importers.run` writes them; the parsers never touch the database.

Payload shapes are the ones the runtime writes (``user``/``assistant``/``system`` with
``role`` and ``content``, ``tool_call`` with ``call_id``/``name``/``arguments``,
``tool_result`` with ``call_id``/``name`` and ``result`` or ``error``) plus ``reasoning``
and ``summary`` (``content``). Whatever of the original record has no place there is kept
under ``payload["source"]``, with large binary blobs replaced by a placeholder saying
what was there and how big it was.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

from memory.records import TokenCount, format_ts
from runtime.errors import SettingsError
from runtime.importers.lines import JsonLine, read_jsonl
from runtime.importers.usage import add_usage, token_usage

__all__ = [
    "TOOLS",
    "Chunk",
    "Draft",
    "EventBuilder",
    "Existing",
    "JsonLine",
    "Malformed",
    "SourceFormatError",
    "placeholder",
    "read_jsonl",
    "scrub",
    "session_id_for",
    "short_title",
    "tail_digest",
    "text_of",
    "to_ts",
    "token_usage",
    "without_surrogates",
]

T = TypeVar("T")

#: The sources ``turnkeep import`` reads.
TOOLS: Final = ("claude-code", "codex", "chatgpt", "llm")

#: Strings longer than this that look like base64 are replaced by a placeholder.
_BLOB_MIN: Final = 512
_BLOB_KEYS: Final = frozenset(
    {"data", "b64_json", "base64", "encrypted_content", "image_data", "signature"}
)
_B64: Final = re.compile(rb"[A-Za-z0-9+/=_-]+")
_ID_CHARS: Final = re.compile(r"[^A-Za-z0-9._:-]")


class SourceFormatError(SettingsError):
    """The file or directory is not the history format of the chosen tool (exit code 2)."""

    title = "Not an importable history"
    default_hint = "Check the path and the source name (see `turnkeep import --help`)."


@dataclass(frozen=True, slots=True)
class Malformed:
    """A record that was skipped: where it is and why."""

    file: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.reason}"


@dataclass(slots=True)
class Draft:
    """An event before the store gives it its ``seq``."""

    kind: str
    payload: dict[str, Any]
    created_at: str
    turn: int
    #: Where the record is (``file:line``), for reporting a payload that cannot be stored.
    where: str | None = None
    #: The payload as stored (compact JSON), once encoded.
    encoded: str | None = None
    #: Its searchable text as the index stores it (folded), computed with the encoding.
    search_text: str | None = None
    #: Its record is (nearly) all ASCII: stored as ASCII JSON, which costs no UTF-8
    #: conversion and, for such text, next to no space (see ``units.encode_chunk``).
    ascii: bool = False


@dataclass(frozen=True, slots=True)
class Existing:
    """A session imported earlier, as the catalog has it."""

    session_id: str
    last_seq: int
    turns: int
    source: Mapping[str, Any]
    metadata: Mapping[str, Any]
    updated_at: str


@dataclass(slots=True)
class Chunk:
    """Events of one source session, written in one transaction.

    A source session is normally one chunk. A very large one is written as several,
    each recording in ``source`` the point the next import resumes from, so an
    interrupted import leaves a consistent prefix that the next run completes.

    Attributes:
        session_id: the turnkeep session id (deterministic from tool and original id).
        source: the session's ``metadata["source"]`` after this chunk (tool, id, file,
            resume point).
        extra: other metadata keys (e.g. ChatGPT ``branches``).
        status: ``"new"`` (no such session yet), ``"grown"`` (events to append),
            ``"unchanged"`` or ``"rewritten"`` (the source changed in a way that cannot
            be appended; nothing is written).
    """

    session_id: str
    title: str | None
    model: str | None
    created_at: str
    updated_at: str
    source: dict[str, Any]
    events: list[Draft] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    status: str = "new"
    note: str | None = None
    #: The token usage of its answers (what the session's totals gain), once encoded.
    tokens: TokenCount | None = None
    #: A new session that is a fork (a ChatGPT branch): the session it branches from
    #: and the last seq the two share, recorded as ``turnkeep sessions fork`` does.
    forked_from: str | None = None
    forked_at_seq: int | None = None

    @classmethod
    def left(
        cls, session_id: str, existing: Existing, status: str, note: str | None = None
    ) -> Chunk:
        """A chunk that writes nothing: the session as ``existing`` left it, with why
        (``status`` ``"unchanged"`` or ``"rewritten"`` and its ``note``)."""
        return cls(
            session_id,
            None,
            None,
            existing.updated_at,
            existing.updated_at,
            dict(existing.source),
            status=status,
            note=note,
        )

    def __post_init__(self) -> None:
        # What describes the session comes from file names and records: a name that
        # is not valid UTF-8 (``\udcff`` in Python) or a JSON ``\ud800`` escape in a
        # title would make the session impossible to store.
        self.title = without_surrogates(self.title)
        self.model = without_surrogates(self.model)
        self.source = without_surrogates(self.source)
        self.extra = without_surrogates(self.extra)


#: Levels of nesting the importers' walks over a record go down (two Python frames a
#: level, well inside the interpreter's stack); deeper values are left as they are.
WALK_DEPTH: Final = 200

#: UTF-16 surrogate code points: only ever alone in a Python string (a file name's
#: undecodable byte, a JSON ``\udXXX`` escape), and then not valid Unicode.
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def without_surrogates(value: T, depth: int = 0) -> T:
    """``value`` (text, or JSON-like lists and dicts of it) with every lone surrogate
    replaced by U+FFFD, the replacement character; anything else, and anything nested
    deeper than :data:`WALK_DEPTH`, is returned as is."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value  # type: ignore[return-value]
    if depth > WALK_DEPTH:
        return value
    if isinstance(value, dict):
        return {  # type: ignore[return-value]
            without_surrogates(k): without_surrogates(v, depth + 1) for k, v in value.items()
        }
    if isinstance(value, list):
        return [without_surrogates(v, depth + 1) for v in value]  # type: ignore[return-value]
    return value


def session_id_for(tool: str, original_id: str) -> str:
    """The turnkeep session id of an imported session: ``tool-original`` made id-safe.

    Characters outside ``[A-Za-z0-9._:-]`` become ``_``; ids longer than 128 characters
    keep a prefix and end with a hash of the whole original id, so they stay unique.
    """
    raw = f"{tool}-{original_id}"
    safe = _ID_CHARS.sub("_", raw)
    if len(safe) <= 128 and safe == raw:
        return safe
    # Replaced characters could make two ids collide, so those get the hash too.
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{safe[:111]}-{digest}"


def to_ts(value: Any) -> str | None:
    """A source timestamp (ISO 8601 text, or seconds / milliseconds since the epoch) as
    turnkeep's UTC form; ``None`` when absent or unreadable. Naive times are UTC."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            seconds = value / 1000 if value > 1e11 else value
            return format_ts(datetime.fromtimestamp(seconds, UTC))
        if isinstance(value, str) and value:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return format_ts(moment)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def short_title(text: str, limit: int = 80) -> str | None:
    """The first line of ``text``, cut to ``limit`` characters; ``None`` when blank."""
    line = " ".join(text.strip().split("\n", 1)[0].split())
    if not line:
        return None
    return line if len(line) <= limit else line[: limit - 1] + "…"


def placeholder(what: str, size: int | None = None) -> str:
    """Text standing in for something not imported (an image, a blob)."""
    return f"[{what}" + ("" if size is None else f", {size:,} bytes") + " - not imported]"


def _looks_binary(text: str) -> bool:
    head = text[:2048].encode("ascii", "ignore")
    return len(head) == min(len(text), 2048) and _B64.fullmatch(head) is not None


def scrub(value: Any, key: str | None = None, depth: int = 0) -> Any:
    """``value`` with large base64 blobs (images, encrypted reasoning) replaced by a
    placeholder that says what was there and its size. Everything else is unchanged.

    Values nested deeper than :data:`WALK_DEPTH` are left as they are (a hostile record
    nested hundreds of levels deep must not exhaust Python's stack; storing it then
    fails the payload's depth check, and the record is reported and skipped)."""
    if depth > WALK_DEPTH:
        return value
    if isinstance(value, str):
        if len(value) < _BLOB_MIN:
            return value
        if value.startswith("data:") and ";base64," in value[:200]:
            media = value[5 : value.index(";")]
            return placeholder(f"{media or 'data'} URI", len(value) * 3 // 4)
        if key in _BLOB_KEYS and _looks_binary(value):
            return placeholder(f"base64 {key}", len(value) * 3 // 4)
        return value
    if isinstance(value, dict):
        return {k: scrub(v, k, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, key, depth + 1) for v in value]
    return value


class EventBuilder:
    """Turns source records into :class:`Draft` events with turns, times and call pairing.

    A new turn starts at each real user message. Events without their own timestamp
    take the previous event's. Tool results get their call's name from the call.

    Token usage goes on ``assistant`` events, as the runtime records it for its own
    answers: :meth:`usage_before` credits the next answer (a source that reports a
    model call's usage with or before its text), :meth:`usage_after` the last answer
    not credited yet (a source that reports it afterwards). A model call that produced
    no answer text (only tool calls) has its usage carried to the next answer, so the
    session's totals (the sum over its answers) miss nothing; usage still waiting for
    an answer when the chunk ends is kept in :attr:`usage_state` (the resume point).

    Args:
        turn: the last turn number already stored (0 for a new session).
        open_calls: ``{call_id: name}`` of calls stored without a result yet.
        last_time: the time of the last stored event.
        fallback: the time of events in a source that dates none of its records.
    """

    def __init__(
        self,
        *,
        turn: int = 0,
        open_calls: Mapping[str, str] | None = None,
        last_time: str | None = None,
        fallback: str | None = None,
        usage_state: Mapping[str, Any] | None = None,
    ) -> None:
        self.turn = turn
        self.fallback = fallback
        self.open_calls: dict[str, str] = dict(open_calls or {})
        self.last_time = last_time
        self.first_time: str | None = None
        self.events: list[Draft] = []
        self._undated: list[Draft] = []
        #: Where the record being mapped is (``file:line``); parsers set it.
        self.where: str | None = None
        #: The record being mapped is (nearly) all ASCII; parsers set it.
        self.ascii = False
        #: Usage waiting for an answer (``"pending"``) and a parser's own bookkeeping
        #: (e.g. the last cumulative total seen); kept in the session's resume point.
        self.usage_state: dict[str, Any] = dict(usage_state or {})
        self._open: Draft | None = None
        #: How many times :meth:`take` handed the events over (a chunk's number).
        self.taken = 0

    def add(
        self,
        kind: str,
        payload: dict[str, Any],
        at: Any = None,
        *,
        source: Mapping[str, Any] | None = None,
        new_turn: bool = False,
    ) -> Draft:
        """Add one event; ``source`` (the unmapped rest of the record) is kept scrubbed."""
        if new_turn:
            self.turn += 1
        stamp = to_ts(at) or self.last_time
        if source:
            payload["source"] = scrub(dict(source))
        draft = Draft(kind, payload, stamp or "", max(self.turn, 1), self.where, ascii=self.ascii)
        self.events.append(draft)
        if kind == "assistant":
            pending = self.usage_state.pop("pending", None)
            if isinstance(pending, dict) and pending:
                payload["usage"] = add_usage(dict(payload.get("usage") or {}), pending)
            self._open = draft
        if stamp is None:
            # Nothing dated yet (a summary line heads the file): it takes the time of the
            # first dated event after it.
            self._undated.append(draft)
            return draft
        for earlier in self._undated:
            earlier.created_at = stamp
        self._undated.clear()
        self.last_time = stamp
        if self.first_time is None:
            self.first_time = stamp
        return draft

    def usage_before(self, usage: Mapping[str, Any]) -> None:
        """Credit ``usage`` (see :func:`token_usage`) to the next answer."""
        pending = self.usage_state.get("pending")
        self.usage_state["pending"] = add_usage(
            dict(pending) if isinstance(pending, dict) else {}, usage
        )

    def credit(self, draft: Draft, usage: Mapping[str, Any]) -> None:
        """Add ``usage`` to an answer of the chunk being built."""
        draft.payload["usage"] = add_usage(dict(draft.payload.get("usage") or {}), usage)

    def usage_after(self, usage: Mapping[str, Any]) -> None:
        """Credit ``usage`` to the last answer of this chunk that has none reported after
        it yet; else (the call answered with tool calls only) to the next answer."""
        draft, self._open = self._open, None
        if draft is None:
            self.usage_before(usage)
        else:
            self.credit(draft, usage)

    def call(
        self,
        call_id: str,
        name: str,
        arguments: Any,
        at: Any = None,
        *,
        source: Mapping[str, Any] | None = None,
    ) -> Draft:
        """A ``tool_call``; arguments that are not an object are kept under ``value``."""
        self.open_calls[call_id] = name
        args = arguments if isinstance(arguments, dict) else {"value": arguments}
        return self.add(
            "tool_call", {"call_id": call_id, "name": name, "arguments": args}, at, source=source
        )

    def result(
        self,
        call_id: str,
        result: Any,
        at: Any = None,
        *,
        error: str | None = None,
        name: str | None = None,
        source: Mapping[str, Any] | None = None,
    ) -> Draft:
        """A ``tool_result`` (``error`` set: the tool failed and ``result`` is dropped)."""
        known = self.open_calls.pop(call_id, None)
        payload: dict[str, Any] = {"call_id": call_id, "name": name or known or ""}
        if error is not None:
            payload["error"] = error
        else:
            payload["result"] = result
        return self.add("tool_result", payload, at, source=source)

    def take(self) -> list[Draft]:
        """The events built so far; the builder starts a new list.

        Events that never got a time (no dated event in the whole source) take
        ``fallback`` (e.g. the file's modification time), else the current time.
        """
        if self._undated:
            stamp = self.fallback or format_ts(datetime.now(UTC))
            for draft in self._undated:
                draft.created_at = stamp
            self._undated.clear()
            self.last_time = self.last_time or stamp
            self.first_time = self.first_time or stamp
        events, self.events = self.events, []
        self.taken += 1
        self._open = None  # written with this chunk: later usage goes to the next answer
        return events


def tail_digest(path: Path, end: int, size: int = 4096) -> str:
    """SHA-256 of the ``size`` bytes before ``end``: recognises a file that was only
    appended to since it was last read (a rewritten file almost surely differs)."""
    start = max(0, end - size)
    with path.open("rb") as handle:
        handle.seek(start)
        data = handle.read(end - start)
    return hashlib.sha256(data).hexdigest()


def text_of(value: Any) -> str:
    """A JSON value as text: strings as they are, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
