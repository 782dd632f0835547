"""The SessionOrganizer contract (issue 16), run unchanged against every backend."""

from __future__ import annotations

import pytest

from memory import EventDraft, MemoryBackend, NotFoundError, SerializationError
from memory.bundle import dumps_bundle, parse_bundle
from memory.records import TokenCount
from memory.sql.organize import ForkPointError
from tests.conftest import FrozenClock


def turn(n: int, *, tokens: TokenCount | None = None) -> list[EventDraft]:
    return [
        EventDraft("user", {"role": "user", "content": f"question {n}"}, turn=n),
        EventDraft("assistant", {"role": "assistant", "content": f"answer {n}"}, n, tokens),
    ]


async def export(backend: MemoryBackend) -> str:
    return dumps_bundle([s async for s in backend.export_sessions()])


async def make(backend: MemoryBackend, clock: FrozenClock, *ids: str) -> None:
    """Sessions in this order of activity (the last one is the newest)."""
    for session_id in ids:
        await backend.store(session_id, turn(1))
        clock.advance(1)


async def ids(backend: MemoryBackend, **kwargs: object) -> list[str]:
    page = await backend.list_sessions(limit=100, **kwargs)  # type: ignore[arg-type]
    return [i.id for i in page.sessions]


async def test_token_totals_are_kept_by_the_save_point(backend: MemoryBackend) -> None:
    await backend.store("s", turn(1, tokens=TokenCount(10, 3)))
    await backend.store_once("s", "k1", turn(2, tokens=TokenCount(20, 4, estimated=True)))
    await backend.store_once("s", "k1", turn(2, tokens=TokenCount(20, 4, estimated=True)))
    info = await backend.get_session("s")
    assert (info.prompt_tokens, info.completion_tokens, info.tokens_estimated) == (30, 7, True)
    assert info.events == 4


