"""The runtime facade's organizing, search and database methods (issue 12.4), on every
backend: in process, a real SQLite file, and a real sqld over WebSocket and HTTP."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from memory import EventDraft, MemoryBackend, TokenCount
from memory.errors import ForkPointError, NotFoundError, StoreConfigError
from runtime import payloads
from runtime.payloads import searchable_text
from runtime.sessions import Sessions
from runtime.sessions_admin import migration_ids, read_export, write_export
from runtime.sessions_search import SEARCH_KINDS
from tests.conftest import FrozenClock
from tests.runtime.conftest import make_settings


def _answer(text: str, prompt: int, completion: int) -> EventDraft:
    usage = {"prompt_tokens": prompt, "completion_tokens": completion}
    return EventDraft(
        "assistant",
        payloads.assistant(text, provider="scripted", model="m", usage=usage),
        tokens=TokenCount(prompt, completion),
    )


async def _seed(backend: MemoryBackend, clock: FrozenClock) -> Sessions:
    """Two sessions: ``alpha`` with two questions and answers, ``beta`` empty."""
    backend.use_search_text(searchable_text)
    sessions = Sessions(make_settings(), backend, owns_memory=False, clock=clock)
    await backend.create_session("alpha", title="Alpha talk")
    await backend.store(
        "alpha",
        [
            EventDraft("user", payloads.user("how tall is the lighthouse")),
            _answer("about forty metres", 10, 4),
            EventDraft("user", payloads.user("and the harbour wall"), turn=2),
            _answer("twelve metres", 20, 3),
        ],
    )
    clock.advance(5)
    await backend.create_session("beta", title="Beta")
    return sessions


async def test_fork_counts_the_tokens_of_the_events_it_copies(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    sessions = await _seed(backend, clock)
    source = await sessions.get("alpha")
    fork = await sessions.fork(source, at=2)
    assert fork.forked_from == "alpha" and fork.forked_at_seq == 2
    assert fork.events == 2
    assert (fork.prompt_tokens, fork.completion_tokens) == (10, 4)  # not the source's 30/7
    whole = await sessions.fork(source, title="Copy")
    assert whole.title == "Copy" and whole.events == 4
    assert (whole.prompt_tokens, whole.completion_tokens) == (30, 7)
    with pytest.raises(ForkPointError):
        await sessions.fork(source, at=9)
    assert (await sessions.get("alpha")).events == 4  # the original never changes


async def test_pins_archive_tags_and_filtered_pages(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    sessions = await _seed(backend, clock)
    assert (await sessions.set_pinned("alpha", True)).pinned
    first = await sessions.page(limit=10, pinned_first=True)
    assert [i.id for i in first.sessions] == ["alpha", "beta"]  # pinned first
    assert [i.id for i in (await sessions.page(limit=10)).sessions] == ["beta", "alpha"]
    tagged = await sessions.retag(await sessions.get("beta"), ["work", "later"])
    assert tagged.tags == ("later", "work")
    retagged = await sessions.retag(tagged, ["work", "urgent"])
    assert retagged.tags == ("urgent", "work")
    assert await sessions.all_tags() == [("urgent", 1), ("work", 1)]
    only = await sessions.page(limit=10, tags=["urgent"])
    assert [i.id for i in only.sessions] == ["beta"]
    assert (await sessions.set_archived("beta", True)).archived
    assert [i.id for i in (await sessions.page(limit=10, archived=True)).sessions] == ["beta"]
    assert [i.id for i in (await sessions.page(limit=10)).sessions] == ["alpha"]
    with pytest.raises(NotFoundError):
        await sessions.set_pinned("nobody", True)


async def test_prune_deletes_the_plan_and_usage_rows_carry_provider_and_model(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    sessions = await _seed(backend, clock)
    plan = await sessions.prune_candidates(empty=True)
    assert [i.id for i in plan] == ["beta"]
    assert await sessions.prune(plan) == ["beta"]
    assert await sessions.find("beta") is None
    rows = await sessions.assistant_events(limit=10)
    assert [(e.seq, provider, model) for e, provider, model in rows] == [
        (2, None, None),
        (4, None, None),
    ]
    assert [payloads.usage(e.payload).completion for e, _p, _m in rows] == [4, 3]


async def test_search_and_the_events_around_a_hit(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    sessions = await _seed(backend, clock)
    hits = await sessions.search("lighthouse")
    assert [(h.session_id, h.seq, h.kind) for h in hits] == [("alpha", 1, "user")]
    only_replies = await sessions.search("metres", kinds=("assistant",))
    assert sorted(h.seq for h in only_replies) == [2, 4]
    assert await sessions.search("metres", session_id="beta") == []
    events, at_end = await sessions.around("alpha", 2, 1)
    assert [e.seq for e in events] == [2, 3] and not at_end
    events, at_end = await sessions.around("alpha", 3, 5)
    assert [e.seq for e in events] == [1, 2, 3, 4] and at_end
    progress = await sessions.backfill_index()
    assert progress.complete
    assert await sessions.search_progress_or_none() == await sessions.search_progress()
    assert SEARCH_KINDS == ("assistant", "tool", "user")


async def test_an_export_written_by_the_facade_imports_back_the_same(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    sessions = await _seed(backend, clock)
    chunks: list[str] = []
    assert await sessions.export_to(chunks.append, ["alpha"]) == 1
    parsed = read_export("".join(chunks))
    assert [s.id for s in parsed] == ["alpha"] and len(parsed[0].events) == 4
    copy = Sessions.in_process(make_settings(), clock=clock)
    outcome = await copy.import_(parsed)
    assert [old for old, _new in outcome.imported] == ["alpha"]
    again: list[str] = []
    assert await write_export(copy.export(), again.append) == 1
    assert read_export("".join(again)) == parsed
    await copy.close()


async def test_where_migrations_and_backup_of_each_mode(
    backend: MemoryBackend, backend_kind: str, clock: FrozenClock, tmp_path: Path
) -> None:
    sessions = await _seed(backend, clock)
    assert migration_ids()[0].startswith("0001")
    target = tmp_path / "copy.db"
    if backend_kind != "embedded":
        assert sessions.file_path is None
        with pytest.raises(StoreConfigError):
            await sessions.backup_file(target)
        assert not target.exists()
        if backend_kind == "ephemeral":
            assert sessions.migration_outcome is None
        return
    assert sessions.file_path is not None and sessions.file_path.name == "turnkeep.db"
    assert str(sessions.file_path) in sessions.where
    assert sessions.migration_outcome is not None
    assert sessions.migration_outcome.applied == migration_ids()  # a fresh file
    result = await sessions.backup_file(target)
    assert result.path == target and result.integrity == ("ok",)
    with sqlite3.connect(target) as copy:
        rows = copy.execute(
            "SELECT seq, kind FROM conversation_events WHERE session_id = 'alpha' ORDER BY seq"
        ).fetchall()
    assert rows == [(1, "user"), (2, "assistant"), (3, "user"), (4, "assistant")]
