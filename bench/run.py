"""Run every benchmark scenario, print a table, write the figures to JSON.

Usage: python -m bench.run [--only NAME ...] [--out FILE]

Every figure is a ratio against a baseline measured in the same run on the same
machine. Nothing here asserts: targets are reported as met or missed.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import scenarios_memory
from bench.stats import Result

SCENARIOS: dict[str, Callable[[Path], list[Result]]] = {
    "restore": scenarios_memory.restore,
    "list": scenarios_memory.session_list,
}


def machine() -> dict[str, str | int | None]:
    import os

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }


def render(results: list[Result]) -> str:
    header = ("scenario", "metric", "baseline", "turnkeep", "ratio", "target", "met")
    rows = [header] + [
        (
            r.scenario,
            r.metric,
            f"{r.baseline:,.3f} {r.unit}" if r.unit != "rows/s" else f"{r.baseline:,.0f}/s",
            f"{r.turnkeep:,.3f} {r.unit}" if r.unit != "rows/s" else f"{r.turnkeep:,.0f}/s",
            f"{r.ratio:.2f}x",
            r.target,
            "yes" if r.met else "NO",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  {r.scenario}: {r.note}" for r in results if r.note]
    return "\n".join(lines + (["", "notes:", *notes] if notes else []))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", choices=sorted(SCENARIOS), help="scenarios to run")
    parser.add_argument("--out", type=Path, default=Path("bench/results/latest.json"))
    args = parser.parse_args(argv)
    chosen = args.only or list(SCENARIOS)
    results: list[Result] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="turnkeep-bench-") as tmp:
        for name in chosen:
            print(f"running {name} ...", file=sys.stderr, flush=True)
            workdir = Path(tmp) / name
            workdir.mkdir()
            results.extend(SCENARIOS[name](workdir))
    print(render(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": machine(),
                "seconds": round(time.perf_counter() - started, 1),
                "results": [r.as_dict() for r in results],
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
