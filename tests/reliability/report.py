"""What a scenario reports, how big a run is, and the summary table."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["Outcome", "Scale", "format_table"]


@dataclass(frozen=True)
class Scale:
    """How much load each scenario puts on turnkeep.

    ``full()`` is the campaign the issue asks for; ``quick()`` is the reduced form the
    test suite runs: smaller counts, but every kind of fault is still injected.
    """

    name: str
    kill_runs: int  # `turnkeep ask` runs killed with SIGKILL (at least 200 in full)
    writer_turns: int  # turns per writer process (4 processes)
    server_cycles: int  # each server fault (stop/restart, SIGSTOP, black hole) this often
    server_turns: int  # save points submitted per fault cycle
    startup_processes: int  # processes racing to migrate a fresh database
    startup_rounds: int  # fresh databases raced on
    startup_kills: int  # migrators killed at random moments on a fresh database
    disk_turns: int  # turns queued while the disk is full
    examples: int  # hypothesis examples per property
    corrupt_rounds: int  # times each corrupt/foreign file case is tried
    seed: int = 8

    @classmethod
    def full(cls, seed: int = 8) -> Scale:
        return cls(
            name="full",
            kill_runs=200,
            writer_turns=250,
            server_cycles=4,
            server_turns=40,
            startup_processes=6,
            startup_rounds=6,
            startup_kills=12,
            disk_turns=40,
            examples=1000,
            corrupt_rounds=3,
            seed=seed,
        )

    @classmethod
    def quick(cls, seed: int = 8) -> Scale:
        return cls(
            name="quick",
            kill_runs=16,
            writer_turns=25,
            server_cycles=1,
            server_turns=12,
            startup_processes=4,
            startup_rounds=1,
            startup_kills=3,
            disk_turns=10,
            examples=40,
            corrupt_rounds=1,
            seed=seed,
        )


@dataclass
class Outcome:
    """One scenario's result.

    Attributes:
        scenario: its name.
        load: what load was held (one line).
        faults: faults injected (kills, server stops, full disks, corrupt files, ...).
        bad_inputs: hostile inputs tried.
        lost: events that were reported saved and are missing, plus turns lost outright.
        corrupted: events changed, duplicated, reordered, or a failed integrity check.
        problems: every violated expectation, one line each (empty when all held).
        notes: things worth knowing that are not failures.
        seconds: how long it took.
    """

    scenario: str
    load: str = ""
    faults: int = 0
    bad_inputs: int = 0
    lost: int = 0
    corrupted: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and self.lost == 0 and self.corrupted == 0

    def problem(self, text: str) -> None:
        """Record a violated expectation (kept short: the first 40 are kept)."""
        if len(self.problems) < 40:
            self.problems.append(text)
        elif len(self.problems) == 40:
            self.problems.append("(more problems left out)")

    def expect(self, condition: bool, text: str) -> bool:
        """Record ``text`` as a problem unless ``condition`` holds; return the condition."""
        if not condition:
            self.problem(text)
        return condition

    @contextmanager
    def timed(self) -> Iterator[Outcome]:
        started = time.monotonic()
        try:
            yield self
        finally:
            self.seconds = time.monotonic() - started


def format_table(outcomes: list[Outcome]) -> str:
    """The summary table, then each scenario's problems and notes."""
    header = ("scenario", "load held", "faults", "bad inputs", "lost", "corrupted", "time", "ok")
    rows = [
        (
            o.scenario,
            o.load,
            str(o.faults),
            str(o.bad_inputs),
            str(o.lost),
            str(o.corrupted),
            f"{o.seconds:.0f}s",
            "yes" if o.ok else "NO",
        )
        for o in outcomes
    ]
    totals = (
        "total",
        "",
        str(sum(o.faults for o in outcomes)),
        str(sum(o.bad_inputs for o in outcomes)),
        str(sum(o.lost for o in outcomes)),
        str(sum(o.corrupted for o in outcomes)),
        f"{sum(o.seconds for o in outcomes):.0f}s",
        "yes" if all(o.ok for o in outcomes) else "NO",
    )
    widths = [max(len(r[i]) for r in [header, *rows, totals]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(
            cell.rjust(w) if 1 < i < 7 else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    out = [line(header), rule, *(line(r) for r in rows), rule, line(totals)]
    for o in outcomes:
        for text in o.problems:
            out.append(f"PROBLEM [{o.scenario}] {text}")
        for text in o.notes:
            out.append(f"note [{o.scenario}] {text}")
    return "\n".join(out)
