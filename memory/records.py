"""Frozen records exchanged with the memory layer, and their JSON encoding."""

from __future__ import annotations

import json
import os
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Final

from memory.errors import SerializationError

__all__ = [
    "MAX_TAG_LENGTH",
    "Clock",
    "Event",
    "EventDraft",
    "NewTurn",
    "SaveResult",
    "SessionInfo",
    "SessionPage",
    "StateSnapshot",
    "TurnOf",
    "check_session_id",
    "bounded_title",
    "check_title",
    "TurnRef",
    "TokenCount",
    "decode_payload",
    "encode_payload",
    "encode_payload_ascii",
    "format_ts",
    "new_session_id",
    "normalize_tag",
    "typed_tag",
    "parse_ts",
    "utc_now",
]

#: Where "now" comes from: :func:`utc_now`, or a frozen clock in tests and screenshots.
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The default clock: the current time in UTC."""
    return datetime.now(UTC)


#: The longest session id accepted for new data (ids are shown in tables and typed).
MAX_ID_CHARS: Final = 256
#: The longest title accepted (a title is one line in a list, not a document).
MAX_TITLE_CHARS: Final = 1000
_ID_FORBIDDEN: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

#: Nesting deeper than this is refused: SQLite's JSON functions stop at 1000 levels and
#: deeper documents cannot be read back by ``json_extract``.
MAX_JSON_DEPTH: Final = 500
#: Longest tag accepted, in characters.
MAX_TAG_LENGTH: Final = 64


@dataclass(frozen=True, slots=True)
class TokenCount:
    """Tokens of one assistant answer (or a session's totals), as the runtime counted them.

    The memory layer never reads payload keys: the runtime passes these figures down
    with the draft (:attr:`EventDraft.tokens`) and the save point's transaction adds
    them to the session's totals.

    Attributes:
        prompt: prompt tokens.
        completion: generated tokens.
        estimated: the figures are an estimate, not the provider's report.
    """

    prompt: int = 0
    completion: int = 0
    estimated: bool = False


@dataclass(frozen=True, slots=True)
class EventDraft:
    """An event to be stored; the memory layer assigns its ``seq``.

    Attributes:
        kind: what happened (see :mod:`runtime.payloads` for the kinds the runtime writes).
        payload: a JSON object (role, content, tool name/arguments, usage, ...).
        turn: the turn number this event belongs to (1-based).
        tokens: for an assistant answer, its token usage (added to the session's
            totals in the same transaction); ``None`` for everything else.
    """

    kind: str
    payload: Mapping[str, Any]
    turn: int = 1
    tokens: TokenCount | None = None


@dataclass(frozen=True, slots=True)
class NewTurn:
    """A save point that starts a new turn: its number is assigned inside the transaction.

    The turn gets ``turn_count + 1`` of its session as read by the transaction that
    stores it, so two writers on one session never both write "turn 2".
    """


@dataclass(frozen=True, slots=True)
class TurnOf:
    """A save point that continues the turn started by an earlier save point.

    Attributes:
        key: the key of that earlier save point (stored before this one, same session).
    """

    key: str


#: How a save point says which turn its events belong to.
TurnRef = NewTurn | TurnOf


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What storing a save point gave its events.

    Attributes:
        seqs: the ``seq`` of each event, in order.
        turn: the turn number they were stored under.
    """

    seqs: tuple[int, ...]
    turn: int


@dataclass
class Event:
    """A stored event, as recalled. Treat it as read-only.

    The payload is kept as the stored JSON text and decoded on first access, so paging
    through a long session costs no JSON parsing for events nobody looks at. Not
    ``frozen``, for the same construction-cost reason as :class:`SessionInfo`.

    Attributes:
        session_id: the session it belongs to.
        seq: its position in the session, contiguous from 1.
        turn: the turn number.
        kind: what happened.
        payload_json: the payload exactly as stored (compact JSON).
        created_at: when it was stored (UTC, ISO 8601 with ``Z``).
    """

    session_id: str
    seq: int
    turn: int
    kind: str
    payload_json: str
    created_at: str

    @cached_property
    def payload(self) -> dict[str, Any]:
        """The decoded payload.

        Raises:
            SerializationError: the stored text is not a JSON object.
        """
        return decode_payload(self.payload_json)


@dataclass(slots=True)
class SessionInfo:
    """One row of the session catalog. Treat it as read-only.

    Not ``frozen``: a frozen dataclass costs ~2 us more per construction, which is most
    of the recent-list budget (50 rows per page, measured by ``bench`` scenario 4).

    Attributes:
        id: the session id.
        title: a human title, or ``None`` when the user never gave one.
        agent: the agent identity that ran it.
        provider: the model provider of its turns.
        model: the model name.
        created_at: creation time (UTC ISO 8601).
        updated_at: last activity (UTC ISO 8601); the recent list sorts on it.
        turns: number of turns.
        events: number of events.
        last_seq: the highest ``seq`` assigned.
        metadata: free-form JSON object.
        pinned_at: when it was pinned (pinned sessions head the list), else ``None``.
        archived_at: when it was archived (left out of the default list), else ``None``.
        tags: its tags, sorted.
        forked_from: the session it was forked from, else ``None``.
        forked_at_seq: the last ``seq`` copied from ``forked_from``.
        prompt_tokens: prompt tokens of its assistant answers.
        completion_tokens: completion tokens of its assistant answers.
        tokens_estimated: some of those figures are estimates.
    """

    id: str
    title: str | None
    agent: str | None
    provider: str | None
    model: str | None
    created_at: str
    updated_at: str
    turns: int
    events: int
    last_seq: int
    metadata: Mapping[str, Any] = field(default_factory=dict)
    pinned_at: str | None = None
    archived_at: str | None = None
    tags: tuple[str, ...] = ()
    forked_from: str | None = None
    forked_at_seq: int | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_estimated: bool = False

    @property
    def pinned(self) -> bool:
        """Whether the session is pinned."""
        return self.pinned_at is not None

    @property
    def archived(self) -> bool:
        """Whether the session is archived."""
        return self.archived_at is not None


@dataclass(frozen=True, slots=True)
class SessionPage:
    """A page of the recent-sessions list.

    Attributes:
        sessions: the sessions, newest activity first.
        cursor: pass it back as ``after`` to get the next page; ``None`` at the end.
    """

    sessions: tuple[SessionInfo, ...]
    cursor: tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class StateSnapshot:
    """A checkpoint of a session's runtime state.

    Attributes:
        session_id: the session.
        seq: the last event seq the snapshot covers.
        state: the JSON object.
        created_at: when it was saved.
    """

    session_id: str
    seq: int
    state: Mapping[str, Any]
    created_at: str


def new_session_id() -> str:
    """Return a new session id: time-ordered (like UUIDv7) and URL-safe.

    The first 12 hex digits are milliseconds since the epoch so ids sort by creation.
    """
    millis = time.time_ns() // 1_000_000
    return f"{millis:012x}{os.urandom(10).hex()}"


def format_ts(moment: datetime) -> str:
    """Format a moment as UTC ISO 8601 with microseconds and a ``Z`` (sortable as text)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(text: str) -> datetime:
    """Parse a timestamp written by :func:`format_ts`."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


#: JSON values that hold no others (checked before the ``Mapping`` ABC, which is slow).
_LEAVES: Final = (str, int, float, type(None))


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a JSON value, stopping early once ``limit`` is exceeded."""
    depth = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        children: Iterable[Any]
        if isinstance(item, Mapping):
            children = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        depth = max(depth, level)
        if depth > limit:
            return depth
        # Only containers go on the stack: most values are text and numbers.
        stack.extend((v, level + 1) for v in children if not isinstance(v, _LEAVES))
    return depth


#: A surrogate's escape as ``json.dumps`` writes it (lower-case hex).
_SURROGATE_ESCAPE: Final = re.compile(r"\\ud[89a-f]")


def _check_shape(payload: Mapping[str, Any]) -> None:
    """Refuse what is not a JSON object, or is nested deeper than SQLite reads."""
    if not isinstance(payload, Mapping):
        raise SerializationError(
            f"an event payload must be a JSON object, not {type(payload).__name__}"
        )
    if _depth(payload, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise SerializationError(f"payload is nested deeper than {MAX_JSON_DEPTH} levels")


def encode_payload_ascii(payload: Mapping[str, Any]) -> str:
    """:func:`encode_payload`'s checks and JSON value, written as ASCII (``\\uXXXX``
    escapes for everything else): for bulk writes (imports).

    ASCII text costs SQLite no conversion and the encoder no UTF-8 pass, so an import
    of hundreds of megabytes encodes about a third faster; readers decode it to the
    very same value. A lone surrogate is still refused: only a text holding a
    ``\\ud`` escape at all is checked again the exact way.

    Raises:
        SerializationError: as :func:`encode_payload`.
    """
    _check_shape(payload)
    try:
        text = json.dumps(payload, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError) as exc:
        raise SerializationError(f"payload is not JSON-serialisable: {exc}") from exc
    # (The plain substring test first: a C search many times faster than the pattern's
    # over a text of megabytes, and almost never true.)
    if "\\ud" in text and _SURROGATE_ESCAPE.search(text):  # astral pairs, or a lone one
        encode_payload(payload)  # the exact check
    return text


def encode_payload(payload: Mapping[str, Any]) -> str:
    """Encode a payload as compact JSON text that round-trips exactly.

    Raises:
        SerializationError: the payload is not a JSON object, holds values JSON cannot
            represent (NaN, sets, bytes), text that is not valid Unicode (lone
            surrogates), or is nested deeper than :data:`MAX_JSON_DEPTH`.
    """
    _check_shape(payload)
    try:
        text = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SerializationError(
            "payload contains text that is not valid Unicode (a lone surrogate?)"
        ) from exc
    except (TypeError, ValueError, RecursionError) as exc:
        raise SerializationError(f"payload is not JSON-serialisable: {exc}") from exc
    return text


def decode_payload(text: str | bytes | None) -> dict[str, Any]:
    """Decode a stored payload.

    Raises:
        SerializationError: the stored text is not a JSON object.
    """
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SerializationError(f"stored payload is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise SerializationError("stored payload is not a JSON object")
    return value


def check_text(value: str, what: str) -> str:
    """Refuse text that cannot be stored as UTF-8 (lone surrogates).

    Raises:
        SerializationError: the text is not valid Unicode.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SerializationError(
            f"{what} holds bytes that are not UTF-8 text (a lone surrogate) and cannot be stored",
            hint="Give the text as UTF-8: check the terminal's or the file's encoding "
            "(LANG / LC_ALL set to a UTF-8 locale).",
        ) from exc
    return value


