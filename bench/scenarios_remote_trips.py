"""Scenario 10: round trips per user action to a remote sqld 50 ms away.

A real sqld on loopback behind :class:`bench.latency_proxy.LatencyProxy`, which adds
:data:`DELAY` to every round trip and counts them on the wire (bursts the client sends
before it hears back). Each action is what the app does for it, through turnkeep's own
remote backend; its trips are compared with the issue's target and its wall time is
reported. Start-up is counted "after the connection": its trips minus those a bare
libsql-client spends connecting and running one ``SELECT 1`` (same proxy, same run),
plus that one statement.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench.children import run_json
from bench.latency_proxy import LatencyProxy
from bench.stats import Result, p99
from bench.turns import turn_drafts
from memory import EventDraft, NewTurn

#: Added to every round trip by the proxy.
DELAY = 0.050
REPEAT = 7
#: The session screen's first page (tui/screens/session.py FIRST_PAGE).
OPEN_PAGE = 30
#: Actions: (name, target trips).
TARGETS = {
    "start-up after the connection (open_remote)": 3,
    "list page 1 (home: page + count)": 1,
    "list page 1 (list_sessions only)": 1,
    "open a session at its newest events": 2,
    "save point": 1,
    "search": 1,
}


#: The session the TUI opens (seeded last: the first row of the home list).
TUI_SESSION, TUI_EVENTS = "tui-long", 2_000


def _messages(count: int) -> list[EventDraft]:
    """Questions and answers; each text starts with ``#<seq> `` (what the TUI child checks)."""
    return [
        EventDraft(
            "user" if i % 2 == 0 else "assistant",
            {"role": "user" if i % 2 == 0 else "assistant", "content": f"#{i + 1} message kiwi"},
        )
        for i in range(count)
    ]


async def _seed_into(memory: Any) -> None:
    try:
        await memory.store("long", _messages(2_000))
        for i in range(60):
            await memory.store(f"s{i:03d}", [EventDraft("user", {"content": f"hello {i}"})])
        await memory.store(TUI_SESSION, _messages(TUI_EVENTS))
    finally:
        await memory.close()


async def _seed(url: str, token: str) -> None:
    from memory import open_remote

    await _seed_into(await open_remote(url, auth_token=token))


def _tui_open(workdir: Path, where: str, token: str, repeat: int = 6) -> list[float]:
    """Enter on the home screen until the newest event is painted (bench.tui_child)."""
    out = run_json(
        ["bench.tui_child", "open", where, TUI_SESSION, str(TUI_EVENTS), str(repeat)],
        workdir,
        BENCH_SQLD_TOKEN=token,
    )
    if not out["marker_seen"]:
        raise RuntimeError(f"the newest event of {TUI_SESSION} was never on screen ({where})")
    samples: list[float] = out["samples"]
    return samples


async def _count(
    proxy: LatencyProxy, action: Callable[[], Awaitable[Any]]
) -> tuple[int, int, float]:
    """``(round trips, new connections, seconds)`` of one ``await action()``."""
    trips, conns = proxy.counts()
    started = time.perf_counter()
    await action()
    elapsed = time.perf_counter() - started
    after_trips, after_conns = proxy.counts()
    return after_trips - trips, after_conns - conns, elapsed


async def _open_into(into: list[Any], url: str, token: str) -> None:
    from memory import open_remote

    into.append(await open_remote(url, auth_token=token))