async def test_pins_head_the_list_in_their_own_order(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    await make(backend, clock, "a", "b", "c", "d")
    await backend.set_pinned("a", True)
    info = await backend.set_pinned("c", True)
    assert info.pinned and info.pinned_at is not None
    assert await ids(backend, pinned_first=True) == ["c", "a", "d", "b"]
    # Without pinned_first the order is pure activity (e.g. --continue).
    assert await ids(backend) == ["d", "c", "b", "a"]
    # Pinning changes no activity: the session does not move among the pins.
    before = (await backend.get_session("a")).updated_at
    assert (await backend.set_pinned("a", True)).updated_at == before
    await backend.set_pinned("c", False)
    assert await ids(backend, pinned_first=True) == ["a", "d", "c", "b"]


async def test_pinned_first_pages_without_gaps_or_repeats(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    names = [f"s{i:02}" for i in range(11)]
    await make(backend, clock, *names)
    for name in ("s01", "s04", "s07"):
        await backend.set_pinned(name, True)
    for size in (1, 2, 3, 4, 5):
        seen: list[str] = []
        cursor = None
        while True:
            page = await backend.list_sessions(limit=size, after=cursor, pinned_first=True)
            seen.extend(i.id for i in page.sessions)
            cursor = page.cursor
            if cursor is None:
                break
        pins = ["s07", "s04", "s01"]
        assert seen == pins + [n for n in reversed(names) if n not in pins], size


async def test_archive_leaves_the_list_and_restores(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    await make(backend, clock, "a", "b", "c")
    await backend.set_pinned("b", True)
    info = await backend.set_archived("b", True)
    assert info.archived
    assert await ids(backend, pinned_first=True) == ["c", "a"]
    assert await ids(backend) == ["c", "a"]
    assert await ids(backend, archived=True) == ["b"]
    # Archiving deletes nothing: the session is still readable and resumable.
    assert [e.seq for e in await backend.recall("b")] == [1, 2]
    assert await backend.store("b", turn(2)) == [3, 4]
    await backend.set_archived("b", False)
    assert await ids(backend, pinned_first=True) == ["b", "c", "a"]
    assert await ids(backend, archived=True) == []


async def test_tags_are_normalised_filtered_and_removed(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    await make(backend, clock, "a", "b", "c")
    info = await backend.add_tags("a", ["  work ", "rust", "work"])
    assert info.tags == ("rust", "work")
    await backend.add_tags("b", ["work"])
    assert await ids(backend, tags=["work"]) == ["b", "a"]
    assert await ids(backend, tags=["work", "rust"]) == ["a"]
    assert await ids(backend, tags=["nope"]) == []
    assert await backend.all_tags() == [("rust", 1), ("work", 2)]
    info = await backend.remove_tags("a", ["work", "absent"])
    assert info.tags == ("rust",)
    assert (await backend.get_session("a")).tags == ("rust",)


@pytest.mark.parametrize("bad", ["", "   ", "two words", "[bold]x", "a]", "tab\there", "x" * 65])
async def test_bad_tags_are_refused_and_nothing_changes(
    backend: MemoryBackend, clock: FrozenClock, bad: str
) -> None:
    await make(backend, clock, "a")
    await backend.add_tags("a", ["keep"])
    before = await export(backend)
    with pytest.raises(SerializationError):
        await backend.add_tags("a", ["fine", bad])
    with pytest.raises(SerializationError):
        await backend.remove_tags("a", ["keep", bad])
    assert await export(backend) == before


async def test_unknown_sessions_are_not_found_and_nothing_changes(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    await make(backend, clock, "a")
    before = await export(backend)
    for call in (
        backend.set_pinned("nope", True),
        backend.set_archived("nope", True),
        backend.add_tags("nope", ["x"]),
        backend.remove_tags("nope", ["x"]),
        backend.fork_session("nope"),
    ):
        with pytest.raises(NotFoundError):
            await call
    assert await export(backend) == before


async def test_fork_copies_events_exactly_and_records_lineage(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    await backend.create_session("src", title="Parser", provider="p", model="m")
    await backend.store("src", turn(1, tokens=TokenCount(5, 2)))
    await backend.save_state("src", {"at": 2})
    clock.advance(5)
    await backend.store("src", turn(2, tokens=TokenCount(7, 3)))
    await backend.add_tags("src", ["work"])
    original = await export(backend)
    source_events = await backend.recall("src")

    clock.advance(5)
    fork = await backend.fork_session("src", at=2, tokens=TokenCount(5, 2))
    assert fork.id != "src"
    assert (fork.forked_from, fork.forked_at_seq, fork.title) == ("src", 2, "Fork of Parser")
    assert (fork.events, fork.last_seq, fork.turns) == (2, 2, 1)
    assert (fork.provider, fork.model, fork.tags) == ("p", "m", ())
    assert (fork.prompt_tokens, fork.completion_tokens) == (5, 2)
    copied = await backend.recall(fork.id)
    assert [(e.seq, e.turn, e.kind, e.payload_json, e.created_at) for e in copied] == [
        (e.seq, e.turn, e.kind, e.payload_json, e.created_at) for e in source_events[:2]
    ]
    state = await backend.load_state(fork.id)
    assert state is not None and state.state == {"at": 2}
    # The fork continues from its own end; the original never changes.
    assert await backend.store(fork.id, turn(9)) == [3, 4]
    exported = await export(backend)
    assert [s for s in parse_bundle(exported) if s.id == "src"] == [
        s for s in parse_bundle(original) if s.id == "src"
    ]

    # Default: every event, totals from the source; a fork of a fork works.
    whole = await backend.fork_session("src", title="Whole")
    assert (whole.title, whole.events, whole.forked_at_seq) == ("Whole", 4, 4)
    assert (whole.prompt_tokens, whole.completion_tokens) == (12, 5)
    again = await backend.fork_session(fork.id, at=3)
    assert (again.forked_from, again.forked_at_seq, again.events) == (fork.id, 3, 3)
    assert again.title == "Fork of Fork of Parser"


@pytest.mark.parametrize("at", [0, -1, 5])
async def test_fork_outside_the_events_is_refused(
    backend: MemoryBackend, clock: FrozenClock, at: int
) -> None:
    await make(backend, clock, "a", "b")
    await backend.store("a", turn(2))
    before = await export(backend)
    with pytest.raises(ForkPointError) as info:
        await backend.fork_session("a", at=at)
    assert "seq" in str(info.value)
    assert await export(backend) == before
    assert await backend.count_sessions() == 2


async def test_export_v2_round_trips_organizing_fields(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    await make(backend, clock, "a", "b")
    await backend.store("a", turn(2, tokens=TokenCount(3, 1, True)))
    await backend.set_pinned("a", True)
    await backend.set_archived("b", True)
    await backend.add_tags("a", ["z", "alpha"])
    fork = await backend.fork_session("a", at=2, new_id="f")
    first = await export(backend)
    (exported_fork,) = [s for s in parse_bundle(first) if s.id == "f"]
    assert (exported_fork.forked_from, exported_fork.forked_at_seq) == ("a", 2)
    assert fork.id == "f"
    await backend.forget_many(["a", "b", "f"])
    assert await backend.count_sessions() == 0
    await backend.import_sessions(parse_bundle(first))
    assert await export(backend) == first
    info = await backend.get_session("a")
    assert (info.pinned, info.tags, info.prompt_tokens, info.tokens_estimated) == (
        True,
        ("alpha", "z"),
        3,
        True,
    )
    assert (await backend.get_session("b")).archived
    # Importing the same file again changes nothing.
    outcome = await backend.import_sessions(parse_bundle(first))
    assert sorted(outcome.unchanged) == ["a", "b", "f"]


async def test_prune_candidates_and_forget_many(backend: MemoryBackend, clock: FrozenClock) -> None:
    await backend.create_session("empty-old")
    await backend.create_session("empty-pinned")
    await backend.set_pinned("empty-pinned", True)
    await make(backend, clock, "old")
    clock.advance(100 * 86400)
    cutoff = (await backend.get_session("old")).updated_at
    await make(backend, clock, "new")
    await backend.create_session("empty-new")
    await backend.set_archived("old", True)
    empty = await backend.prune_candidates(empty=True)
    assert sorted(i.id for i in empty) == ["empty-new", "empty-old"]
    older = await backend.prune_candidates(older_than=cutoff + "~")
    assert [i.id for i in older] == ["empty-old", "old"]
    assert [i.id for i in await backend.prune_candidates(archived=True)] == ["old"]
    assert await backend.forget_many(["old", "empty-old", "missing"]) == 2
    assert sorted(i.id for i in (await backend.list_sessions(limit=10)).sessions) == [
        "empty-new",
        "empty-pinned",
        "new",
    ]


async def test_assistant_events_page_by_time(backend: MemoryBackend, clock: FrozenClock) -> None:
    await backend.create_session("a", provider="p", model="m")
    await make(backend, clock, "a", "b")
    await backend.store("a", turn(2))
    rows = await backend.assistant_events(limit=2)
    assert [(e.session_id, e.seq, model) for e, _, model in rows] == [("a", 2, "m"), ("b", 2, None)]
    last = rows[-1][0]
    mark = (last.created_at, last.session_id, last.seq)
    rest = await backend.assistant_events(after=mark, limit=5)
    assert [(e.session_id, e.seq) for e, _, _ in rest] == [("a", 4)]
    since = await backend.assistant_events(since=rest[0][0].created_at, limit=5)
    assert [(e.session_id, e.seq) for e, _, _ in since] == [("a", 4)]


@pytest.mark.parametrize("rare_below", [1, 1000])
async def test_tag_filter_is_the_same_whichever_way_it_is_read(
    backend: MemoryBackend,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    rare_below: int,
) -> None:
    # Below the threshold a tag's sessions are read through the tag index; above it the
    # recent index is walked. Both must give the same pages.
    monkeypatch.setattr("memory.sql.session_list.RARE_TAG", rare_below)
    names = [f"s{i}" for i in range(8)]
    await make(backend, clock, *names)
    for name in names[::2]:
        await backend.add_tags(name, ["even"])
    await backend.add_tags("s4", ["four"])
    await backend.set_pinned("s2", True)
    assert await ids(backend, tags=["even"]) == ["s6", "s4", "s2", "s0"]
    assert await ids(backend, tags=["even"], pinned_first=True) == ["s2", "s6", "s4", "s0"]
    assert await ids(backend, tags=["four", "even"]) == ["s4"]
    page = await backend.list_sessions(limit=1, tags=["even"], pinned_first=True)
    seen = [i.id for i in page.sessions]
    while page.cursor is not None:
        page = await backend.list_sessions(
            limit=1, after=page.cursor, tags=["even"], pinned_first=True
        )
        seen.extend(i.id for i in page.sessions)
    assert seen == ["s2", "s6", "s4", "s0"]


async def test_prune_deletes_only_what_did_not_change_since_the_plan(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    await backend.create_session("quiet")
    await backend.create_session("woken")
    await backend.create_session("pinned-later")
    await backend.store("keep", turn(1))
    plan = await backend.prune_candidates(empty=True)
    assert sorted(i.id for i in plan) == ["pinned-later", "quiet", "woken"]
    clock.advance(5)
    await backend.store("woken", turn(1))  # activity after the plan was read
    await backend.set_pinned("pinned-later", True)
    assert await backend.prune_sessions(plan) == ["quiet"]
    assert await backend.find_session("quiet") is None
    assert (await backend.get_session("woken")).events == 2
    assert await backend.find_session("pinned-later") is not None
    assert await backend.prune_sessions([]) == []


async def test_forked_events_are_found_by_search(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    await backend.store("src", turn(1))
    fork = await backend.fork_session("src", at=2)
    found = await backend.search_events("answer 1")
    assert sorted((e.session_id, e.seq) for e in found) == sorted([("src", 2), (fork.id, 2)])
    # The full-text index too (issue 14): the copied events and the fork's title.
    hits = await backend.search("answer 1")
    assert sorted((h.session_id, h.seq) for h in hits if h.seq) == sorted(
        [("src", 2), (fork.id, 2)]
    )
    titled = await backend.fork_session("src", at=1, title="Zebra crossing plan")
    assert [h.session_id for h in await backend.search("zebra") if h.kind == "title"] == [titled.id]
