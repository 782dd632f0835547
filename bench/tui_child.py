"""One TUI measurement in its own process (scenarios 5 and 6), so no two share a heap.

    python -m bench.tui_child open DB SESSION_ID NEWEST_SEQ REPEAT
    (DB may be a ws:// URL of a sqld, its token in BENCH_SQLD_TOKEN)
    python -m bench.tui_child stall DB SESSION_ID ROUNDS SAVE_POINTS

Prints one JSON object on stdout. The app is the real one, built as ``launch_tui``
builds it (``TurnkeepApp`` from settings that point at DB, scripted provider), run
headless at 120x40 on this process's event loop.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from bench.turns import turn_drafts

SIZE = (120, 40)
TICK = 0.001
#: Save points per saving window, and the pause after it before the idle window.
CHUNK = 100
GAP = 0.05


def peak_rss_kib() -> int:
    """The process's peak resident set size (``VmHWM``), in KiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def make_app(db: str, **kwargs: Any) -> Any:
    # A ws:// location is a remote server (scenario 10); its token comes from the
    # environment the parent set, never from the command line.
    import os

    from runtime.settings import load_settings
    from tui.app import TurnkeepApp

    where: dict[str, Any] = {"path": db}
    if db.startswith("ws://"):
        where = {"url": db, "auth_token": os.environ.get("BENCH_SQLD_TOKEN")}
    settings = load_settings(db=where, agent={"provider": "scripted"})
    # As ``launch_tui`` builds the process's app (the start-up heap is frozen).
    return TurnkeepApp(settings, freeze_startup_heap=True, **kwargs)


async def until(pilot: Any, condition: Any, what: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"this never happened: {what}")
        await pilot.pause(0.005)


async def settle(pilot: Any) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def screen_text(app: Any) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


# -- scenario 5: open a session ------------------------------------------------------------


async def open_session(db: str, session_id: str, newest: int, repeat: int) -> dict[str, Any]:
    """Time Enter on the home screen until the newest event is painted, ``repeat`` times."""
    from textual.css.query import NoMatches
    from textual.errors import NoWidget

    from tui.screens.home import HomeScreen
    from tui.screens.session import SessionScreen
    from tui.widgets.event_log import EventLog
    from tui.widgets.session_table import SessionTable

    app = make_app(db)
    painted = asyncio.Event()
    shown_at: list[float] = []
    display = app._display

    def newest_on_screen(screen: Any) -> bool:
        try:
            views = screen.query_one(EventLog).views
        except NoMatches:
            return False
        if not views or views[-1].seq != newest:
            return False
        try:
            return bool(screen.find_widget(views[-1]).region.area)
        except NoWidget:
            return False

    def watched_display(screen: Any, update: Any) -> None:
        display(screen, update)
        if not painted.is_set() and isinstance(screen, SessionScreen) and newest_on_screen(screen):
            shown_at.append(time.perf_counter())
            painted.set()

    app._display = watched_display
    samples: list[float] = []
    marker_seen = False
    async with app.run_test(size=SIZE) as pilot:

        def home_ready() -> bool:
            screen = app.screen
            if not isinstance(screen, HomeScreen):
                return False
            try:
                return bool(screen.query_one(SessionTable).sessions)
            except NoMatches:  # still composing
                return False

        await until(pilot, home_ready, "the home screen lists the session")
        await settle(pilot)
        for attempt in range(repeat + 1):  # the first one warms imports and caches
            painted.clear()
            shown_at.clear()
            started = time.perf_counter()
            await pilot.press("enter")
            await asyncio.wait_for(painted.wait(), 60)
            if attempt:
                samples.append(shown_at[0] - started)
            await settle(pilot)
            marker_seen = marker_seen or f"#{newest} " in screen_text(app)
            if attempt < repeat:
                await pilot.press("escape")
                await until(pilot, home_ready, "back on the home screen")
                await settle(pilot)
        rss = peak_rss_kib()
    return {"samples": samples, "peak_rss_kib": rss, "marker_seen": marker_seen}


# -- scenario 6: event-loop stalls while saving --------------------------------------------


