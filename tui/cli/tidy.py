"""``turnkeep db tidy``: merge the search index's pieces now.

Every save adds a small piece (an FTS5 segment) to the search index and a search reads
them all. The app merges them in idle time on a local file; this command does the same
now, in short transactions (safe to interrupt, safe beside a running app), for a file
written by scripts or imports while the app was closed, or for a server's database.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from runtime.settings import Settings
from tui.cli.output import opened

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add ``db tidy`` to the ``db`` subcommands."""
    tidy = sub.add_parser(
        "tidy",
        help="merge the search index's pieces now (the app does it in idle time)",
        description=(
            "Merge the pieces the search index is written in (one per save), so searches "
            "over a long history stay fast. The app does this in idle time on a local "
            "file; run it after large imports or scripted writes, or for a server's "
            "database. Short transactions: safe to interrupt and beside a running app. "
            "Search results do not change, only their speed."
        ),
        epilog="Examples:\n  turnkeep db tidy\n  turnkeep db tidy --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tidy.add_argument("--json", action="store_true", help="print one JSON object")
    tidy.set_defaults(handler=tidy_command)


async def tidy_command(args: argparse.Namespace, settings: Settings) -> int:
    """``turnkeep db tidy [--json]``: merge until nothing is left, say how long it took."""
    started = time.perf_counter()
    async with opened(settings) as sessions:
        steps = await sessions.tidy_index(pause=0.0)
    seconds = time.perf_counter() - started
    if args.json:
        print(json.dumps({"merged_steps": steps, "seconds": round(seconds, 3)}))
    elif steps:
        print(f"search index: merged in {steps:,} transactions ({seconds:.1f} s)")
    else:
        print("search index: nothing to merge")
    return 0
