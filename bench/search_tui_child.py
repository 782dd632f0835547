"""Typing into the TUI's search screen on the search corpus, in its own process.

    python -m bench.search_tui_child DB KEY_GAP_MS ROUNDS

Prints one JSON object. The real app (as ``launch_tui`` builds it) runs headless at
120x40 on the search corpus; ``s`` opens the search screen and each query of
:data:`QUERIES` is typed one key at a time, ``KEY_GAP_MS`` apart (a quick typist), then
left alone until its results are painted. Figures:

* ``latencies``: for every keystroke, the time from the key to the first paint of the
  screen showing the results of the text typed so far or of a later text of the same
  query (results equal to those already on screen need no paint: they count when they
  arrive) (a key whose results were superseded by the next key counts until those are
  painted, so a slow query shows up in the keys typed after it too);
* ``typing`` and ``idle``: per query, the largest lateness of a 1 ms ticker on the
  app's loop while that query is typed and its results arrive, and during an idle
  window of the same length right after (interleaved, so other processes' load falls
  on both alike);
* ``detail`` (only with ``TURNKEEP_BENCH_STALL_DETAIL=1``): per window, the longest
  loop callback, which task ran it and the collector passes inside it (see
  :class:`_Blocked`), to find where a stall comes from.
"""

from __future__ import annotations

import asyncio
import asyncio.events
import gc
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from bench.tui_child import SIZE, _Probe, make_app, settle, until

#: Typed as a person would: a frequent word, a rare one, a phrase, an identifier part,
#: a word and more words, a partial word, a word without another.
QUERIES = (
    "function",
    "zanzibarite",
    '"connection reset"',
    "AuthMiddleware",
    "error value",
    "refact",
    "the test",
    "function -error",
)


#: Set to 1 to add ``detail``: where the loop was blocked (instrumentation only; it
#: times every loop callback, so the figures of such a run are a little higher).
DETAIL_ENV = "TURNKEEP_BENCH_STALL_DETAIL"


class _Blocked:
    """The longest loop callbacks of each window, and the collector's passes inside them.

    Wraps ``asyncio.Handle._run`` (every callback the loop runs) and ``gc.callbacks``
    while installed. ``windows`` gets, per closed window, its largest callback: its
    milliseconds, the task it ran (Textual names its paint timer ``screen_update``) and
    the collector passes (generation, ms) that ran inside it.
    """

    def __init__(self) -> None:
        self.phase: str | None = None
        self.windows: list[dict[str, Any]] = []
        self._largest: tuple[float, str, list[tuple[int, float]]] | None = None
        self._passes: list[tuple[int, float]] = []
        self._gc_started = 0.0

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self._passes.append((info["generation"], time.perf_counter() - self._gc_started))

    def window(self, phase: str | None, query: str) -> None:
        if self.phase is not None and self._largest is not None:
            took, where, passes = self._largest
            self.windows.append(
                {
                    "phase": self.phase,
                    "query": query,
                    "largest_ms": round(took * 1e3, 3),
                    "callback": where,
                    "gc": [(gen, round(ms * 1e3, 3)) for gen, ms in passes],
                }
            )
        self.phase, self._largest = phase, None

    @contextmanager
    def installed(self) -> Iterator[None]:
        run = asyncio.events.Handle._run
        blocked = self

        def timed(handle: asyncio.events.Handle) -> None:
            if blocked.phase is None:
                return run(handle)
            passes_before = len(blocked._passes)
            started = time.perf_counter()
            try:
                return run(handle)
            finally:
                took = time.perf_counter() - started
                if blocked._largest is None or took > blocked._largest[0]:
                    task = getattr(handle._callback, "__self__", None)  # type: ignore[attr-defined]
                    where = task.get_name() if isinstance(task, asyncio.Task) else "callback"
                    if isinstance(task, asyncio.Task) and where.startswith("Task-"):
                        where = getattr(task.get_coro(), "__qualname__", where)
                    blocked._largest = (took, where, blocked._passes[passes_before:])
                del blocked._passes[: len(blocked._passes) - 64]  # keep the list short

        asyncio.events.Handle._run = timed  # type: ignore[method-assign,assignment]
        gc.callbacks.append(self.on_gc)
        try:
            yield
        finally:
            asyncio.events.Handle._run = run  # type: ignore[method-assign]
            gc.callbacks.remove(self.on_gc)


