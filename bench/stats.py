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
    series = Series()
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        series.samples.append(time.perf_counter() - started)
    return series


async def time_async(func: Callable[[], Awaitable[Any]], repeat: int) -> Series:
    series = Series()
    for _ in range(repeat):
        started = time.perf_counter()
        await func()
        series.samples.append(time.perf_counter() - started)
    return series


@dataclass
class Result:
    """One row of the report: turnkeep against its baseline, as a ratio."""

    scenario: str
    metric: str
    baseline: float
    turnkeep: float
    target: str
    met: bool
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