class _Probe:
    """A 1 ms ticker on the app's loop, and the full garbage collections it sees.

    1 ms rather than coarser: any callback that holds the loop for a millisecond or more
    (a repaint, a burst of messages) makes some tick late, wherever it falls.

    Each tick records its lateness and the loop thread's CPU time during it: a late tick
    with little CPU means the loop thread was waiting (for a CPU or the GIL), not busy.
    """

    def __init__(self) -> None:
        self.phase: str | None = None
        self.ticks: list[tuple[float, float]] = []
        self.full_gcs: dict[str, list[float]] = {"idle": [], "saving": []}
        self._gc_started = 0.0

    async def tick(self) -> None:
        while True:
            started, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(TICK)
            late = time.perf_counter() - started - TICK
            self.ticks.append((late, time.thread_time() - cpu))

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self.phase is not None:
            self.full_gcs[self.phase].append(time.perf_counter() - self._gc_started)

    def window(self, phase: str | None) -> list[tuple[float, float]]:
        """Start a window of ``phase``; return the ticks of the one before."""
        ticks, self.ticks = self.ticks, []
        self.phase = phase
        return ticks


async def stall(db: str, session_id: str, rounds: int, points: int) -> dict[str, Any]:
    """Largest lateness of a 1 ms ticker on the app's loop: saving vs idle, per round.

    A round stores ``points`` save points one after another, as live turns do, in
    chunks of :data:`CHUNK`; after each chunk the app stays idle for as long as the
    chunk took. Saving and idle windows interleave, so load from other processes on a
    shared machine falls on both alike. A short gap after each chunk (not measured)
    lets the UI finish reacting to the last save point.
    """
    import gc

    from tui.screens.session import SessionScreen

    app = make_app(db, resume=session_id)
    probe = _Probe()
    result: dict[str, Any] = {"idle": [], "saving": [], "idle_all": [], "saving_all": []}
    worst: dict[str, tuple[float, float]] = {"idle": (0.0, 0.0), "saving": (0.0, 0.0)}
    seconds: list[float] = []
    async with app.run_test(size=SIZE) as pilot:

        def ready() -> bool:
            screen = app.screen
            return isinstance(screen, SessionScreen) and screen.conversation is not None

        await until(pilot, ready, "the session is open and its conversation ready")
        await settle(pilot)
        saver = app.services.saver
        assert saver is not None
        loop = asyncio.get_running_loop()
        turn = 1_000_000
        task = loop.create_task(probe.tick())
        gc.callbacks.append(probe.on_gc)
        try:
            await asyncio.sleep(0.5)
            for _ in range(rounds):
                ticks: dict[str, list[tuple[float, float]]] = {"idle": [], "saving": []}
                took = 0.0
                for _ in range(0, points, CHUNK):
                    probe.window("saving")
                    started = time.perf_counter()
                    for _ in range(CHUNK):
                        turn += 1
                        saved: asyncio.Future[list[int]] = loop.create_future()
                        saver.submit(session_id, turn_drafts(turn), on_saved=saved.set_result)
                        await saved
                    elapsed = time.perf_counter() - started
                    took += elapsed
                    ticks["saving"] += probe.window(None)
                    await asyncio.sleep(GAP)
                    probe.window("idle")
                    await asyncio.sleep(elapsed)
                    ticks["idle"] += probe.window(None)
                for phase, seen in ticks.items():
                    result[phase].append(max(late for late, _cpu in seen))
                    result[f"{phase}_all"].extend(late for late, _cpu in seen)
                    worst[phase] = max(worst[phase], *seen)
                seconds.append(took)
        finally:
            gc.callbacks.remove(probe.on_gc)
            task.cancel()
        result["saved"] = saver.state.saved
    result["saving_seconds"] = seconds
    result["worst"] = worst
    result["full_gcs"] = probe.full_gcs
    return result


def main(argv: list[str]) -> int:
    mode, db, session_id, a, b = argv
    if mode == "open":
        out = asyncio.run(open_session(db, session_id, int(a), int(b)))
    elif mode == "stall":
        out = asyncio.run(stall(db, session_id, int(a), int(b)))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
