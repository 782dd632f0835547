"""Run the reliability campaign and print its summary table.

Usage::

    python -m tests.reliability.campaign [--quick] [--only NAME[,NAME...]] [--seed N]
                                         [--keep] [--json FILE]

``--quick`` is the reduced form the test suite runs (every kind of fault, smaller
counts); without it, the full campaign of issue 8 (200 kills, 4 x 250 turns, ...).
Everything happens in a new temporary directory (removed afterwards unless ``--keep``)
and on loopback; the environment is scrubbed of turnkeep/Turso/OpenAI settings first,
so the user's own configuration and data are never touched. Exits 0 when every
scenario held (nothing lost or corrupted, no problem), else 1.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

from tests.reliability.report import Outcome, Scale, format_table

__all__ = ["SCENARIOS", "main", "run_scenario"]

#: name -> (module, title); each module has ``run(scale, workdir) -> Outcome``.
SCENARIOS: dict[str, str] = {
    "kill9": "1 kill -9",
    "writers": "2 concurrent writers",
    "server_faults": "3 server faults",
    "startup": "4 start-up races",
    "corrupt": "5 corrupt/foreign files",
    "diskfull": "6 full disk",
    "hostile": "7 hostile input",
    "secrets": "8 secrets",
    "injection": "9 escape injection",
    "replaced": "10 replaced/deleted file",
    "shared_session": "11 two writers, one session",
}
_SCRUB = ("TURNKEEP_", "TURSO_", "OPENAI_", "LIBSQL_", "SQLD_")


def run_scenario(name: str, scale: Scale, workdir: Path) -> Outcome:
    """Run one scenario; a crash of the scenario itself is reported, not raised."""
    module = importlib.import_module(f"tests.reliability.{name}")
    run: Callable[[Scale, Path], Outcome] = module.run
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        return run(scale, workdir)
    except Exception as exc:
        outcome = Outcome(SCENARIOS[name], seconds=time.monotonic() - started)
        outcome.problem(f"the scenario crashed: {type(exc).__name__}: {exc}")
        outcome.notes.append("".join(traceback.format_exception(exc))[-2000:])
        return outcome


def _isolate(root: Path) -> None:
    """Nothing of the user's: no turnkeep variables, XDG dirs and cwd inside ``root``."""
    for name in list(os.environ):
        if name.startswith(_SCRUB):
            del os.environ[name]
    for var, sub in (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config")):
        (root / "home" / sub).mkdir(parents=True, exist_ok=True)
        os.environ[var] = str(root / "home" / sub)
    (root / "cwd").mkdir(exist_ok=True)
    os.chdir(root / "cwd")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.campaign")
    parser.add_argument("--quick", action="store_true", help="the reduced form (CI)")
    parser.add_argument("--only", help=f"comma-separated scenarios: {', '.join(SCENARIOS)}")
    parser.add_argument("--seed", type=int, default=8, help="random seed (default 8)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", type=Path, help="also write the outcomes to this file")
    args = parser.parse_args(argv)
    names = list(SCENARIOS) if not args.only else [n.strip() for n in args.only.split(",")]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    scale = Scale.quick(args.seed) if args.quick else Scale.full(args.seed)
    root = Path(tempfile.mkdtemp(prefix="turnkeep-reliability-")).resolve()
    home = Path.cwd()
    _isolate(root)
    print(f"reliability campaign ({scale.name}, seed {scale.seed}) in {root}", flush=True)
    outcomes: list[Outcome] = []
    try:
        for name in names:
            print(f"-- {SCENARIOS[name]} ...", flush=True)
            outcome = run_scenario(name, scale, root / name)
            outcomes.append(outcome)
            verdict = "held" if outcome.ok else f"FAILED ({len(outcome.problems)} problems)"
            print(f"   {verdict} in {outcome.seconds:.0f}s", flush=True)
    finally:
        os.chdir(home)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print(format_table(outcomes))
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=2))
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
