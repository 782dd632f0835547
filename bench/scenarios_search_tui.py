"""The TUI's search screen on the search corpus: keystroke to results, and UI stalls.

Run by :func:`bench.scenarios_search.search` on its corpus (a million events); the
typing happens in its own process (:mod:`bench.search_tui_child`). Targets from issue
14: keystroke to results painted p95 <= 100 ms; the largest UI stall while typing
<= 2x the largest while idle.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from bench.children import run_json
from bench.search_tui_child import QUERIES
from bench.stats import Result

#: Milliseconds between keys (a quick typist, about 12 keys a second).
KEY_GAP_MS = 80


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def typing_figures(db: Path, workdir: Path, *, rounds: int = 3) -> list[Result]:
    """Type :data:`~bench.search_tui_child.QUERIES` into the search screen ``rounds`` times."""
    out = run_json(
        ["bench.search_tui_child", str(db), str(KEY_GAP_MS), str(rounds)], workdir, timeout=900
    )
    latencies = out["latencies"]
    typing, idle = out["typing"], out["idle"]
    keys = len(latencies)
    return [
        Result(
            "search in TUI",
            "keystroke -> results painted (median / p95)",
            statistics.median(latencies) * 1e3,
            _p95(latencies) * 1e3,
            "p95 <= 100 ms",
            _p95(latencies) <= 0.1,
            note=f"{keys} keys, {KEY_GAP_MS} ms apart, {len(QUERIES)} queries x {rounds} rounds; "
            "a key counts until the results of its text (or a later one) are painted",
        ),
        Result(
            "search in TUI",
            "largest UI stall (idle / typing)",
            statistics.median(idle) * 1e3,
            statistics.median(typing) * 1e3,
            "<= 2x",
            statistics.median(typing) <= 2 * statistics.median(idle),
            baseline_p99=max(idle) * 1e3,
            turnkeep_p99=max(typing) * 1e3,
            note="lateness of a 1 ms ticker on the app's loop; median over queries of each "
            "query's largest, typing vs an idle window of the same length right after; "
            "p99 columns = the largest of all",
        ),
    ]
