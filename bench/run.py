"""Run every benchmark scenario, print a table, write the figures to JSON and Markdown.

Usage: python -m bench.run [--only NAME ...] [--out FILE]

Every figure is a ratio against a baseline measured in the same run on the same
machine. Nothing here asserts: targets are reported as met or missed. Each scenario
builds its own data in a temporary directory.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    import_bench,
    save_breakdown,
    scenarios_hop,
    scenarios_memory,
    scenarios_navigate,
    scenarios_organize,
    scenarios_pty,
    scenarios_remote_trips,
    scenarios_save,
    scenarios_scale,
    scenarios_search,
    scenarios_semantic,
    scenarios_start,
    scenarios_tui,
)
from bench.stats import Result

SCENARIOS: dict[str, Callable[[Path], list[Result]]] = {
    "save-embedded": scenarios_save.save_embedded,
    "save-breakdown": save_breakdown.save_breakdown,
    "save-remote": scenarios_save.save_remote,
    "restore": scenarios_memory.restore,
    "list": scenarios_memory.session_list,
    "list-organize": scenarios_organize.session_list_organized,
    "tui-open": scenarios_tui.open_long_session,
    "ui-stall": scenarios_tui.stall_while_saving,
    "cold-start": scenarios_start.cold_start,
    "search": scenarios_search.search,
    "semantic-topk-embedded": scenarios_semantic.topk_embedded,
    "semantic-topk-sqld": scenarios_semantic.topk_sqld,
    "semantic-indexer": scenarios_semantic.indexer,
    "go-to-turn": scenarios_navigate.go_to_turn,
    "scale": scenarios_scale.scale,
    "tui-open-pty": scenarios_pty.open_in_terminal,
    "remote-trips": scenarios_remote_trips.remote_trips,
    "thread-hop": scenarios_hop.thread_hop,
    "import": import_bench.scenario,
}


def machine() -> dict[str, str | int | None]:
    """What the figures were measured on."""
    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f"{pages / 2**30:.0f} GiB"
    except (ValueError, OSError):
        pass
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": model or platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "memory": memory,
    }


def _load() -> float | None:
    """The 1-minute load average (other work on a shared machine skews every figure)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _value(value: float, unit: str) -> str:
    if unit == "rows/s":
        return f"{value:,.0f} rows/s"
    if unit in ("trips", "opens"):
        return f"{value:g}"
    if unit == "MiB":
        return f"{value:,.1f} MiB"
    return f"{value:,.3f} {unit}" if value < 10 else f"{value:,.1f} {unit}"


def _p99(value: float | None, unit: str) -> str:
    return "" if value is None else _value(value, unit)


def _met(result: Result) -> str:
    return "-" if result.met is None else ("yes" if result.met else "NO")


def rows(results: list[Result]) -> list[Sequence[str]]:
    """The table's cells, header first."""
    header: Sequence[str] = (
        "scenario",
        "metric",
        "baseline",
        "turnkeep",
        "ratio",
        "target",
        "met",
        "p99 base",
        "p99 turnkeep",
    )
    return [header] + [
        (
            r.scenario,
            r.metric,
            _value(r.baseline, r.unit),
            _value(r.turnkeep, r.unit),
            f"{r.ratio:.2f}x",
            r.target,
            _met(r),
            _p99(r.baseline_p99, r.unit),
            _p99(r.turnkeep_p99, r.unit),
        )
        for r in results
    ]


def render(results: list[Result]) -> str:
    """A plain-text table for the terminal, then the notes."""
    table = rows(results)
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  {r.scenario}: {r.note}" for r in results if r.note]
    return "\n".join(lines + (["", "notes:", *notes] if notes else []))


def render_markdown(results: list[Result], about: dict[str, object]) -> str:
    """The README-ready table with the machine and date it came from."""
    table = rows(results)
    lines = [
        "| " + " | ".join(table[0]) + " |",
        "|" + "|".join("---" for _ in table[0]) + "|",
        *("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in table[1:]),
    ]
    info = about["machine"]
    assert isinstance(info, dict)
    load = about["load_average"]
    assert isinstance(load, list)
    head = (
        f"Measured {about['when']} on {info['processor']}, {info['cpus']} CPUs, "
        f"{info['memory']}, {info['platform']}, Python {info['python']}; "
        f"the whole run took {about['seconds']} s (1-minute load average {load[0]} at "
        f"the start, {load[1]} at the end)."
    )
    notes = [f"- **{r.scenario}**: {r.note}" for r in results if r.note]
    return "\n".join([head, "", *lines, "", *notes]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", choices=sorted(SCENARIOS), help="scenarios to run")
    parser.add_argument("--out", type=Path, default=Path("bench/results/latest.json"))
    args = parser.parse_args(argv)
    chosen = args.only or list(SCENARIOS)
    results: list[Result] = []
    started = time.perf_counter()
    load_before = _load()
    with tempfile.TemporaryDirectory(prefix="turnkeep-bench-") as tmp:
        for name in chosen:
            print(f"running {name} ...", file=sys.stderr, flush=True)
            began = time.perf_counter()
            workdir = Path(tmp) / name
            workdir.mkdir()
            # Each scenario starts from a collected heap with what survives frozen, as the
            # app freezes its start-up heap (tui.collector): otherwise whatever earlier
            # scenarios left alive is walked by every full collection of a later one, and
            # a scenario's figures depend on what ran before it in the same process.
            gc.collect()
            gc.freeze()
            try:
                results.extend(SCENARIOS[name](workdir))
            finally:
                gc.unfreeze()
            print(f"  {name}: {time.perf_counter() - began:.1f} s", file=sys.stderr, flush=True)
    about: dict[str, object] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "seconds": round(time.perf_counter() - started, 1),
        "load_average": [load_before, _load()],
        "scenarios": chosen,
    }
    print(render(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({**about, "results": [r.as_dict() for r in results]}, indent=2) + "\n"
    )
    markdown = args.out.with_suffix(".md")
    markdown.write_text(render_markdown(results, about))
    print(f"\nwrote {args.out} and {markdown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
