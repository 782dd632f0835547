"""``Porter.append_imported``: the importers' append, run against every backend."""

from __future__ import annotations

from dataclasses import replace

import pytest

from memory import ImportConflictError, MemoryBackend, NotFoundError
from memory.bundle import PortableEvent, PortableSession
from memory.errors import BundleFormatError
from memory.records import TokenCount, encode_payload


def _event(seq: int, turn: int, text: str, at: str) -> PortableEvent:
    return PortableEvent(seq, turn, "user", at, encode_payload({"role": "user", "content": text}))


def _session(events: tuple[PortableEvent, ...]) -> PortableSession:
    return PortableSession(
        id="claude-code-abc",
        title="imported",
        agent=None,
        provider=None,
        model=None,
        created_at="2025-01-01T00:00:00.000000Z",
        updated_at="2025-01-01T00:00:05.000000Z",
        metadata_json=encode_payload({"source": {"tool": "claude-code", "records": 2}}),
        states=(),
        events=events,
    )


async def test_append_keeps_seq_turn_time_and_updates_metadata(backend: MemoryBackend) -> None:
    first = (
        _event(1, 1, "one", "2025-01-01T00:00:00.000000Z"),
        _event(2, 1, "two", "2025-01-01T00:00:05.000000Z"),
    )
    await backend.import_sessions([_session(first)])
    more = [
        _event(3, 2, "three", "2025-01-02T00:00:00.000000Z"),
        _event(4, 3, "four", "2025-01-02T00:00:09.000000Z"),
    ]
    last = await backend.append_imported(
        "claude-code-abc",
        more,
        expect_last_seq=2,
        metadata_json=encode_payload({"source": {"tool": "claude-code", "records": 4}}),
        updated_at="2025-01-02T00:00:09.000000Z",
    )
    assert last == 4
    events = await backend.recall("claude-code-abc")
    assert [(e.seq, e.turn, e.created_at, e.payload["content"]) for e in events] == [
        (1, 1, "2025-01-01T00:00:00.000000Z", "one"),
        (2, 1, "2025-01-01T00:00:05.000000Z", "two"),
        (3, 2, "2025-01-02T00:00:00.000000Z", "three"),
        (4, 3, "2025-01-02T00:00:09.000000Z", "four"),
    ]
    info = await backend.get_session("claude-code-abc")
    assert (info.last_seq, info.events, info.turns) == (4, 4, 3)
    assert info.updated_at == "2025-01-02T00:00:09.000000Z"
    assert info.created_at == "2025-01-01T00:00:00.000000Z"
    assert info.metadata == {"source": {"tool": "claude-code", "records": 4}}


async def test_append_refuses_when_last_seq_moved(backend: MemoryBackend) -> None:
    await backend.import_sessions([_session((_event(1, 1, "one", "2025-01-01T00:00:00Z"),))])
    with pytest.raises(ImportConflictError):
        await backend.append_imported(
            "claude-code-abc",
            [_event(1, 1, "again", "2025-01-01T00:00:00Z")],
            expect_last_seq=0,
            metadata_json=encode_payload({"changed": True}),
        )
    events = await backend.recall("claude-code-abc")
    assert [e.payload["content"] for e in events] == ["one"]
    info = await backend.get_session("claude-code-abc")
    assert info.metadata == {"source": {"tool": "claude-code", "records": 2}}
    assert info.last_seq == 1


async def test_append_checks_seqs_and_session(backend: MemoryBackend) -> None:
    with pytest.raises(NotFoundError):
        await backend.append_imported(
            "nope", [_event(1, 1, "x", "2025-01-01T00:00:00Z")], expect_last_seq=0
        )
    await backend.import_sessions([_session((_event(1, 1, "one", "2025-01-01T00:00:00Z"),))])
    with pytest.raises(BundleFormatError):
        await backend.append_imported(
            "claude-code-abc", [_event(3, 1, "gap", "2025-01-01T00:00:00Z")], expect_last_seq=1
        )
    assert len(await backend.recall("claude-code-abc")) == 1


async def test_append_nothing_updates_metadata_only(backend: MemoryBackend) -> None:
    await backend.import_sessions([_session((_event(1, 1, "one", "2025-01-01T00:00:00Z"),))])
    assert (
        await backend.append_imported(
            "claude-code-abc", [], expect_last_seq=1, metadata_json=encode_payload({"n": 1})
        )
        == 1
    )
    assert (await backend.get_session("claude-code-abc")).metadata == {"n": 1}


async def test_list_sessions_filters_by_source_tool(backend: MemoryBackend) -> None:
    await backend.import_sessions([_session((_event(1, 1, "one", "2025-01-01T00:00:00Z"),))])
    await backend.create_session("native", title="imported? no", metadata={"source": "notes"})
    await backend.create_session("other", title="imported", metadata={"source": {"tool": "codex"}})
    page = await backend.list_sessions(source="claude-code")
    assert [s.id for s in page.sessions] == ["claude-code-abc"]
    page = await backend.list_sessions(source="codex", title_filter="IMPORT")
    assert [s.id for s in page.sessions] == ["other"]
    assert (await backend.list_sessions(source="chatgpt")).sessions == ()
    assert len((await backend.list_sessions()).sessions) == 3


