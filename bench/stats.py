"""Timing helpers: repeated measurements, medians, p99, ratios."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


def p99(samples: list[float]) -> float:
    """The 99th percentile (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]


@dataclass
class Series:
    """Samples of one measured thing, in seconds."""

    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        return p99(self.samples)


def time_sync(func: Callable[[], Any], repeat: int) -> Series:
    """Time ``func()`` ``repeat`` times."""
    series = Series()
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        series.samples.append(time.perf_counter() - started)
    return series


async def time_async(func: Callable[[], Awaitable[Any]], repeat: int) -> Series:
    """Time ``await func()`` ``repeat`` times."""
    series = Series()
    for _ in range(repeat):
        started = time.perf_counter()
        await func()
        series.samples.append(time.perf_counter() - started)
    return series


async def time_pairs(
    pairs: list[tuple[Callable[[], Any], Callable[[], Awaitable[Any]]]],
    repeat: int,
    *,
    block: int = 10,
) -> list[tuple[Series, Series]]:
    """Time each ``(baseline, turnkeep)`` pair ``repeat`` times, taking turns in blocks.

    ``block`` baseline calls, then ``block`` turnkeep calls, then the next pair's, and
    round again: a burst of load from another process on a shared machine hits every
    series alike instead of whichever happened to be running, while each side still
    runs a few calls back to back, as a reader paging through a list does.

    Returns:
        ``(baseline, turnkeep)`` series for each pair, in order.
    """
    out = [(Series(), Series()) for _ in pairs]
    for _ in range(0, repeat, block):
        for (baseline, turnkeep), (base, tk) in zip(pairs, out, strict=True):
            for _ in range(block):
                started = time.perf_counter()
                baseline()
                base.samples.append(time.perf_counter() - started)
            for _ in range(block):
                started = time.perf_counter()
                await turnkeep()
                tk.samples.append(time.perf_counter() - started)
    return out


@dataclass
class Result:
    """One row of the report: turnkeep against its baseline, as a ratio."""

    scenario: str
    metric: str
    baseline: float
    turnkeep: float
    target: str
    #: ``None`` for a figure that is reported without a target.
    met: bool | None
    unit: str = "ms"
    baseline_p99: float | None = None
    turnkeep_p99: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.turnkeep / self.baseline if self.baseline else float("inf")

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "metric": self.metric,
            "unit": self.unit,
            "baseline_median": self.baseline,
            "baseline_p99": self.baseline_p99,
            "turnkeep_median": self.turnkeep,
            "turnkeep_p99": self.turnkeep_p99,
            "ratio": round(self.ratio, 3),
            "target": self.target,
            "met": self.met,
            "note": self.note,
        }
