"""Export/import through the memory layer (the Porter capability), on every backend.

Tests use explicit session ids so that they also hold on a shared remote database.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from memory import (
    BundleFormatError,
    EphemeralMemory,
    EventDraft,
    ImportConflictError,
    LibsqlMemory,
    MemoryBackend,
    NotFoundError,
    QueryError,
    open_embedded,
    parse_bundle,
    write_bundle,
)
from memory.bundle import dumps_bundle
from tests.conftest import FrozenClock

ONE_MB = 1024 * 1024
IDS = ["a-tools", "b-big", "c-escapes", "d-empty"]


async def seed(memory: MemoryBackend, clock: FrozenClock) -> None:
    """Sessions with tool events, unicode, a 1 MB payload, state, metadata and no events."""
    await memory.create_session(
        "a-tools",
        title="Tools ✓ 日本語",
        agent="coder",
        provider="openai",
        model="gpt-x",
        metadata={"z": 1, "a": [1, 2.5, None]},
    )
    clock.advance()
    await memory.store(
        "a-tools",
        [
            EventDraft("user", {"role": "user", "content": "2+2? «ünïcødé» 🚀"}, turn=1),
            EventDraft(
                "tool_call",
                {"name": "calculator", "call_id": "c1", "arguments": {"expression": "2+2"}},
                turn=1,
            ),
            EventDraft("tool_result", {"name": "calculator", "call_id": "c1", "result": "4"}, 1),
            EventDraft("assistant", {"role": "assistant", "content": "4", "usage": {"in": 3}}, 1),
        ],
    )
    await memory.save_state("a-tools", {"cursor": 4, "model": "gpt-x"})
    clock.advance()
    await memory.store("a-tools", [EventDraft("user", {"content": "thanks"}, turn=2)])
    await memory.save_state("a-tools", {"cursor": 5})
    clock.advance()
    # Key order that is not sorted must survive: the payload text is kept exactly.
    big = {"zeta": "x" * ONE_MB + "✓", "alpha": 0.1, "big": 2**60}
    await memory.store("b-big", [EventDraft("assistant", big, turn=1)])
    clock.advance()
    tricky = 'quotes " \\ \n\t \u2028 \x00 ``` </script>'
    await memory.store("c-escapes", [EventDraft("user", {"content": tricky}, turn=1)])
    clock.advance()
    await memory.create_session("d-empty")


async def export_text(memory: MemoryBackend, ids: list[str] | None = None) -> str:
    out = io.StringIO()
    await write_bundle(memory.export_sessions(IDS if ids is None else ids), out.write)
    return out.getvalue()


async def snapshot(memory: MemoryBackend, ids: list[str]) -> dict[str, object]:
    """Everything stored for ``ids``, exactly (payload text included), or None if absent."""
    result: dict[str, object] = {}
    for session_id in ids:
        info = await memory.find_session(session_id)
        if info is None:
            result[session_id] = None
            continue
        events = [
            (e.seq, e.turn, e.kind, e.payload_json, e.created_at)
            for e in await memory.recall(session_id)
        ]
        state = await memory.load_state(session_id)
        result[session_id] = (info, events, state)
    return result


async def test_round_trip_into_an_empty_database_is_byte_identical(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    await seed(backend, clock)
    before = await snapshot(backend, IDS)
    first = await export_text(backend)
    assert json.loads(first)["format"] == "turnkeep.sessions"
    assert json.loads(first)["version"] == 2
    assert len(first.encode()) > ONE_MB
    for session_id in IDS:
        await backend.forget(session_id)
    assert all(v is None for v in (await snapshot(backend, IDS)).values())

    outcome = await backend.import_sessions(parse_bundle(first.encode()))

    assert [old for old, _ in outcome.imported] == IDS
    assert outcome.events == 7
    assert await export_text(backend) == first
    # Stored exactly: ids, seq, turn, kind, payload text, timestamps, counters, state.
    assert await snapshot(backend, IDS) == before


async def test_round_trip_across_backends(tmp_path: Path, clock: FrozenClock) -> None:
    source = await open_embedded(tmp_path / "source.db", clock=clock)
    target = EphemeralMemory(clock=clock)
    again = await open_embedded(tmp_path / "again.db", clock=clock)
    try:
        await seed(source, clock)
        first = await export_text(source)
        await target.import_sessions(parse_bundle(first))
        second = await export_text(target)
        await again.import_sessions(parse_bundle(second))
        assert second == first
        assert await export_text(again) == first
    finally:
        await source.close()
        await again.close()


async def test_export_orders_by_id_ignores_duplicates_and_empty_bundle_parses(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    await seed(backend, clock)
    sessions = [s async for s in backend.export_sessions(["d-empty", "a-tools", "d-empty"])]
    assert [s.id for s in sessions] == ["a-tools", "d-empty"]
    assert [e.seq for e in sessions[0].events] == [1, 2, 3, 4, 5]
    assert [(s.seq, json.loads(s.state_json)) for s in sessions[0].states] == [
        (4, {"cursor": 4, "model": "gpt-x"}),
        (5, {"cursor": 5}),
    ]
    empty = await export_text(backend, [])
    assert parse_bundle(empty) == ()


async def test_export_of_an_unknown_id_raises_before_yielding(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    await seed(backend, clock)
    out = io.StringIO()
    with pytest.raises(NotFoundError) as info:
        await write_bundle(backend.export_sessions(["a-tools", "missing"]), out.write)
    assert info.value.session_id == "missing"
    assert out.getvalue() == ""


async def test_import_twice_changes_nothing(backend: MemoryBackend, clock: FrozenClock) -> None:
    await seed(backend, clock)
    text = await export_text(backend)
    before = await snapshot(backend, IDS)
    outcome = await backend.import_sessions(parse_bundle(text))
    assert outcome.imported == ()
    assert outcome.unchanged == tuple(IDS)
    outcome = await backend.import_sessions(parse_bundle(text))
    assert outcome.unchanged == tuple(IDS)
    assert await snapshot(backend, IDS) == before


async def test_conflict_writes_nothing_and_names_the_session(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    await seed(backend, clock)
    bundle = parse_bundle(await export_text(backend))
    # One session moved on since the export; another is new to this database.
    await backend.store("c-escapes", [EventDraft("assistant", {"content": "later"}, turn=2)])
    await backend.forget("d-empty")
    before = await snapshot(backend, IDS)
    with pytest.raises(ImportConflictError) as info:
        await backend.import_sessions(bundle)
    assert info.value.session_ids == ("c-escapes",)
    assert "c-escapes" in str(info.value)
    assert "--as-new" in info.value.hint
    assert await snapshot(backend, IDS) == before  # d-empty was not written either


async def test_as_new_imports_copies_under_fresh_ids(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    await seed(backend, clock)
    bundle = parse_bundle(await export_text(backend, ["a-tools", "c-escapes"]))
    await backend.rename_session("a-tools", "changed here")
    before = await snapshot(backend, IDS)
    outcome = await backend.import_sessions(bundle, as_new=True)
    mapping = dict(outcome.imported)
    assert set(mapping) == {"a-tools", "c-escapes"}
    assert not set(mapping.values()) & set(IDS)
    assert len(set(mapping.values())) == 2
    assert await snapshot(backend, IDS) == before
    for old, new in mapping.items():
        (copy,) = [s async for s in backend.export_sessions([new])]
        (original,) = [s for s in bundle if s.id == old]
        assert copy == original.with_id(new)
    await backend.forget(mapping["a-tools"])
    await backend.forget(mapping["c-escapes"])


@pytest.mark.parametrize("backend_kind", ["embedded", "remote-ws", "remote-http"])
async def test_a_failure_inside_the_import_writes_nothing(
    backend: LibsqlMemory, clock: FrozenClock
) -> None:
    """A statement failing at the end of the import's transaction rolls all of it back."""
    source = EphemeralMemory(clock=clock)
    await seed(source, clock)
    text = await export_text(source)
    # A real SQLite trigger makes the bundle's last session row fail.
    await backend.driver.execute(
        "CREATE TRIGGER poison BEFORE INSERT ON sessions "
        "WHEN NEW.id = 'd-empty' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"
    )
    try:
        with pytest.raises(QueryError, match="poisoned row"):
            await backend.import_sessions(parse_bundle(text))
    finally:
        await backend.driver.execute("DROP TRIGGER poison")
    assert await backend.count_sessions() == 0
    for table in ("conversation_events", "session_state"):
        rows = await backend.driver.execute(f"SELECT count(*) FROM {table}")
        assert rows.rows[0][0] == 0


