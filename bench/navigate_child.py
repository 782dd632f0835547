"""Go-to-turn in a long session, measured in its own process (scenario 10).

    python -m bench.navigate_child DB SESSION_ID NEWEST_SEQ REPEAT TURN...

Prints one JSON object: ``open`` (Enter on the home screen until the newest event is
painted, as scenario 5 times it) and, for each TURN, the time from Enter in the "go to
turn" dialog until the turn's first event is painted. Before each jump, Home or End
takes the reader to the far end of the session, so the target is never already loaded:
every jump is an indexed lookup plus a window read and painted.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from bench.tui_child import SIZE, make_app, settle, until


async def measure(
    db: str, session_id: str, newest: int, repeat: int, targets: dict[int, int]
) -> dict[str, Any]:
    """Time opening at the end and landing on each turn of ``targets`` (turn -> seq)."""
    from textual.css.query import NoMatches
    from textual.errors import NoWidget

    from tui.screens.go_to import GoToTurnDialog
    from tui.screens.home import HomeScreen
    from tui.screens.session import SessionScreen
    from tui.widgets.event_log import EventLog
    from tui.widgets.session_table import SessionTable

    app = make_app(db)
    painted = asyncio.Event()
    shown_at: list[float] = []
    wanted: list[int] = [newest]
    display = app._display

    def on_screen(screen: Any, seq: int) -> bool:
        try:
            views = screen.query_one(EventLog).views
        except NoMatches:
            return False
        view = next((v for v in views if v.seq == seq), None)
        if view is None:
            return False
        try:
            return bool(screen.find_widget(view).region.area)
        except NoWidget:
            return False

    def watched_display(screen: Any, update: Any) -> None:
        display(screen, update)
        if (
            not painted.is_set()
            and isinstance(screen, SessionScreen)
            and on_screen(screen, wanted[0])
        ):
            shown_at.append(time.perf_counter())
            painted.set()

    app._display = watched_display
    samples: dict[str, list[float]] = {"open": [], **{str(t): [] for t in targets}}

    async def timed(name: str, seq: int, *keys: str, record: bool) -> None:
        wanted[0] = seq
        painted.clear()
        shown_at.clear()
        started = time.perf_counter()
        await pilot.press(*keys)
        await asyncio.wait_for(painted.wait(), 60)
        if record:
            samples[name].append(shown_at[0] - started)
        await settle(pilot)

    def window_has(seq: int) -> bool:
        log = app.screen.query_one(EventLog)
        return log.oldest_seq is not None and log.oldest_seq <= seq <= (log.newest_seq or 0)

    async with app.run_test(size=SIZE) as pilot:

        def home_ready() -> bool:
            screen = app.screen
            if not isinstance(screen, HomeScreen):
                return False
            try:
                return bool(screen.query_one(SessionTable).sessions)
            except NoMatches:
                return False

        await until(pilot, home_ready, "the home screen lists the session")
        await settle(pilot)
        for attempt in range(repeat + 1):  # the first round warms imports and caches
            record = attempt > 0
            await timed("open", newest, "enter", record=record)
            for turn, seq in targets.items():
                # Start from the far end, so the target is never in the loaded window.
                far = "home" if seq > newest // 2 else "end"
                far_seq = 1 if far == "home" else newest
                await pilot.press(far)
                await until(pilot, lambda at=far_seq: window_has(at), "at the far end")
                await settle(pilot)
                await pilot.press("ctrl+g")
                await until(
                    pilot, lambda: isinstance(app.screen, GoToTurnDialog), "the go-to dialog"
                )
                await pilot.press(*str(turn))
                await timed(str(turn), seq, "enter", record=record)
            await pilot.press("escape")
            await until(pilot, home_ready, "back on the home screen")
            await settle(pilot)
    return {"samples": samples}


def main(argv: list[str]) -> int:
    db, session_id, newest, repeat, *pairs = argv
    targets = {int(t): int(s) for t, s in (p.split(":") for p in pairs)}
    out = asyncio.run(measure(db, session_id, int(newest), int(repeat), targets))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
