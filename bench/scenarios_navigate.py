"""Scenario 10: go to a turn of a 50,000-event session, against opening it at its end.

The session has two events a turn (a question and its answer), so 25,000 turns. The
baseline is scenario 5's figure on this same session in this same process: Enter on the
home screen until the newest event is painted. The measured figures are Enter in the
"go to turn" dialog until the turn's question is painted, for turn 1 and turn 25,000.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from bench.children import run_json
from bench.seed import migrated, seed_long_session
from bench.stats import Result, p99

EVENTS = 50_000
#: turn -> seq of its question (two events a turn).
TARGETS = {1: 1, 12_500: 24_999, 25_000: 49_999}


def go_to_turn(workdir: Path, *, repeat: int = 8, rounds: int = 2) -> list[Result]:
    """10: land on turn 1 / 12,500 / 25,000 vs open at the end; same session, same process."""
    path = migrated(workdir / "navigate.db")
    seed_long_session(path, "navigate", EVENTS, kinds=("user", "assistant"))
    samples: dict[str, list[float]] = {}
    for _ in range(rounds):
        out = run_json(
            [
                "bench.navigate_child",
                str(path),
                "navigate",
                str(EVENTS),
                str(repeat),
                *(f"{turn}:{seq}" for turn, seq in TARGETS.items()),
            ],
            workdir,
        )
        for name, values in out["samples"].items():
            samples.setdefault(name, []).extend(values)
    opening = samples["open"]
    base = statistics.median(opening)
    results = []
    for turn in TARGETS:
        values = samples[str(turn)]
        landed = statistics.median(values)
        results.append(
            Result(
                "10 go to turn",
                f"land on turn {turn:,} vs open at end ({EVENTS:,} events)",
                base * 1e3,
                landed * 1e3,
                "<= 2x",
                landed / base <= 2,
                baseline_p99=p99(opening) * 1e3,
                turnkeep_p99=p99(values) * 1e3,
                note=f"baseline column = Enter on the home screen until the newest event "
                f"is painted; turnkeep column = Enter in the go-to-turn dialog until the "
                f"turn's question is painted, each jump from the far end of the session "
                f"(never loaded); same {EVENTS:,}-event session (25,000 turns), "
                f"{len(values)} jumps each over {rounds} processes, headless 120x40",
            )
        )
    return results