def _valid_doc() -> dict[str, object]:
    session = {
        "id": "s1",
        "title": "t",
        "agent": None,
        "provider": None,
        "model": None,
        "created_at": "2026-11-25T12:00:00.000000Z",
        "updated_at": "2026-11-25T12:00:01.000000Z",
        "metadata": {},
        "states": [{"seq": 1, "created_at": "2026-11-25T12:00:01.000000Z", "state": {}}],
        "events": [
            {
                "seq": i,
                "turn": 1,
                "kind": "user",
                "created_at": "2026-11-25T12:00:01.000000Z",
                "payload": {"content": str(i)},
            }
            for i in (1, 2)
        ],
    }
    return {"format": "turnkeep.sessions", "version": 1, "sessions": [session]}


def test_a_valid_document_parses() -> None:
    (session,) = parse_bundle(json.dumps(_valid_doc()))
    assert session.id == "s1"
    assert [e.payload_json for e in session.events] == ['{"content":"1"}', '{"content":"2"}']
    assert dumps_bundle([session]) == dumps_bundle(parse_bundle(dumps_bundle([session])))


def _set(path: str, value: object) -> dict[str, object]:
    doc = _valid_doc()
    node: object = doc
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]  # type: ignore[index]
    last = keys[-1]
    if value is _DELETE:
        del node[last]  # type: ignore[attr-defined]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value  # type: ignore[index]
    return doc


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        ("sessions.0.events.1.seq", "2", "sessions[0].events[1].seq"),
        ("sessions.0.events.1.seq", 3, "sessions[0].events[1].seq"),
        ("sessions.0.events.0.turn", 1.5, "sessions[0].events[0].turn"),
        ("sessions.0.events.0.payload", "text", "sessions[0].events[0].payload"),
        ("sessions.0.events.0.kind", "", "sessions[0].events[0].kind"),
        ("sessions.0.events.0.created_at", "yesterday", "sessions[0].events[0].created_at"),
        ("sessions.0.events.0.extra", 1, "sessions[0].events[0].extra"),
        ("sessions.0.events.1.kind", _DELETE, "sessions[0].events[1].kind"),
        ("sessions.0.title", 7, "sessions[0].title"),
        ("sessions.0.id", "", "sessions[0].id"),
        ("sessions.0.metadata", [], "sessions[0].metadata"),
        ("sessions.0.states.0.seq", 3, "sessions[0].states[0].seq"),
        ("sessions.0.states", {}, "sessions[0].states"),
        ("sessions", {}, "sessions"),
        ("version", 3, "version"),
        ("version", "1", "version"),
        ("format", "llm.logs", "format"),
    ],
)
def test_malformed_fields_are_named(path: str, value: object, where: str) -> None:
    with pytest.raises(BundleFormatError) as info:
        parse_bundle(json.dumps(_set(path, value)))
    assert info.value.where == where
    assert str(info.value).startswith(where)