async def test_append_can_create_the_session_in_the_same_transaction(
    backend: MemoryBackend,
) -> None:
    header = _session(())
    events = [_event(1, 1, "one", "2025-01-01T00:00:00.000000Z")]
    last = await backend.append_imported(
        "claude-code-abc",
        events,
        expect_last_seq=0,
        metadata_json=header.metadata_json,
        updated_at="2025-01-01T00:00:00.000000Z",
        create=header,
    )
    assert last == 1
    info = await backend.get_session("claude-code-abc")
    assert (info.title, info.agent, info.events, info.turns) == ("imported", None, 1, 1)
    assert info.created_at == "2025-01-01T00:00:00.000000Z"
    assert info.metadata == {"source": {"tool": "claude-code", "records": 2}}
    with pytest.raises(ImportConflictError):
        await backend.append_imported(
            "claude-code-abc",
            [_event(1, 1, "dup", "2025-01-01T00:00:00Z")],
            expect_last_seq=0,
            create=header,
        )
    assert [e.payload["content"] for e in await backend.recall("claude-code-abc")] == ["one"]


async def test_appended_and_created_imports_are_found_by_full_text_search(
    backend: MemoryBackend,
) -> None:
    first = (_event(1, 1, "zanzibar harbour notes", "2025-01-01T00:00:00.000000Z"),)
    await backend.append_imported("claude-code-abc", first, expect_last_seq=0, create=_session(()))
    await backend.append_imported(
        "claude-code-abc",
        [_event(2, 2, "quokka sighting", "2025-01-02T00:00:00.000000Z")],
        expect_last_seq=1,
    )
    found = {(h.session_id, h.seq) for h in await backend.search("zanzibar")}
    assert ("claude-code-abc", 1) in found
    assert {(h.session_id, h.seq) for h in await backend.search("quokka")} == {
        ("claude-code-abc", 2)
    }
    titles = [h for h in await backend.search("imported") if h.kind == "title"]
    assert [h.session_id for h in titles] == ["claude-code-abc"]


async def test_append_adds_the_answers_tokens_to_the_session_totals(
    backend: MemoryBackend,
) -> None:
    await backend.append_imported(
        "claude-code-abc",
        [_event(1, 1, "one", "2025-01-01T00:00:00.000000Z")],
        expect_last_seq=0,
        create=_session(()),
        tokens=TokenCount(12, 60),
    )
    await backend.append_imported(
        "claude-code-abc",
        [_event(2, 2, "two", "2025-01-02T00:00:00.000000Z")],
        expect_last_seq=1,
        tokens=TokenCount(35, 32, estimated=True),
    )
    # A refused append (the session moved on) adds nothing, tokens included.
    with pytest.raises(ImportConflictError):
        await backend.append_imported(
            "claude-code-abc",
            [_event(2, 2, "again", "2025-01-02T00:00:00.000000Z")],
            expect_last_seq=1,
            tokens=TokenCount(1000, 1000),
        )
    info = await backend.get_session("claude-code-abc")
    assert (info.prompt_tokens, info.completion_tokens, info.tokens_estimated) == (47, 92, True)


async def test_a_session_created_by_an_append_can_be_a_fork(backend: MemoryBackend) -> None:
    """An imported branch (a ChatGPT conversation's other branch) is created as a fork
    of the session it branches from, with the lineage a fork records."""
    shared = (
        _event(1, 1, "one", "2025-01-01T00:00:00.000000Z"),
        _event(2, 1, "two", "2025-01-01T00:00:05.000000Z"),
    )
    await backend.import_sessions([_session(shared)])
    own = _event(3, 2, "other three", "2025-01-03T00:00:00.000000Z")
    branch = replace(
        _session(()),
        id="claude-code-abc-branch",
        title="Fork of imported",
        forked_from="claude-code-abc",
        forked_at_seq=2,
    )
    last = await backend.append_imported(
        "claude-code-abc-branch",
        [*shared, own],
        expect_last_seq=0,
        metadata_json=branch.metadata_json,
        updated_at=own.created_at,
        create=branch,
    )
    assert last == 3
    info = await backend.get_session("claude-code-abc-branch")
    assert (info.forked_from, info.forked_at_seq, info.title) == (
        "claude-code-abc",
        2,
        "Fork of imported",
    )
    assert [e.payload["content"] for e in await backend.recall(info.id)] == [
        "one",
        "two",
        "other three",
    ]
    assert (await backend.get_session("claude-code-abc")).forked_from is None


async def test_an_imported_title_past_the_limit_is_cut_and_a_fork_of_it_too(
    backend: MemoryBackend,
) -> None:
    """Review finding: imports stored a 1,000,000-character title (shown in every list,
    and a title search over it took minutes); rename refuses such a title."""
    from memory.records import MAX_TITLE_CHARS

    first = (_event(1, 1, "one", "2025-01-01T00:00:00.000000Z"),)
    await backend.import_sessions([replace(_session(first), title="L" * 50_000)])
    info = await backend.get_session("claude-code-abc")
    assert info.title == "L" * (MAX_TITLE_CHARS - 1) + "…"
    fork = await backend.fork_session("claude-code-abc")
    forked = await backend.get_session(fork.id)
    assert forked.title is not None and len(forked.title) == MAX_TITLE_CHARS
    assert forked.title.startswith("Fork of LLL") and forked.title.endswith("…")
    short = await backend.fork_session("claude-code-abc", title="mine")
    assert (await backend.get_session(short.id)).title == "mine"
    header = replace(_session(()), id="claude-code-long", title="T" * 5_000)
    await backend.append_imported("claude-code-long", first, expect_last_seq=0, create=header)
    assert (await backend.get_session("claude-code-long")).title == "T" * 999 + "…"
