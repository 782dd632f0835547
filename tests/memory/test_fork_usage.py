"""Usage counts each answer once: a fork's copies of its source's answers are not new
answers (review finding 2). Runs on every backend."""

from __future__ import annotations

from dataclasses import replace

import pytest

from memory import EventDraft, MemoryBackend, SerializationError
from memory.records import TokenCount
from memory.sql.organize import ForkPointError
from tests.conftest import FrozenClock


def turn(n: int, prompt: int) -> list[EventDraft]:
    return [
        EventDraft("user", {"role": "user", "content": f"question {n}"}, turn=n),
        EventDraft(
            "assistant", {"role": "assistant", "content": f"answer {n}"}, n, TokenCount(prompt, 1)
        ),
    ]


async def answers(backend: MemoryBackend) -> list[tuple[str, int]]:
    rows = await backend.assistant_events(limit=100)
    return sorted((e.session_id, e.seq) for e, _, _ in rows)


async def test_a_fork_contributes_only_its_own_answers(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    await backend.store("src", turn(1, 10))
    await backend.store("src", turn(2, 20))
    clock.advance(5)
    whole = await backend.fork_session("src", new_id="whole")
    half = await backend.fork_session("src", at=2, new_id="half")
    assert await answers(backend) == [("src", 2), ("src", 4)]
    # A fork's own answer counts; a fork of a fork copies that answer, not counted again.
    clock.advance(5)
    await backend.store("half", turn(2, 30))
    assert ("half", 4) in await answers(backend)
    await backend.fork_session("half", new_id="grand")
    assert await answers(backend) == [("half", 4), ("src", 2), ("src", 4)]
    # The forks' totals still describe their content (the copied answers' tokens).
    assert (whole.prompt_tokens, half.forked_at_seq) == (30, 2)
    assert (await backend.get_session("grand")).events == 4


async def test_fork_copies_are_skipped_across_pages(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    for n in range(1, 4):
        await backend.store("src", turn(n, n))
        clock.advance(1)
    await backend.fork_session("src", new_id="f")
    await backend.store("f", turn(4, 4))
    seen: list[tuple[str, int]] = []
    after: tuple[str, str, int] | None = None
    while True:
        page = await backend.assistant_events(after=after, limit=1)
        seen.extend((e.session_id, e.seq) for e, _, _ in page)
        if len(page) < 1:
            break
        last = page[-1][0]
        after = (last.created_at, last.session_id, last.seq)
    assert seen == [("src", 2), ("src", 4), ("src", 6), ("f", 8)]


async def test_a_fork_of_an_import_is_no_import(backend: MemoryBackend) -> None:
    """The fork keeps the metadata but the import's ``source`` (review finding 12)."""
    meta = {"cwd": "/home/ana", "source": {"tool": "claude-code", "id": "x", "offset": 9}}
    await backend.create_session("imp", metadata=meta)
    await backend.store("imp", turn(1, 1))
    fork = await backend.fork_session("imp", new_id="mine")
    assert fork.metadata == {"cwd": "/home/ana"}
    assert (await backend.get_session("mine")).metadata == {"cwd": "/home/ana"}
    assert (await backend.get_session("imp")).metadata == meta
    page = await backend.list_sessions(limit=10, source="claude-code")
    assert [i.id for i in page.sessions] == ["imp"]


async def test_a_fork_past_any_seq_is_refused(backend: MemoryBackend) -> None:
    await backend.store("src", turn(1, 1))
    with pytest.raises(ForkPointError, match="no session has that many events"):
        await backend.fork_session("src", at=99999999999999999999)
    assert [i.id for i in (await backend.list_sessions(limit=10)).sessions] == ["src"]


async def test_a_leading_hash_is_not_part_of_a_tag(backend: MemoryBackend) -> None:
    """``#work`` is how a tag is written in the filter: it names the tag ``work``."""
    await backend.store("s", turn(1, 1))
    info = await backend.add_tags("s", ["#hash", "##deep", " plain "])
    assert info.tags == ("deep", "hash", "plain")
    assert await backend.all_tags() == [("deep", 1), ("hash", 1), ("plain", 1)]
    page = await backend.list_sessions(limit=5, tags=["hash"])
    assert [i.id for i in page.sessions] == ["s"]
    assert (await backend.remove_tags("s", ["#hash"])).tags == ("deep", "plain")
    for bad in ("#", "##", "#[x]"):
        with pytest.raises(SerializationError):
            await backend.add_tags("s", [bad])
    assert (await backend.get_session("s")).tags == ("deep", "plain")


async def test_a_tag_stored_with_a_hash_earlier_can_be_removed(backend: MemoryBackend) -> None:
    """Databases tagged before the ``#`` was dropped may hold ``#old``: untag removes it."""
    await backend.store("s", turn(1, 1))
    await backend.add_tags("s", ["keep"])
    (bundle,) = [s async for s in backend.export_sessions()]
    await backend.forget_many(["s"])
    await backend.import_sessions([replace(bundle, tags=("#old", "keep"))])
    assert (await backend.get_session("s")).tags == ("#old", "keep")
    assert (await backend.remove_tags("s", ["#old"])).tags == ("keep",)