def check_session_id(session_id: str) -> str:
    """Refuse a session id that could not be shown or typed safely.

    Ids are 1 to :data:`MAX_ID_CHARS` characters of valid Unicode, without control
    characters, line breaks or bidirectional overrides (they are printed in tables and
    passed on command lines).

    Raises:
        SerializationError: the id is empty, too long or holds such characters.
    """
    check_text(session_id, "session id")
    if not session_id or session_id.strip() != session_id:
        raise SerializationError(
            f"a session id must be non-empty without surrounding spaces, not {session_id!r}"
        )
    if len(session_id) > MAX_ID_CHARS:
        raise SerializationError(
            f"a session id may have at most {MAX_ID_CHARS} characters, not {len(session_id):,}"
        )
    if _ID_FORBIDDEN.search(session_id):
        raise SerializationError(
            "a session id must not contain control characters, line breaks or "
            f"bidirectional overrides: {session_id.encode('unicode_escape').decode()[:80]!r}"
        )
    return session_id


def check_title(title: str) -> str:
    """Refuse a title that is not valid Unicode or longer than :data:`MAX_TITLE_CHARS`.

    Raises:
        SerializationError: the title cannot be stored as a title.
    """
    check_text(title, "title")
    if len(title) > MAX_TITLE_CHARS:
        raise SerializationError(
            f"a title may have at most {MAX_TITLE_CHARS:,} characters, not {len(title):,}"
        )
    return title


