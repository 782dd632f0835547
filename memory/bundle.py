"""The portable session format: a versioned, deterministic, lossless JSON export.

An export file is one JSON document::

    {
      "format": "turnkeep.sessions",
      "version": 2,
      "sessions": [
        {
          "id": "...", "title": ..., "agent": ..., "provider": ..., "model": ...,
          "created_at": "...", "updated_at": "...", "metadata": {...},
          "pinned_at": null, "archived_at": null, "tags": ["..."],
          "forked_from": null, "forked_at_seq": null,
          "prompt_tokens": 0, "completion_tokens": 0, "tokens_estimated": false,
          "states": [
            {"seq": 2, "created_at": "...", "state": {...}}
          ],
          "events": [
            {"seq": 1, "turn": 1, "kind": "user", "created_at": "...", "payload": {...}}
          ]
        }
      ]
    }

Sessions are ordered by id, events and states by ``seq``; every key is always present
and always in this order; each event and state is on its own line (so a parse error's
line number points at it). Payloads, states and metadata are written as compact JSON in
their stored key order, so importing a file and exporting it again gives the same bytes,
and an imported payload is stored with exactly the text it had. Counters (turns,
events, last ``seq``) are derived from the events and not written.

:func:`parse_bundle` validates a whole file before anything is written and names the
line or field that is wrong (``sessions[2].events[5].seq``).

Version 2 added the organizing fields (pins, archive, tags, fork lineage, token
totals). Version 1 files (without them) still import, as sessions neither pinned,
archived, tagged nor forked, with no recorded tokens.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Final, NoReturn

from memory.errors import BundleFormatError, SerializationError
from memory.records import check_text, decode_payload, encode_payload, normalize_tag, parse_ts

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MAX_ID_LENGTH",
    "ImportOutcome",
    "PortableEvent",
    "PortableSession",
    "PortableState",
    "canonical_json",
    "dumps_bundle",
    "parse_bundle",
    "parse_bundle_versioned",
    "write_bundle",
]

#: The value of the ``format`` field of every export file.
FORMAT_NAME: Final = "turnkeep.sessions"
#: The version this code writes.
FORMAT_VERSION: Final = 2
#: Every version this code reads.
READABLE_VERSIONS: Final = (1, 2)

_MAX_INT: Final = 2**63 - 1
#: The longest session id an import accepts.
MAX_ID_LENGTH: Final = 128
#: What a session id in an export file may be made of: every id turnkeep makes (UUIDs)
#: fits, and nothing that could steer a terminal or break a table does.
_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9._:-]+")


@dataclass(frozen=True, slots=True)
class PortableEvent:
    """One event as exported; ``payload_json`` is canonical compact JSON text."""

    seq: int
    turn: int
    kind: str
    created_at: str
    payload_json: str
    #: The event's text as the search index stores it (folded), when the writer already
    #: has it: an importer computes it from the payload it just built, off the write
    #: path, so the backend need not decode ``payload_json`` again. ``None``: the
    #: backend derives it. Not part of the export (never compared, never written).
    search_text: str | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class PortableState:
    """One state snapshot as exported; ``state_json`` is canonical compact JSON text."""

    seq: int
    created_at: str
    state_json: str


@dataclass(frozen=True, slots=True)
class PortableSession:
    """A whole session as exported: its catalog row, events and state snapshots.

    Two sessions compare equal exactly when their exports are byte-identical.
    """

    id: str
    title: str | None
    agent: str | None
    provider: str | None
    model: str | None
    created_at: str
    updated_at: str
    metadata_json: str
    states: tuple[PortableState, ...]
    events: tuple[PortableEvent, ...]
    pinned_at: str | None = None
    archived_at: str | None = None
    tags: tuple[str, ...] = ()
    forked_from: str | None = None
    forked_at_seq: int | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_estimated: bool = False

    @property
    def turns(self) -> int:
        """The highest turn number (0 for a session without events)."""
        return max((e.turn for e in self.events), default=0)

    @property
    def last_seq(self) -> int:
        """The highest ``seq`` (0 for a session without events)."""
        return self.events[-1].seq if self.events else 0

    def with_id(self, session_id: str) -> PortableSession:
        """The same session under another id (``import --as-new``)."""
        return replace(self, id=session_id)


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What an import did.

    Attributes:
        imported: ``(id in the file, id stored)`` for every session written; the two
            differ only with ``as_new``.
        unchanged: ids already present with identical content (nothing written).
        events: the number of events written.
    """

    imported: tuple[tuple[str, str], ...]
    unchanged: tuple[str, ...]
    events: int