def test_truncated_file_names_the_line() -> None:
    text = json.dumps(_valid_doc(), indent=2)
    cut = text[: len(text) // 2]
    with pytest.raises(BundleFormatError) as info:
        parse_bundle(cut.encode())
    line = cut.count("\n") + 1
    assert str(info.value).startswith(f"line {line} column")
    assert "truncated" in str(info.value)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2]", "expected an object"),
        (b'{"format": "turnkeep.sessions", "version": 1, "sessions": [NaN]}', "NaN"),
        (b'{"format": "turnkeep.sessions", "version": 1}', "sessions: missing"),
    ],
)
def test_other_malformed_input(data: bytes, fragment: str) -> None:
    with pytest.raises(BundleFormatError, match=fragment):
        parse_bundle(data)


def test_duplicate_ids_and_lone_surrogates_are_refused() -> None:
    doc = _valid_doc()
    doc["sessions"] = [doc["sessions"][0], doc["sessions"][0]]  # type: ignore[index]
    with pytest.raises(BundleFormatError, match=r"sessions\[1\]\.id: duplicate id"):
        parse_bundle(json.dumps(doc))
    text = json.dumps(_set("sessions.0.events.0.payload", {"content": "\ud800"}))
    with pytest.raises(BundleFormatError, match=r"sessions\[0\]\.events\[0\]\.payload"):
        parse_bundle(text)


