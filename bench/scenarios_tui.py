"""Scenarios 5 (opening a long session in the TUI) and 6 (UI responsiveness while saving).

Each case runs in its own process (:mod:`bench.tui_child`), so the long and the short
session never share a heap and peak RSS is the case's own.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from bench.children import run_json
from bench.seed import migrated, seed_long_session
from bench.stats import Result, p99
from bench.tui_child import TICK

LONG, SHORT = 50_000, 10


def open_long_session(workdir: Path, *, repeat: int = 10, rounds: int = 2) -> list[Result]:
    """5: Enter on the home screen until the newest events are painted; peak RSS."""
    dbs = {}
    for name, events in (("short", SHORT), ("long", LONG)):
        path = migrated(workdir / f"{name}.db")
        seed_long_session(path, name, events)
        dbs[name] = (path, events)
    samples: dict[str, list[float]] = {"short": [], "long": []}
    rss: dict[str, list[int]] = {"short": [], "long": []}
    seen = True
    for _ in range(rounds):  # alternate processes so drift hits both cases
        for name, (path, events) in dbs.items():
            out = run_json(
                ["bench.tui_child", "open", str(path), name, str(events), str(repeat)], workdir
            )
            samples[name].extend(out["samples"])
            rss[name].append(int(out["peak_rss_kib"]))
            seen = seen and bool(out["marker_seen"])
    short, long = statistics.median(samples["short"]), statistics.median(samples["long"])
    rss_short, rss_long = statistics.median(rss["short"]), statistics.median(rss["long"])
    return [
        Result(
            "5 open session in TUI",
            f"open -> newest painted ({LONG:,} vs {SHORT} events)",
            short * 1e3,
            long * 1e3,
            "<= 2x",
            long / short <= 2,
            baseline_p99=p99(samples["short"]) * 1e3,
            turnkeep_p99=p99(samples["long"]) * 1e3,
            note=f"baseline column = {SHORT}-event session, turnkeep column = {LONG:,}-event "
            f"session; {len(samples['long'])} opens each, headless 120x40, Enter on the home "
            f"screen until the newest event is painted (its text on screen: "
            f"{'yes' if seen else 'NO'})",
        ),
        Result(
            "5 peak RSS, session open",
            f"VmHWM ({LONG:,} vs {SHORT} events)",
            rss_short / 1024,
            rss_long / 1024,
            "<= 1.5x",
            rss_long / rss_short <= 1.5,
            unit="MiB",
            note=f"one process per case ({rounds} each), median of their peak RSS",
        ),
    ]


def stall_while_saving(workdir: Path, *, rounds: int = 7, points: int = 1_000) -> list[Result]:
    """6: largest event-loop stall of the app while 1,000 save points are stored vs idle."""
    path = migrated(workdir / "stall.db")
    seed_long_session(path, "stall", 200)
    out = run_json(
        ["bench.tui_child", "stall", str(path), "stall", str(rounds), str(points)], workdir
    )
    idle = statistics.median(out["idle"])
    saving = statistics.median(out["saving"])
    seconds = statistics.median(out["saving_seconds"])

    def worst(phase: str) -> str:
        late, cpu = out["worst"][phase]
        gcs = out["full_gcs"][phase]
        gc_note = f", {len(gcs)} full GC (longest {max(gcs) * 1e3:.1f} ms)" if gcs else ""
        tick = (late + TICK) * 1e3
        return (
            f"{phase} {late * 1e3:.1f} ms (the loop thread ran {cpu * 1e3:.1f} ms of that "
            f"{tick:.1f} ms tick{gc_note})"
        )

    return [
        Result(
            "6 UI stall while saving",
            f"largest loop stall ({points:,} save points)",
            idle * 1e3,
            saving * 1e3,
            "<= 2x",
            saving / idle <= 2,
            baseline_p99=p99(out["idle_all"]) * 1e3,
            turnkeep_p99=p99(out["saving_all"]) * 1e3,
            note="baseline column = the same app idle, in windows interleaved with the "
            f"saving ones; lateness of a {TICK * 1e3:g} ms ticker on the app's loop; median over "
            f"{rounds} rounds of each round's largest stall; p99 columns = p99 of every "
            f"tick; largest of all: {worst('idle')}, {worst('saving')}; {points:,} save "
            f"points took {seconds:.2f} s per round ({out['saved']:,} saved)",
        )
    ]
