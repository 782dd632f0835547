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

from bench.latency_proxy import LatencyProxy
from bench.stats import Result
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


async def _seed(url: str, token: str) -> None:
    from memory import open_remote

    memory = await open_remote(url, auth_token=token)
    try:
        batch = [
            EventDraft("user" if i % 2 == 0 else "assistant", {"content": f"message {i} kiwi"})
            for i in range(2_000)
        ]
        await memory.store("long", batch)
        for i in range(60):
            await memory.store(f"s{i:03d}", [EventDraft("user", {"content": f"hello {i}"})])
    finally:
        await memory.close()


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
    from tests.support.sqld import JwtKeys, SqldServer

    keys = JwtKeys.generate(workdir)
    with SqldServer(workdir / "sqld", keys) as server:
        token = server.token()
        asyncio.run(_seed(server.ws_url, token))
        with LatencyProxy(server.port, DELAY) as proxy:
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
    return results