def check_distinct_ids(sessions: Iterable[PortableSession]) -> list[str]:
    """The imported sessions' ids, in order; refused when two sessions share one.

    Raises:
        BundleFormatError: they do.
    """
    ids = [s.id for s in sessions]
    if len(set(ids)) != len(ids):
        raise BundleFormatError("two imported sessions share an id", where="sessions")
    return ids


def canonical_json(text: str | bytes | None) -> str:
    """Return stored JSON object text in the canonical compact form the export uses.

    Text written by :func:`memory.records.encode_payload` is returned unchanged.

    Raises:
        SerializationError: the text is not a JSON object.
    """
    return encode_payload(decode_payload(text))


# -- writing ------------------------------------------------------------------------------


def _str(value: str | None) -> str:
    return json.dumps(value, ensure_ascii=False)


def _session_text(session: PortableSession) -> str:
    lines = [
        "    {",
        f'      "id": {_str(session.id)},',
        f'      "title": {_str(session.title)},',
        f'      "agent": {_str(session.agent)},',
        f'      "provider": {_str(session.provider)},',
        f'      "model": {_str(session.model)},',
        f'      "created_at": {_str(session.created_at)},',
        f'      "updated_at": {_str(session.updated_at)},',
        f'      "metadata": {session.metadata_json},',
        f'      "pinned_at": {_str(session.pinned_at)},',
        f'      "archived_at": {_str(session.archived_at)},',
        f'      "tags": {json.dumps(list(session.tags), ensure_ascii=False)},',
        f'      "forked_from": {_str(session.forked_from)},',
        f'      "forked_at_seq": {json.dumps(session.forked_at_seq)},',
        f'      "prompt_tokens": {session.prompt_tokens},',
        f'      "completion_tokens": {session.completion_tokens},',
        f'      "tokens_estimated": {json.dumps(session.tokens_estimated)},',
    ]
    states = [
        f'        {{"seq": {s.seq}, "created_at": {_str(s.created_at)}, "state": {s.state_json}}}'
        for s in session.states
    ]
    events = [
        f'        {{"seq": {e.seq}, "turn": {e.turn}, "kind": {_str(e.kind)}, '
        f'"created_at": {_str(e.created_at)}, "payload": {e.payload_json}}}'
        for e in session.events
    ]
    for name, items, last in (("states", states, False), ("events", events, True)):
        comma = "" if last else ","
        if items:
            lines.append(f'      "{name}": [')
            lines.append(",\n".join(items))
            lines.append(f"      ]{comma}")
        else:
            lines.append(f'      "{name}": []{comma}')
    lines.append("    }")
    return "\n".join(lines)


_HEADER: Final = (
    f'{{\n  "format": "{FORMAT_NAME}",\n  "version": {FORMAT_VERSION},\n  "sessions": ['
)


async def write_bundle(
    sessions: AsyncIterable[PortableSession], write: Callable[[str], object]
) -> int:
    """Write an export file, one session at a time, through ``write``.

    Args:
        sessions: the sessions, in the order to write them (backends yield them by id).
        write: called with consecutive chunks of the UTF-8 text.

    Returns:
        The number of sessions written.

    Raises:
        Whatever iterating ``sessions`` or calling ``write`` raises.
    """
    iterator = aiter(sessions)
    # Fetch the first session before writing anything, so that an error raised up front
    # (an unknown id) leaves no half-written document behind.
    session = await anext(iterator, None)
    write(_HEADER)
    count = 0
    while session is not None:
        write(("\n" if count == 0 else ",\n") + _session_text(session))
        count += 1
        session = await anext(iterator, None)
    write("\n  ]\n}\n" if count else "]\n}\n")
    return count


def dumps_bundle(sessions: Iterable[PortableSession]) -> str:
    """Return the export file text for ``sessions`` (in the order given)."""
    body = ",\n".join(_session_text(s) for s in sessions)
    return f"{_HEADER}\n{body}\n  ]\n}}\n" if body else f"{_HEADER}]\n}}\n"


# -- reading ------------------------------------------------------------------------------


