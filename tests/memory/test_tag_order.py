"""Tag-filtered lists follow every change of the sessions they list (issue 16).

On libSQL a tag filter walks ``session_tags_recent`` (migration 0006), a copy of each
tagged session's activity time and list phase kept by triggers. These contract tests
move sessions every way the product can (a new turn, pin, archive, untag, forget,
a bundle import) and check the filtered list after each, on every backend.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from memory import EventDraft, MemoryBackend, open_embedded
from memory.bundle import dumps_bundle, parse_bundle
from memory.schema.migrate import migrations_dir
from tests.conftest import FrozenClock


def turn(n: int) -> list[EventDraft]:
    return [
        EventDraft("user", {"role": "user", "content": f"question {n}"}, turn=n),
        EventDraft("assistant", {"role": "assistant", "content": f"answer {n}"}, turn=n),
    ]


async def ids(backend: MemoryBackend, **kwargs: object) -> list[str]:
    page = await backend.list_sessions(limit=100, **kwargs)  # type: ignore[arg-type]
    return [i.id for i in page.sessions]


async def test_tag_filter_follows_activity_pins_archive_and_untag(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    for name in ("a", "b", "c", "d"):
        await backend.store(name, turn(1))
        clock.advance(1)
        await backend.add_tags(name, ["work"])
    await backend.add_tags("b", ["rare"])
    await backend.add_tags("d", ["rare"])
    home = {"tags": ["work"], "pinned_first": True}
    assert await ids(backend, **home) == ["d", "c", "b", "a"]
    # A new turn moves a session to the top of its tag's list.
    clock.advance(1)
    await backend.store("a", turn(2))
    assert await ids(backend, **home) == ["a", "d", "c", "b"]
    assert await ids(backend, tags=["rare", "work"], pinned_first=True) == ["d", "b"]
    # Pins head the filtered list; archived sessions leave it for the archive view.
    await backend.set_pinned("b", True)
    await backend.set_archived("c", True)
    assert await ids(backend, **home) == ["b", "a", "d"]
    assert await ids(backend, tags=["work"], archived=True) == ["c"]
    await backend.set_archived("c", False)
    await backend.set_pinned("b", False)
    assert await ids(backend, **home) == ["a", "d", "c", "b"]
    # Untagging and forgetting take a session out of the filter.
    await backend.remove_tags("d", ["work"])
    await backend.forget("c")
    assert await ids(backend, **home) == ["a", "b"]
    assert await ids(backend, tags=["rare"], pinned_first=True) == ["d", "b"]
    # Paging through the filtered list with the cursor gives the same order.
    page = await backend.list_sessions(limit=1, tags=["work"], pinned_first=True)
    seen = [i.id for i in page.sessions]
    while page.cursor is not None:
        page = await backend.list_sessions(
            limit=1, after=page.cursor, tags=["work"], pinned_first=True
        )
        seen.extend(i.id for i in page.sessions)
    assert seen == ["a", "b"]


@pytest.mark.parametrize("rare_below", [1, 1000])
async def test_several_tags_match_whole_tags_only(
    backend: MemoryBackend, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, rare_below: int
) -> None:
    """A session matches a tag only by the whole tag: "work" is not found inside
    "homework" or "work-log", nor a tag inside two neighbouring ones, in each list and
    whether the list is read from the rarest tag or by walking the recent index."""
    monkeypatch.setattr("memory.sql.session_list.RARE_TAG", rare_below)
    tagged = {
        "whole": ["rare", "work"],
        "inside": ["homework", "rare"],
        "prefix": ["rare", "work-log"],
        "joined": ["rare", "wo", "rk"],
        "untagged": [],
    }
    for name, tags in tagged.items():
        await backend.store(name, turn(1))
        clock.advance(1)
        if tags:
            await backend.add_tags(name, tags)
    for shape in ({"pinned_first": True}, {"pinned_first": False}):
        assert await ids(backend, tags=["rare", "work"], **shape) == ["whole"]
        assert await ids(backend, tags=["work", "rare"], **shape) == ["whole"]
        assert await ids(backend, tags=["rare", "wo"], **shape) == ["joined"]
        assert await ids(backend, tags=["rare", "homework"], **shape) == ["inside"]
    for name in tagged:
        await backend.set_archived(name, True)
    assert await ids(backend, tags=["rare", "work"], archived=True) == ["whole"]
    assert await ids(backend, tags=["rare", "rk"], archived=True) == ["joined"]
    # A tag added later is matched too; one removed no longer is.
    await backend.set_archived("inside", False)
    await backend.add_tags("inside", ["work"])
    await backend.remove_tags("inside", ["homework"])
    assert await ids(backend, tags=["rare", "work"]) == ["inside"]
    assert await ids(backend, tags=["rare", "homework"]) == []


async def test_imported_tagged_sessions_are_listed_by_tag(
    backend: MemoryBackend, clock: FrozenClock
) -> None:
    await backend.store("old", turn(1))
    await backend.add_tags("old", ["kept", "work"])
    exported = [s async for s in backend.export_sessions()]
    await backend.forget("old")
    assert await ids(backend, tags=["work"], pinned_first=True) == []
    await backend.import_sessions(parse_bundle(dumps_bundle(exported)))
    assert await ids(backend, tags=["work"], pinned_first=True) == ["old"]
    assert await ids(backend, tags=["kept", "work"]) == ["old"]


async def test_migration_0006_lists_tags_given_before_it(db_path: Path) -> None:
    """A database tagged under 0005 gets its tag order filled by the migration."""
    memory = await open_embedded(db_path)
    try:
        await memory.store("x", turn(1))
        await memory.store("y", turn(1))
        await memory.add_tags("x", ["work"])
        await memory.set_pinned("y", True)
        await memory.add_tags("y", ["work"])
    finally:
        await memory.close()
    conn = sqlite3.connect(db_path)
    with conn:
        conn.executescript((migrations_dir() / "0009.session-tags-recent.rollback.sql").read_text())
        conn.execute("DELETE FROM _yoyo_migration WHERE migration_id = '0009.session-tags-recent'")
    conn.close()
    memory = await open_embedded(db_path)
    try:
        page = await memory.list_sessions(limit=10, tags=["work"], pinned_first=True)
        assert [i.id for i in page.sessions] == ["y", "x"]
    finally:
        await memory.close()
