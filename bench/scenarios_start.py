"""Scenario 7: cold start of ``turnkeep db status``, ``sessions list`` and the TUI vs
``import textual``.

Every figure is the wall time of a whole fresh process, interpreter start-up included,
on the same seeded database (1,000 sessions). The commands take turns so drift on a
shared machine hits each of them alike. Two reference rows show the floor no change to
turnkeep can go under: importing the fixed dependencies the TUI needs (pydantic-settings
and ``textual.app``), and a bare Textual app painting a 50-row table
(``bench.cold_floor``).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from bench.children import wall_time
from bench.seed import migrated, seed_sessions
from bench.stats import Result, p99


def cold_start(workdir: Path, *, repeat: int = 12) -> list[Result]:
    """7: process wall time, median of ``repeat`` runs each (after one warm-up run)."""
    path = migrated(workdir / "start.db")
    seed_sessions(path, 1_000)
    python = sys.executable
    turnkeep = str(Path(python).parent / "turnkeep")
    commands = {
        "textual": [python, "-c", "import textual"],
        "db status": [turnkeep, "db", "status"],
        "sessions list": [turnkeep, "sessions", "list"],
        "tui": [python, "-m", "bench.cold_tui"],
        "fixed imports": [python, "-c", "import pydantic_settings, textual.app"],
        "bare textual app": [python, "-m", "bench.cold_floor"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for attempt in range(repeat + 1):
        for name, command in commands.items():
            elapsed = wall_time(command, workdir, TURNKEEP_DB__PATH=str(path))
            if attempt:
                times[name].append(elapsed)
    base = statistics.median(times["textual"])
    results = []
    for name, metric, bound in (
        ("db status", "`turnkeep db status`", 2.0),
        ("sessions list", "`turnkeep sessions list`", 2.0),
        ("tui", "TUI to first screen (home, 1k sessions)", 2.5),
    ):
        median = statistics.median(times[name])
        results.append(
            Result(
                f"7 cold start: {name}",
                metric,
                base * 1e3,
                median * 1e3,
                f"<= {bound:g}x (issue 19)",
                median <= bound * base,
                baseline_p99=p99(times["textual"]) * 1e3,
                turnkeep_p99=p99(times[name]) * 1e3,
                note='baseline = `python -c "import textual"`; whole-process wall time, '
                f"{repeat} runs each",
            )
        )
    for name, metric in (
        ("fixed imports", "`import pydantic_settings, textual.app` (floor)"),
        ("bare textual app", "bare Textual app, 50-row table painted (floor)"),
    ):
        results.append(
            Result(
                f"7 cold start: {name}",
                metric,
                base * 1e3,
                statistics.median(times[name]) * 1e3,
                "report",
                None,
                baseline_p99=p99(times["textual"]) * 1e3,
                turnkeep_p99=p99(times[name]) * 1e3,
            )
        )
    return results
