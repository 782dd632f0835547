"""Scenario 11: what a call to the database thread costs, idle and with the machine busy.

Every read and write of the embedded backend runs on its database thread
(:class:`memory.drivers.db_thread.DatabaseThread`): a call is a queue put that wakes
that thread, and a ``call_soon_threadsafe`` that wakes the event loop again. This times
3,000 calls that do nothing, once on an otherwise idle machine and once while a busy
loop keeps another core running. On a VM whose idle CPUs are slow to wake, the second
is much cheaper: every ratio whose baseline runs raw sqlite3 on the calling thread
(scenarios 1, 3, 4, 4o) then reads better under load than on a quiet machine.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

from bench.stats import Result, Series
from memory.drivers.db_thread import DatabaseThread

#: Calls timed per condition, after as many for warming up.
CALLS = 3_000


async def _hops() -> Series:
    thread = DatabaseThread("bench-hop")
    try:
        for _ in range(CALLS):
            await thread.submit(lambda: None)
        series = Series()
        for _ in range(CALLS):
            started = time.perf_counter()
            await thread.submit(lambda: None)
            series.samples.append(time.perf_counter() - started)
        return series
    finally:
        thread.stop()


def thread_hop(workdir: Path) -> list[Result]:
    """11: an empty call's round trip to the database thread, idle vs another core busy."""
    idle = asyncio.run(_hops())
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        busy = asyncio.run(_hops())
    finally:
        spinner.kill()
        spinner.wait()
    return [
        Result(
            "11 database thread round trip",
            "empty call (another core busy / idle)",
            busy.median * 1e6,
            idle.median * 1e6,
            "report",
            None,
            unit="us",
            baseline_p99=busy.p99 * 1e6,
            turnkeep_p99=idle.p99 * 1e6,
            note=f"{CALLS:,} calls each; baseline column = a busy loop on another core, "
            "turnkeep column = the machine otherwise idle",
        )
    ]
