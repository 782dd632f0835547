"""The screens the snapshot tests check and ``scripts/screenshots.py`` draws.

Each scene seeds a real database under a fake home directory (so locations read
``~/.local/share/turnkeep/turnkeep.db``), builds the app with a frozen clock, and says
how to drive it to the picture. Everything that could vary between runs (ids, times,
the measured latency) is fixed here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from runtime.settings import load_settings
from tests.tui.scenes_convo import CONVO_SCENES
from tests.tui.scenes_navigate import NAVIGATE_SCENES
from tests.tui.scenes_organize import ORGANIZE_SCENES
from tests.tui.seed import NOW, DemoSession, demo_sessions, seed_demo, session_id
from tui.app import TurnkeepApp

__all__ = ["SCENES", "SIZE", "Scene", "prepare_home"]

SIZE = (120, 40)

#: The live-turn picture: a tool call, then an answer that streams until cancelled.
LIVE_SCRIPT: dict[str, Any] = {
    "turns": [
        [
            {
                "text": "Let me measure it first. ",
                "tool_calls": [{"name": "calculator", "arguments": {"expression": "41.2 / 20"}}],
            },
            {
                "text": "Each run takes about **2.06 s**, so the whole suite of 20 runs fits in",
                "chunk_size": 7,
                "hang": True,
            },
        ]
    ]
}

Drive = Callable[[Pilot[Any]], Awaitable[None]]


@dataclass
class Scene:
    """A picture: the app to run and how to drive it there."""

    name: str
    app: TurnkeepApp
    run_before: Drive


def prepare_home(home: Path) -> Path:
    """Point HOME and the XDG directories into ``home``; return the database path."""
    os.environ["HOME"] = str(home)
    os.environ["XDG_DATA_HOME"] = str(home / ".local" / "share")
    os.environ["XDG_CONFIG_HOME"] = str(home / ".config")
    path = home / ".local" / "share" / "turnkeep" / "turnkeep.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _now() -> Any:
    return NOW


def _app(path: Path | None = None, *, script: Path | None = None, **kwargs: Any) -> TurnkeepApp:
    agent: dict[str, Any] = {"provider": "scripted"}
    if script is not None:
        agent["script"] = str(script)
    db: dict[str, Any] = {} if path is None else {"path": str(path)}
    return TurnkeepApp(load_settings(db=db, agent=agent), clock=_now, **kwargs)


async def settle(pilot: Pilot[Any]) -> None:
    """Let every worker finish and the screen repaint.

    A worker may be cancelled by a newer one of its group while we wait (that is how
    stale reads are dropped); then wait for the newer one.
    """
    await pilot.pause()
    while True:
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            continue
        break
    await pilot.pause()


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool], what: str) -> None:
    """Process messages until ``condition`` holds (bounded; fails with ``what``).

    The bound is generous (about 30 s) so a loaded CI machine does not fail it; it only
    ends a test that would otherwise hang.
    """
    for _ in range(1500):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"this never happened: {what}")


def _live_session() -> DemoSession:
    return DemoSession(
        7,
        "Speed up the upload suite",
        "scripted",
        "script",
        timedelta(minutes=1),
        [
            [
                ("user", {"role": "user", "content": "How long does one upload test take?"}),
                (
                    "assistant",
                    {
                        "role": "assistant",
                        "content": "About **2 s** per run on CI.",
                        "provider": "scripted",
                        "model": "script",
                    },
                ),
            ]
        ],
    )


def home_populated(home: Path) -> Scene:
    path = prepare_home(home)
    asyncio.run(seed_demo(path))
    return Scene("home", _app(), settle)


def home_empty(home: Path) -> Scene:
    prepare_home(home)
    return Scene("home-empty", _app(), settle)


def session_with_tools(home: Path) -> Scene:
    path = prepare_home(home)
    asyncio.run(seed_demo(path))

    async def drive(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        from tui.widgets.tool_views import ToolResultView

        result = pilot.app.screen.query(ToolResultView).first()
        result.focus()
        await pilot.press("enter")
        await settle(pilot)

    return Scene("session", _app(resume=session_id(1)), drive)


def live_turn(home: Path) -> Scene:
    path = prepare_home(home)
    asyncio.run(seed_demo(path, [*demo_sessions(), _live_session()]))
    script = home / "live-script.json"
    script.write_text(json.dumps(LIVE_SCRIPT), encoding="utf-8")

    async def drive(pilot: Pilot[Any]) -> None:
        from tui.widgets.events import AssistantMessageView

        app = pilot.app
        await settle(pilot)
        await pilot.press(*"Can the 20 runs finish in under a minute?", "enter")

        def hanging() -> bool:
            views = app.screen.query(AssistantMessageView)
            state = app.save_state  # type: ignore[attr-defined]
            return (
                bool(views)
                and views.last().text.endswith("fits in")
                and state is not None
                and state.pending == 0
            )

        await wait_until(pilot, hanging, "the live turn hangs mid-stream")
        await pilot.pause()

    return Scene("live-turn", _app(script=script, resume=session_id(7)), drive)


def health(home: Path) -> Scene:
    path = prepare_home(home)
    asyncio.run(seed_demo(path))

    async def drive(pilot: Pilot[Any]) -> None:
        from tui.screens.health import HealthScreen

        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, HealthScreen) and screen.report is not None
        # The measured round trip differs on every run; pin it for the picture.
        screen.show_report(dataclasses.replace(screen.report, latency_ms=0.4))
        await pilot.pause()

    return Scene("health", _app(), drive)


def startup_error(home: Path) -> Scene:
    prepare_home(home)
    return Scene("error", _app(Path("/nonexistent/turnkeep/turnkeep.db")), settle)


def delete_dialog(home: Path) -> Scene:
    path = prepare_home(home)
    asyncio.run(seed_demo(path))

    async def drive(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("down", "down", "d")
        await settle(pilot)

    return Scene("delete-dialog", _app(), drive)


def saving_fails(home: Path) -> Scene:
    path = prepare_home(home)
    asyncio.run(seed_demo(path, [*demo_sessions(), _live_session()]))
    script = home / "tool-script.json"
    script.write_text(json.dumps({"turns": [[{"text": "Noted: {user}"}]]}), encoding="utf-8")

    async def drive(pilot: Pilot[Any]) -> None:
        from tui.widgets.save_status import saving_fails as failing

        app = pilot.app
        await settle(pilot)
        with sqlite3.connect(path) as conn:
            conn.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON conversation_events "
                "BEGIN SELECT RAISE(ABORT, 'disk I/O error: no space left on device'); END"
            )
        await pilot.press(*"Keep this answer, please.", "enter")
        await wait_until(
            pilot,
            lambda: failing(app.save_state) and not app.screen.running,  # type: ignore[attr-defined]
            "saving fails after the turn ended",
        )
        await pilot.pause()

    return Scene("saving-failed", _app(script=script, resume=session_id(7)), drive)


#: name -> builder, in the order the README shows them.
def index_as_the_app_does(path: Path) -> None:
    """Re-index seeded events with the runtime's reader, as the app's backfill would.

    The demo data is stored through the memory layer alone, which indexes every string
    of a payload (role names included); the app indexes what runtime.payloads reads.
    """
    import sqlite3

    from memory import open_embedded
    from runtime.payloads import searchable_text
    from runtime.search_index import backfill_index

    conn = sqlite3.connect(path)
    with conn:
        conn.execute("DELETE FROM search_events")
        conn.execute("DELETE FROM search_pending")  # save points' rows not yet moved (0015)
        # The word index is contentless (0007): it is emptied by its own command.
        conn.execute("INSERT INTO search_words (search_words) VALUES ('delete-all')")
        conn.execute(
            "UPDATE search_progress SET backfill_done = 0, "
            "backfill_until = (SELECT max(id) FROM conversation_events)"
        )
    conn.close()

    async def backfill() -> None:
        memory = await open_embedded(path)
        memory.use_search_text(searchable_text)
        try:
            await backfill_index(memory, pause=0)
        finally:
            await memory.close()

    asyncio.run(backfill())


def search_results(home: Path) -> Scene:
    """The search screen with ranked hits for a word typed on the home screen."""
    path = prepare_home(home)
    asyncio.run(seed_demo(path))
    index_as_the_app_does(path)

    async def drive(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("s", *"upload test")
        screen: Any = pilot.app.screen
        await wait_until(pilot, lambda: screen.shown_query == "upload test", "search results")
        await settle(pilot)

    return Scene("search", _app(), drive)


def session_at_hit(home: Path) -> Scene:
    """A session opened from a search hit: a window around it, the hit highlighted."""
    path = prepare_home(home)
    asyncio.run(seed_demo(path))
    index_as_the_app_does(path)

    async def drive(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("s", *"flush")
        screen: Any = pilot.app.screen
        await wait_until(pilot, lambda: screen.shown_query == "flush", "search results")
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: bool(pilot.app.screen.query(".-search-hit")), "session at the hit"
        )
        await settle(pilot)

    return Scene("session-at-hit", _app(), drive)


SCENES: dict[str, Callable[[Path], Scene]] = {
    "home": home_populated,
    "home-empty": home_empty,
    "session": session_with_tools,
    "live-turn": live_turn,
    "health": health,
    "error": startup_error,
    "delete-dialog": delete_dialog,
    "saving-failed": saving_fails,
    **ORGANIZE_SCENES,
    "search": search_results,
    "session-at-hit": session_at_hit,
    **NAVIGATE_SCENES,
    **CONVO_SCENES,
}
