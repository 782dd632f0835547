"""Scenario 7: hostile input (property-based, with hypothesis).

On every backend (ephemeral, embedded file, sqld over ws and http): event payloads of
any Unicode (lone surrogates included), NUL bytes, SQL metacharacters, floats, huge
integers and nesting; any session id and title; nesting around the depth limit; 10 MB
messages. Each input either round-trips exactly (types included: ``1`` is not ``1.0``
nor ``True``, ``-0.0`` is not ``0.0``) or is refused with a typed error, and a refused
save point leaves nothing behind (the event stored with it in the same call is absent
too). Malformed import files and settings are in :mod:`.hostile_files`.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from memory import (
    EphemeralMemory,
    EventDraft,
    MemoryBackend,
    MemoryLayerError,
    NotFoundError,
    SerializationError,
    new_session_id,
    open_embedded,
    open_remote,
)
from memory.records import MAX_JSON_DEPTH
from runtime.persistence import PersistenceWorker
from tests.reliability import hostile_files
from tests.reliability.report import Outcome, Scale
from tests.support.sqld import JwtKeys, SqldServer

__all__ = ["run"]

T = TypeVar("T")

SPECIALS = [
    "'; DROP TABLE sessions; --",
    '" OR 1=1 --',
    "%",
    "_",
    "\\",
    "%_\\'\"`",
    "\x00",
    "a\x00b",
    "\u2028\u2029",
    "\u202e reversed",
    "\ufeff",
    "🎉👩‍👩‍👧",
    "ﷺ",
    "\U0010ffff",
    "\ud800",
    "x\udfffy",
    "NULL",
    "null",
    "",
    " ",
]
any_char = st.characters(exclude_categories=())  # lone surrogates included
texts = st.one_of(st.text(alphabet=any_char, max_size=40), st.sampled_from(SPECIALS))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**70),
    st.floats(),  # NaN and infinities included: JSON cannot hold them
    texts,
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=24,
)
payloads = st.dictionaries(texts, values, max_size=6)
kinds = st.one_of(
    st.sampled_from(["user", "assistant", "tool_call", "tool_result"]), texts.filter(bool)
)


def has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def bad_id(sid: str) -> bool:
    """The id policy (issue 11): refused when it could not be shown or typed safely."""
    controls = any(
        ord(ch) < 0x20
        or 0x7F <= ord(ch) <= 0x9F
        or ch in "\u2028\u2029"
        or 0x202A <= ord(ch) <= 0x202E
        or 0x2066 <= ord(ch) <= 0x2069
        for ch in sid
    )
    return has_surrogate(sid) or controls or not sid or sid != sid.strip() or len(sid) > 256


def bad_title(title: str) -> bool:
    return has_surrogate(title) or len(title) > 1000


def unstorable(value: Any) -> bool:
    """Whether JSON text of valid Unicode cannot hold ``value`` (the oracle)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and has_surrogate(item):
            return True
        if isinstance(item, float) and not math.isfinite(item):
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def same(a: Any, b: Any) -> bool:
    """Exact equality: types, key order-insensitive dicts, and the sign of zero."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, float):
            if not (x == y and math.copysign(1, x) == math.copysign(1, y)):
                return False
        elif isinstance(x, dict):
            if x.keys() != y.keys():
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif x != y:
            return False
    return True


class Probe:
    """Runs coroutines on one loop, against every backend, and keeps the score."""

    def __init__(self, outcome: Outcome) -> None:
        self.loop = asyncio.new_event_loop()
        self.backends: list[tuple[str, MemoryBackend]] = []
        self.outcome = outcome
        self.tried = 0

    def run(self, coro: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coro)

    def problem(self, text: str) -> None:
        self.outcome.problem(text)


async def _store_or_refuse(
    probe: Probe, name: str, memory: MemoryBackend, draft: EventDraft, refuse: bool
) -> None:
    session = new_session_id()
    await memory.store(session, [EventDraft("user", {"content": "guard"})])
    try:
        await memory.store(session, [EventDraft("user", {"content": "same call"}), draft])
    except MemoryLayerError as exc:
        stored = await memory.recall(session)
        info = await memory.get_session(session)
        if len(stored) != 1 or info.last_seq != 1 or info.events != 1:
            probe.outcome.corrupted += 1
            probe.problem(f"{name}: a refused save point was half-stored ({type(exc).__name__})")
        if not refuse:
            probe.problem(f"{name}: refused a storable event: {type(exc).__name__}: {exc}")
        elif not isinstance(exc, SerializationError):
            probe.problem(f"{name}: refused with {type(exc).__name__}, not a SerializationError")
        return
    except Exception as exc:
        probe.problem(f"{name}: an untyped error escaped: {type(exc).__name__}: {exc}")
        return
    if refuse:
        probe.problem(f"{name}: accepted what JSON text cannot hold: {draft!r:.200}")
        return
    events = await memory.recall(session)
    back = events[-1] if len(events) == 3 else None
    if back is None or not (
        back.kind == draft.kind and back.turn == draft.turn and same(back.payload, draft.payload)
    ):
        probe.outcome.corrupted += 1
        probe.problem(f"{name}: did not round-trip: {draft!r:.200}")


def _payload_property(probe: Probe, scale: Scale) -> None:
    @seed(scale.seed)
    @settings(
        max_examples=scale.examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(payload=payloads, kind=kinds, turn=st.integers(min_value=-(2**63), max_value=2**63 - 1))
    def prop(payload: dict[str, Any], kind: str, turn: int) -> None:
        probe.tried += 1
        refuse = unstorable(payload) or has_surrogate(kind)
        for name, memory in probe.backends:
            probe.run(
                _store_or_refuse(probe, name, memory, EventDraft(kind, payload, turn), refuse)
            )

    _guard(probe, "payload property", prop)


async def _ids_and_titles(
    probe: Probe, name: str, memory: MemoryBackend, sid: str, title: str
) -> None:
    try:
        await memory.store(sid, [EventDraft("user", {"content": "hello"})])
    except SerializationError:
        if not bad_id(sid):
            probe.problem(f"{name}: refused the session id {sid!r}")
        else:  # looking such an id up is refused just as clearly (it cannot exist)
            try:
                await memory.recall(sid)
                probe.problem(f"{name}: recall of an id with a lone surrogate found something")
            except (SerializationError, NotFoundError):
                pass
            except Exception as exc:
                probe.problem(f"{name}: recall({sid!r}) raised {type(exc).__name__}: {exc}")
        return
    if bad_id(sid):
        probe.problem(f"{name}: accepted the session id {sid!r} the id policy refuses")
        return
    info = await memory.get_session(sid)
    if info.id != sid or len(await memory.recall(sid)) < 1:
        probe.outcome.corrupted += 1
        probe.problem(f"{name}: session id {sid!r} did not round-trip")
    marked = f"{new_session_id()}{title}"
    try:
        renamed = await memory.rename_session(sid, marked)
    except SerializationError:
        if not bad_title(marked):
            probe.problem(f"{name}: refused the title {title!r}")
        elif (await memory.get_session(sid)).title == marked:
            probe.problem(f"{name}: a refused title was stored")
        return
    if bad_title(marked):
        probe.problem(f"{name}: accepted the title {title!r} the title policy refuses")
        return
    if renamed.title != marked or (await memory.get_session(sid)).title != marked:
        probe.outcome.corrupted += 1
        probe.problem(f"{name}: title {title!r} did not round-trip")
    page = await memory.list_sessions(limit=1000, title_filter=marked)
    if sid not in {s.id for s in page.sessions}:
        probe.problem(f"{name}: filtering by the title {title!r} did not find its session")


#: Always tried, whatever hypothesis draws: (session id, title).
FIXED_IDS = [
    ("\ud800", "t"),
    ("x\udfffy", "t"),
    ("'; DROP TABLE sessions; --", "%_\\'\"`"),
    ("a\x00b", "nul \x00 inside"),
    ("ok", "x\udfffy"),
]


def _title_property(probe: Probe, scale: Scale) -> None:
    for sid, title in FIXED_IDS:
        probe.tried += 1
        for name, memory in probe.backends:
            probe.run(_ids_and_titles(probe, name, memory, f"{name}:{sid}", title))

    @seed(scale.seed)
    @settings(
        max_examples=max(10, scale.examples // 2),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(sid=texts.filter(bool), title=texts)
    def prop(sid: str, title: str) -> None:
        probe.tried += 1
        for name, memory in probe.backends:
            probe.run(_ids_and_titles(probe, name, memory, f"{name}:{sid}", title))

    _guard(probe, "id/title property", prop)


def _guard(probe: Probe, what: str, prop: Callable[[], None]) -> None:
    try:
        prop()
    except Exception as exc:  # hypothesis re-raises the first falsifying example
        probe.problem(f"{what} failed: {type(exc).__name__}: {str(exc)[:400]}")


def _nested(depth: int, kind: str) -> dict[str, Any]:
    value: Any = "leaf"
    for _ in range(depth - 1):
        value = [value] if kind == "list" else {"k": value}
    return {"v": value}


def _nesting(probe: Probe) -> None:
    for depth in (MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1, 5000, 100_000):
        for shape in ("list", "dict"):
            probe.tried += 1
            draft = EventDraft("tool_result", _nested(depth, shape))
            for name, memory in probe.backends:
                probe.run(
                    _store_or_refuse(
                        probe,
                        f"{name} depth {depth} {shape}",
                        memory,
                        draft,
                        depth > MAX_JSON_DEPTH,
                    )
                )


async def _huge(probe: Probe) -> None:
    """10 MB messages: stored exactly on a file; refused up front by a server that cannot
    take them, and then the persistence worker sets them aside and goes on."""
    ten_mb = ("ünïcödé 🎉 and ascii " * 600_000)[:10_000_000]
    just_under = "z" * 4_900_000
    for name, memory in probe.backends:
        remote = name.startswith("sqld")
        for label, content in (("10 MB", ten_mb), ("4.9 MB", just_under)):
            probe.tried += 1
            draft = EventDraft("assistant", {"content": content})
            await _store_or_refuse(
                probe, f"{name} {label}", memory, draft, remote and label == "10 MB"
            )
        if remote:
            worker = PersistenceWorker(memory, retry_initial=0.01, retry_max=0.05)
            await worker.start()
            session = new_session_id()
            worker.submit(session, [EventDraft("assistant", {"content": ten_mb})])
            worker.submit(session, [EventDraft("user", {"content": "after the big one"})])
            drained = await worker.flush(60)
            unsaved = await worker.stop(5)
            events = await memory.recall(session) if drained else []
            if not drained or [e.payload.get("content") for e in events] != ["after the big one"]:
                probe.problem(f"{name}: a 10 MB save point blocked the queue ({worker.state})")
            if len(unsaved) != 1:
                probe.problem(
                    f"{name}: the refused 10 MB save point was not reported: {unsaved!r:.100}"
                )


def run(scale: Scale, workdir: Path) -> Outcome:
    """Run the hostile-input scenario (see the module docstring)."""
    outcome = Outcome("7 hostile input")
    with outcome.timed():
        probe = Probe(outcome)
        keys = JwtKeys.generate(workdir)
        server = SqldServer(workdir / "sqld", keys)
        server.start()
        try:
            token = server.token()
            probe.backends = [
                ("ephemeral", EphemeralMemory()),
                ("embedded", probe.run(open_embedded(workdir / "hostile.db"))),
                ("sqld-ws", probe.run(open_remote(server.ws_url, auth_token=token, timeout=60))),
                (
                    "sqld-http",
                    probe.run(open_remote(server.http_url, auth_token=token, timeout=60)),
                ),
            ]
            _payload_property(probe, scale)
            _title_property(probe, scale)
            _nesting(probe)
            probe.run(_huge(probe))
            for _name, memory in probe.backends:
                probe.run(memory.close())
        finally:
            server.stop()
            probe.loop.close()
        files_tried = hostile_files.run_into(scale, workdir, outcome)
        outcome.bad_inputs = probe.tried + files_tried
        outcome.load = (
            f"{probe.tried} payloads/ids/titles on 4 backends, {files_tried} import files "
            "and settings"
        )
    return outcome