def _fail(path: str, message: str) -> NoReturn:
    raise BundleFormatError(f"{path}: {message}", where=path)


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _object(value: Any, path: str, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        _fail(path, f"expected an object, got {_kind_of(value)}")
    for key in keys:
        if key not in value:
            _fail(f"{path}.{key}" if path else key, "missing")
    for key in value:
        if key not in keys:
            _fail(f"{path}.{key}" if path else key, "unknown field")
    return value


def _int(value: Any, path: str, *, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        _fail(path, f"expected an integer, got {_kind_of(value)}")
    if not minimum <= value <= _MAX_INT:
        _fail(path, f"{value} is out of range ({minimum} to {_MAX_INT})")
    return value


def _text(value: Any, path: str, *, nullable: bool = False) -> Any:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        expected = "a string or null" if nullable else "a string"
        _fail(path, f"expected {expected}, got {_kind_of(value)}")
    try:
        return check_text(value, path)
    except SerializationError:
        _fail(path, "contains a lone surrogate")


def _timestamp(value: Any, path: str) -> str:
    text: str = _text(value, path)
    try:
        parse_ts(text)
    except ValueError:
        _fail(path, f"{text!r} is not an ISO 8601 timestamp")
    return text


def _json_object(value: Any, path: str) -> str:
    if not isinstance(value, dict):
        _fail(path, f"expected an object, got {_kind_of(value)}")
    try:
        return encode_payload(value)
    except SerializationError as exc:
        _fail(path, exc.message)


_SESSION_KEYS: Final = (
    "id",
    "title",
    "agent",
    "provider",
    "model",
    "created_at",
    "updated_at",
    "metadata",
    "states",
    "events",
)
#: Keys a version 2 session adds to :data:`_SESSION_KEYS`.
_ORGANIZE_KEYS: Final = (
    "pinned_at",
    "archived_at",
    "tags",
    "forked_from",
    "forked_at_seq",
    "prompt_tokens",
    "completion_tokens",
    "tokens_estimated",
)


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        _fail(path, f"expected an array, got {_kind_of(value)}")
    return value


def _organize_fields(raw: dict[str, Any], path: str) -> dict[str, Any]:
    """The version 2 fields of a session, validated."""
    tags: list[str] = []
    for index, item in enumerate(_list(raw["tags"], f"{path}.tags")):
        tag: str = _text(item, f"{path}.tags[{index}]")
        try:
            clean = normalize_tag(tag)
        except SerializationError as exc:
            _fail(f"{path}.tags[{index}]", exc.message)
        if clean != tag or (tags and tag <= tags[-1]):
            _fail(f"{path}.tags[{index}]", "tags must be normalised, sorted and distinct")
        tags.append(tag)
    forked_at = raw["forked_at_seq"]
    estimated = raw["tokens_estimated"]
    if not isinstance(estimated, bool):
        _fail(f"{path}.tokens_estimated", f"expected a boolean, got {_kind_of(estimated)}")
    for key in ("pinned_at", "archived_at"):
        if raw[key] is not None:
            _timestamp(raw[key], f"{path}.{key}")
    return {
        "pinned_at": raw["pinned_at"],
        "archived_at": raw["archived_at"],
        "tags": tuple(tags),
        "forked_from": _text(raw["forked_from"], f"{path}.forked_from", nullable=True),
        "forked_at_seq": None
        if forked_at is None
        else _int(forked_at, f"{path}.forked_at_seq", minimum=0),
        "prompt_tokens": _int(raw["prompt_tokens"], f"{path}.prompt_tokens", minimum=0),
        "completion_tokens": _int(raw["completion_tokens"], f"{path}.completion_tokens", minimum=0),
        "tokens_estimated": estimated,
    }


def _session(value: Any, path: str, version: int = FORMAT_VERSION) -> PortableSession:
    keys = _SESSION_KEYS if version == 1 else (*_SESSION_KEYS, *_ORGANIZE_KEYS)
    raw = _object(value, path, keys)
    organize = _organize_fields(raw, path) if version >= 2 else {}
    session_id: str = _text(raw["id"], f"{path}.id")
    if not session_id:
        _fail(f"{path}.id", "must not be empty")
    if len(session_id) > MAX_ID_LENGTH:
        _fail(f"{path}.id", f"is {len(session_id)} characters long; at most {MAX_ID_LENGTH}")
    if not _ID_PATTERN.fullmatch(session_id):
        _fail(
            f"{path}.id",
            "may only contain letters, digits and . _ : - "
            "(no spaces, newlines or control characters)",
        )
    events: list[PortableEvent] = []
    for index, item in enumerate(_list(raw["events"], f"{path}.events")):
        where = f"{path}.events[{index}]"
        event = _object(item, where, ("seq", "turn", "kind", "created_at", "payload"))
        seq = _int(event["seq"], f"{where}.seq", minimum=1)
        if seq != index + 1:
            _fail(f"{where}.seq", f"expected {index + 1} (seq is contiguous from 1), got {seq}")
        kind: str = _text(event["kind"], f"{where}.kind")
        if not kind:
            _fail(f"{where}.kind", "must not be empty")
        events.append(
            PortableEvent(
                seq=seq,
                turn=_int(event["turn"], f"{where}.turn", minimum=-_MAX_INT - 1),
                kind=kind,
                created_at=_timestamp(event["created_at"], f"{where}.created_at"),
                payload_json=_json_object(event["payload"], f"{where}.payload"),
            )
        )
    states: list[PortableState] = []
    for index, item in enumerate(_list(raw["states"], f"{path}.states")):
        where = f"{path}.states[{index}]"
        state = _object(item, where, ("seq", "created_at", "state"))
        seq = _int(state["seq"], f"{where}.seq", minimum=0)
        if states and seq <= states[-1].seq:
            _fail(f"{where}.seq", f"{seq} is not greater than the previous state's")
        if seq > len(events):
            _fail(f"{where}.seq", f"{seq} is past the session's last event ({len(events)})")
        states.append(
            PortableState(
                seq=seq,
                created_at=_timestamp(state["created_at"], f"{where}.created_at"),
                state_json=_json_object(state["state"], f"{where}.state"),
            )
        )
    return PortableSession(
        id=session_id,
        title=_text(raw["title"], f"{path}.title", nullable=True),
        agent=_text(raw["agent"], f"{path}.agent", nullable=True),
        provider=_text(raw["provider"], f"{path}.provider", nullable=True),
        model=_text(raw["model"], f"{path}.model", nullable=True),
        created_at=_timestamp(raw["created_at"], f"{path}.created_at"),
        updated_at=_timestamp(raw["updated_at"], f"{path}.updated_at"),
        metadata_json=_json_object(raw["metadata"], f"{path}.metadata"),
        states=tuple(states),
        events=tuple(events),
        **organize,
    )


def _no_constants(name: str) -> NoReturn:
    raise BundleFormatError(f"{name} is not valid JSON", where=name)


def parse_bundle(data: str | bytes) -> tuple[PortableSession, ...]:
    """Parse and validate a whole export file (see :func:`parse_bundle_versioned`)."""
    return parse_bundle_versioned(data)[1]


def parse_bundle_versioned(data: str | bytes) -> tuple[int, tuple[PortableSession, ...]]:
    """Parse and validate a whole export file; its format version and its sessions.

    Args:
        data: the file's content (bytes are decoded as UTF-8).

    Returns:
        The file's version, and the sessions in file order.

    Raises:
        BundleFormatError: the file is not UTF-8, not JSON (names the line and column,
            e.g. a truncated file), of another format or version, or a field is missing,
            of the wrong type or inconsistent (names it, e.g.
            ``sessions[2].events[5].seq``); a session id is longer than
            :data:`MAX_ID_LENGTH` or has characters other than ASCII letters, digits and
            ``. _ : -``; or two sessions share an id.
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise BundleFormatError(
                f"line {line}: the file is not UTF-8 text (byte {exc.start})", where=f"line {line}"
            ) from exc
    else:
        text = data
    if not text.strip():
        raise BundleFormatError("the file is empty", where="line 1")
    try:
        doc = json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        ending = text.strip()
        truncated = ending.startswith("{") and (
            exc.pos >= len(text.rstrip()) or not ending.endswith("}")
        )
        hint = " (the file looks truncated)" if truncated else ""
        raise BundleFormatError(f"{where}: {exc.msg}{hint}", where=where) from exc
    except RecursionError as exc:
        raise BundleFormatError("the file is nested too deeply", where="line 1") from exc
    if not isinstance(doc, dict):
        _fail("(top level)", f"expected an object, got {_kind_of(doc)}")
    if doc.get("format") != FORMAT_NAME:
        _fail("format", f"expected {FORMAT_NAME!r}, got {doc.get('format')!r}")
    version = doc.get("version")
    if version not in READABLE_VERSIONS or isinstance(version, bool):
        readable = " and ".join(str(v) for v in READABLE_VERSIONS)
        _fail(
            "version",
            f"unsupported version {version!r} (this turnkeep reads versions {readable})",
        )
    raw = _object(doc, "", ("format", "version", "sessions"))
    sessions: list[PortableSession] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(_list(raw["sessions"], "sessions")):
        session = _session(item, f"sessions[{index}]", version)
        if session.id in seen:
            _fail(f"sessions[{index}].id", f"duplicate id (also sessions[{seen[session.id]}])")
        seen[session.id] = index
        sessions.append(session)
    return int(version), tuple(sessions)