def _window(probe: _Probe, blocked: _Blocked | None, phase: str | None, label: str) -> Any:
    """``probe.window(phase)``, and the same window for ``blocked`` when it is on."""
    if blocked is not None:
        blocked.window(phase, label)
    return probe.window(phase)


async def typing(db: str, key_gap: float, rounds: int) -> dict[str, Any]:
    """See the module docstring."""
    from textual.widgets import Input

    from tui.screens.home import HomeScreen
    from tui.screens.search import SearchScreen
    from tui.widgets.session_table import SessionTable

    app = make_app(db)
    display = app._display
    #: (text shown, when painted) for every paint of the search screen with new results.
    paints: list[tuple[str, float]] = []

    def watched_display(screen: Any, update: Any) -> None:
        display(screen, update)
        shown = screen.shown_query if isinstance(screen, SearchScreen) else None
        if shown is not None and (not paints or paints[-1][0] != shown):
            paints.append((shown, time.perf_counter()))

    app._display = watched_display
    show = SearchScreen._show

    def watched_show(screen: SearchScreen, query: str, hits: list[Any]) -> None:
        # Results equal to those on screen change nothing, so no paint follows: they
        # count as shown when they arrive.
        unchanged = hits == screen.hits and screen.shown_query is not None
        show(screen, query, hits)
        if unchanged and (not paints or paints[-1][0] != query):
            paints.append((query, time.perf_counter()))

    SearchScreen._show = watched_show  # type: ignore[method-assign,assignment]
    probe = _Probe()
    latencies: list[float] = []
    typing_stalls: list[float] = []
    idle_stalls: list[float] = []
    async with app.run_test(size=SIZE) as pilot:

        def home_ready() -> bool:
            screen = app.screen
            return isinstance(screen, HomeScreen) and bool(
                screen.query(SessionTable) and screen.query_one(SessionTable).sessions
            )

        await until(pilot, home_ready, "the home screen lists sessions", within=120)
        await settle(pilot)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen), "the search screen")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        field = screen.query_one("#search-input", Input)
        loop = asyncio.get_running_loop()
        ticker = loop.create_task(probe.tick())
        blocked = _Blocked() if os.environ.get(DETAIL_ENV) == "1" else None
        installed: AbstractContextManager[None] = (
            blocked.installed() if blocked is not None else nullcontext()
        )
        installed.__enter__()
        try:
            for round_ in range(rounds + 1):  # the first round warms caches and imports
                for query in QUERIES:
                    field.value = ""
                    await settle(pilot)
                    paints.clear()
                    keys: list[tuple[str, float]] = []
                    _window(probe, blocked, "typing", f"{round_}:{query}")
                    started = time.perf_counter()
                    for char in query:
                        keys.append((field.value + char, time.perf_counter()))
                        field.insert_text_at_cursor(char)
                        await asyncio.sleep(key_gap)
                    await until(
                        pilot,
                        lambda q=query: bool(paints) and paints[-1][0] == q,
                        f"results of {query!r} painted",
                    )
                    took = time.perf_counter() - started
                    typed = _window(probe, blocked, None, f"{round_}:{query}")
                    await asyncio.sleep(0.05)
                    _window(probe, blocked, "idle", f"{round_}:{query}")
                    await asyncio.sleep(took)
                    idle = _window(probe, blocked, None, f"{round_}:{query}")
                    if not round_:
                        continue
                    typing_stalls.append(max(late for late, _ in typed))
                    idle_stalls.append(max(late for late, _ in idle))
                    for index, (_typed, pressed) in enumerate(keys):
                        later = {t for t, _ in keys[index:]}
                        shown = [at for t, at in paints if t in later and at >= pressed]
                        latencies.append(min(shown) - pressed)
        finally:
            installed.__exit__(None, None, None)
            ticker.cancel()
    out: dict[str, Any] = {"latencies": latencies, "typing": typing_stalls, "idle": idle_stalls}
    if blocked is not None:  # the measured rounds only (round 0 warms up)
        out["detail"] = [w for w in blocked.windows if not w["query"].startswith("0:")]
    return out


def main(argv: list[str]) -> int:
    db, gap_ms, rounds = argv
    out = asyncio.run(typing(db, int(gap_ms) / 1000, int(rounds)))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
