"""Snapshot scenes of the organizing views (issue 16): pins, tags, lineage and token
totals on the home list, the archive view, the tag dialog and the fork picker.

Builders import the shared helpers of :mod:`tests.tui.scenes` when called, so that
module can list these scenes without an import cycle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.pilot import Pilot

from memory import open_embedded
from memory.records import TokenCount

if TYPE_CHECKING:
    from tests.tui.scenes import Scene

__all__ = ["ORGANIZE_SCENES"]


async def organise(path: Path) -> None:
    """The demo history, organised: a pinned, tagged fork with token totals; one archived."""
    from tests.tui.seed import NOW, SteppingClock, seed_demo, session_id

    await seed_demo(path)
    clock = SteppingClock(NOW - timedelta(minutes=2))
    memory = await open_embedded(path, clock=clock)
    try:
        fork = await memory.fork_session(
            session_id(1),
            at=4,
            title="Try the retry approach",
            tokens=TokenCount(1834, 412),
            new_id=session_id(8),
        )
        await memory.set_pinned(fork.id, True)
        await memory.add_tags(fork.id, ["ci", "flaky"])
        await memory.add_tags(session_id(2), ["infra"])
        await memory.set_archived(session_id(5), True)
    finally:
        await memory.close()


def _scene(name: str, keys: tuple[str, ...]) -> Callable[[Path], Scene]:
    def build(home: Path) -> Scene:
        from tests.tui.scenes import Scene, _app, prepare_home, settle

        path = prepare_home(home)
        asyncio.run(organise(path))

        async def drive(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            if keys:
                await pilot.press(*keys)
                await settle(pilot)

        return Scene(name, _app(), drive)

    return build


#: name -> builder, in the order the README shows them.
ORGANIZE_SCENES: dict[str, Callable[[Path], Scene]] = {
    "home-organized": _scene("home-organized", ()),
    "archive": _scene("archive", ("v",)),
    "tags-dialog": _scene("tags-dialog", ("t",)),
    "fork": _scene("fork", ("down", "f")),
}
