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
  on both alike).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
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
        try:
            for round_ in range(rounds + 1):  # the first round warms caches and imports
                for query in QUERIES:
                    field.value = ""
                    await settle(pilot)
                    paints.clear()
                    keys: list[tuple[str, float]] = []
                    probe.window("typing")
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
                    typed = probe.window(None)
                    await asyncio.sleep(0.05)
                    probe.window("idle")
                    await asyncio.sleep(took)
                    idle = probe.window(None)
                    if not round_:
                        continue
                    typing_stalls.append(max(late for late, _ in typed))
                    idle_stalls.append(max(late for late, _ in idle))
                    for index, (_typed, pressed) in enumerate(keys):
                        later = {t for t, _ in keys[index:]}
                        shown = [at for t, at in paints if t in later and at >= pressed]
                        latencies.append(min(shown) - pressed)
        finally:
            ticker.cancel()
    return {"latencies": latencies, "typing": typing_stalls, "idle": idle_stalls}


def main(argv: list[str]) -> int:
    db, gap_ms, rounds = argv
    out = asyncio.run(typing(db, int(gap_ms) / 1000, int(rounds)))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