def _v2_doc() -> dict[str, Any]:
    doc: dict[str, Any] = _valid_doc()  # type: ignore[assignment]
    doc["version"] = 2
    doc["sessions"][0].update(
        {
            "pinned_at": "2026-11-25T12:00:02.000000Z",
            "archived_at": None,
            "tags": ["alpha", "work"],
            "forked_from": "s0",
            "forked_at_seq": 7,
            "prompt_tokens": 120,
            "completion_tokens": 30,
            "tokens_estimated": True,
        }
    )
    return doc


def test_version_1_files_import_without_organizing_fields() -> None:
    (session,) = parse_bundle(json.dumps(_valid_doc()))
    assert (session.pinned_at, session.archived_at, session.tags) == (None, None, ())
    assert (session.forked_from, session.forked_at_seq) == (None, None)
    assert (session.prompt_tokens, session.completion_tokens, session.tokens_estimated) == (
        0,
        0,
        False,
    )
    # Written back out it is a version 2 file that reads back the same.
    text = dumps_bundle([session])
    assert json.loads(text)["version"] == 2
    assert parse_bundle(text) == (session,)


def test_version_2_fields_round_trip_byte_identical() -> None:
    (session,) = parse_bundle(json.dumps(_v2_doc()))
    assert session.tags == ("alpha", "work")
    assert (session.forked_from, session.forked_at_seq, session.prompt_tokens) == ("s0", 7, 120)
    assert session.tokens_estimated is True
    text = dumps_bundle([session])
    assert dumps_bundle(parse_bundle(text)) == text
    assert '"tags": ["alpha", "work"],' in text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tags", ["two words"], "whitespace"),
        ("tags", ["[b]"], "markup"),
        ("tags", ["work", "alpha"], "sorted"),
        ("tags", [" work"], "normalised"),
        ("tags", "work", "expected an array"),
        ("prompt_tokens", -1, "out of range"),
        ("completion_tokens", 1.5, "expected an integer"),
        ("tokens_estimated", "yes", "expected a boolean"),
        ("pinned_at", "soon", "not an ISO 8601"),
        ("forked_at_seq", "7", "expected an integer"),
        ("forked_from", 3, "expected a string or null"),
    ],
)
def test_malformed_version_2_fields_are_named(field: str, value: object, message: str) -> None:
    doc = _v2_doc()
    doc["sessions"][0][field] = value
    with pytest.raises(BundleFormatError) as info:
        parse_bundle(json.dumps(doc))
    assert f"sessions[0].{field}" in str(info.value)
    assert message in str(info.value)


def test_version_fields_must_match_the_version() -> None:
    doc = _v2_doc()
    del doc["sessions"][0]["tags"]
    with pytest.raises(BundleFormatError, match=r"sessions\[0\]\.tags: missing"):
        parse_bundle(json.dumps(doc))
    old = _valid_doc()
    old["sessions"][0]["tags"] = []
    with pytest.raises(BundleFormatError, match=r"sessions\[0\]\.tags: unknown field"):
        parse_bundle(json.dumps(old))