async def _measure(proxy: LatencyProxy, token: str) -> dict[str, tuple[list[int], list[float]]]:
    import libsql_client

    from memory import open_remote
    from runtime.persistence import PersistenceWorker

    url = f"ws://127.0.0.1:{proxy.port}"
    found: dict[str, tuple[list[int], list[float]]] = {}

    def note(name: str, trips: int, seconds: float) -> None:
        found.setdefault(name, ([], []))
        found[name][0].append(trips)
        found[name][1].append(seconds)

    for _ in range(REPEAT):
        bare = libsql_client.create_client(url, auth_token=token)
        connect_trips, _, _ = await _count(proxy, lambda: bare.execute("SELECT 1"))  # noqa: B023
        await bare.close()
        opened: list[Any] = []
        trips, _, seconds = await _count(proxy, partial(_open_into, opened, url, token))
        note("start-up after the connection (open_remote)", trips - connect_trips + 1, seconds)
        note("connect + SELECT 1 (bare libsql-client)", connect_trips, 0.0)
        await opened[0].close()

    memory = await open_remote(url, auth_token=token)
    worker = PersistenceWorker(memory)
    await worker.start()
    try:

        async def home() -> None:  # what HomeScreen.load_first_page reads
            await asyncio.gather(
                memory.list_sessions(limit=50, pinned_first=True), memory.count_sessions()
            )

        async def page() -> None:
            await memory.list_sessions(limit=50, pinned_first=True)

        async def open_newest() -> None:  # what SessionScreen.load_newest reads
            await asyncio.gather(
                memory.get_session("long"), memory.recall("long", limit=OPEN_PAGE, newest=True)
            )

        async def save() -> None:
            loop = asyncio.get_running_loop()
            saved: asyncio.Future[Any] = loop.create_future()
            worker.submit("long", turn_drafts(1), on_saved=saved.set_result, turn=NewTurn())
            await saved

        async def search() -> None:
            await memory.search("kiwi", limit=20)

        actions = {
            "list page 1 (home: page + count)": home,
            "list page 1 (list_sessions only)": page,
            "open a session at its newest events": open_newest,
            "save point": save,
            "search": search,
        }
        for func in actions.values():
            await func()  # warm: the connection is open and statements are cached
        for _ in range(REPEAT):
            for name, func in actions.items():
                trips, _, seconds = await _count(proxy, func)
                note(name, trips, seconds)
    finally:
        await worker.stop(30)
        await memory.close()
    return found


def remote_trips(workdir: Path) -> list[Result]:
    """10: round trips and wall time per action through a 50 ms proxy."""
    from memory import open_embedded
    from tests.support.sqld import JwtKeys, SqldServer

    keys = JwtKeys.generate(workdir)
    local = workdir / "embedded.db"

    async def seed_local() -> None:
        await _seed_into(await open_embedded(local))

    asyncio.run(seed_local())
    with SqldServer(workdir / "sqld", keys) as server:
        token = server.token()
        asyncio.run(_seed(server.ws_url, token))
        with LatencyProxy(server.port, DELAY) as proxy:
            tui_remote = _tui_open(workdir, f"ws://127.0.0.1:{proxy.port}", token)
            tui_local = _tui_open(workdir, str(local), "")
            found = asyncio.run(_measure(proxy, token))
    connect = max(found.pop("connect + SELECT 1 (bare libsql-client)")[0])
    results = []
    for name, target in TARGETS.items():
        trips, seconds = found[name]
        worst = max(trips)
        results.append(
            Result(
                f"10 remote round trips: {name}",
                f"round trips (proxy +{DELAY * 1e3:.0f} ms each)",
                float(target),
                float(worst),
                f"<= {target}",
                worst <= target,
                unit="trips",
                note=f"min {min(trips)} / max {worst} over {len(trips)} runs; median wall "
                f"{statistics.median(seconds) * 1e3:.0f} ms"
                + (
                    f"; a bare libsql-client spends {connect} trip(s) connecting and running "
                    "SELECT 1, subtracted (the SELECT 1 counted back)"
                    if name.startswith("start-up")
                    else ""
                ),
            )
        )
    remote, embedded = statistics.median(tui_remote), statistics.median(tui_local)
    bound = embedded + 3 * DELAY
    results.append(
        Result(
            "10 remote: TUI open, Enter -> newest painted",
            f"embedded open + 3 x {DELAY * 1e3:.0f} ms / remote open",
            bound * 1e3,
            remote * 1e3,
            "<= 1x",
            remote <= bound,
            baseline_p99=p99(tui_local) * 1e3 + 3 * DELAY * 1e3,
            turnkeep_p99=p99(tui_remote) * 1e3,
            note=f"{TUI_EVENTS:,}-event session, headless 120x40 (bench.tui_child), "
            f"{len(tui_remote)} opens each; embedded open {embedded * 1e3:.0f} ms, remote "
            f"open through the proxy {remote * 1e3:.0f} ms",
        )
    )
    return results