def bounded_title(title: str | None) -> str | None:
    """``title`` cut to :data:`MAX_TITLE_CHARS` (ending in ``…``) for data that arrives
    whole (imports, export files): a title another tool wrote is kept, not refused, but a
    megabyte of title would be shown in every list and slow every title search."""
    if title is None or len(title) <= MAX_TITLE_CHARS:
        return title
    return title[: MAX_TITLE_CHARS - 1] + "…"


def check_new_session(session_id: str, title: str | None, agent: str | None) -> None:
    """The checks of a session about to be created: its id, title and agent name.

    Raises:
        SerializationError: one of them cannot be stored.
    """
    check_session_id(session_id)
    if title is not None:
        check_title(title)
    if agent is not None:
        check_text(agent, "agent")


def typed_tag(text: str) -> str:
    """A tag as a person writes it (``#work`` in the home filter): trimmed, without its
    leading ``#``, then :func:`normalize_tag`. Every tag the organizer stores and every
    tag typed in the CLI or the TUI is read this way.

    Raises:
        SerializationError: see :func:`normalize_tag`.
    """
    return normalize_tag(text.strip().lstrip("#"))


def normalize_tag(text: str) -> str:
    """Return a tag trimmed of surrounding whitespace, or refuse it.

    Raises:
        SerializationError: the tag is empty, longer than :data:`MAX_TAG_LENGTH`,
            contains whitespace, a control character, or ``[``/``]`` (markup-looking).
    """
    tag = text.strip()
    shown = repr(text)
    if not tag:
        raise SerializationError("a tag must not be empty")
    if len(tag) > MAX_TAG_LENGTH:
        raise SerializationError(f"tag {shown[:40]}... is longer than {MAX_TAG_LENGTH} characters")
    check_text(tag, "tag")
    for char in tag:
        if char.isspace():
            raise SerializationError(f"tag {shown} contains whitespace; use - or _ instead")
        if char in "[]":
            raise SerializationError(f"tag {shown} contains {char!r}, which looks like markup")
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            raise SerializationError(f"tag {shown} contains a control character")
    return tag
