"""``turnkeep db index [--wait]`` and the semantic index's part of ``db status``.

``db index`` embeds the events not embedded yet, now, in this process (the same
indexer the app runs in the background; both may run at once). ``--wait`` keeps going
until the index is complete, including events saved meanwhile, then prints how many
events this run embedded.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from memory.vector_records import VectorProgress
from runtime.embeddings import open_embedder
from runtime.settings import Settings
from runtime.vector_index import describe_vector_progress
from tui.cli.output import opened
from tui.format import plural
from tui.safe_text import safe_line

__all__ = ["describe_status", "register"]


def register(sub: Any) -> None:
    """Add ``db index`` to the ``db`` subcommands."""
    index = sub.add_parser(
        "index",
        help="embed conversations for semantic search now",
        description=(
            "Embed every event not embedded yet (your messages, replies and summaries) "
            "with the configured embeddings (TURNKEEP_SEARCH__EMBEDDINGS_URL, or the local "
            "model when unset), in batches; safe to interrupt and run again. A different "
            "model or dimension than the index holds re-embeds everything. --wait returns "
            "when the index is complete and prints how many events were embedded."
        ),
        epilog="Examples:\n  turnkeep db index\n  turnkeep db index --wait",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    index.add_argument("--wait", action="store_true", help="return only when the index is complete")
    index.set_defaults(handler=index_command)


async def index_command(args: argparse.Namespace, settings: Settings) -> int:
    """``turnkeep db index [--wait]``."""
    embedder = open_embedder(settings.search)
    try:
        async with opened(settings) as sessions:
            if not sessions.has_vectors:
                print(
                    "turnkeep: memory is disabled (memory.enabled = false): nothing to index",
                    file=sys.stderr,
                )
                return 0
            if not settings.search.semantic:
                print(
                    "turnkeep: note: search.semantic is off, so searches use this index only "
                    "with --mode semantic|hybrid (set TURNKEEP_SEARCH__SEMANTIC=true)",
                    file=sys.stderr,
                )
            run = await sessions.index_vectors(embedder, until_complete=args.wait)
    finally:
        await embedder.close()
    if run.space_changed and run.progress.embedded:
        print(f"turnkeep: note: new embedding space {safe_line(run.progress.fingerprint or '')}")
    print(f"embedded {plural(run.embedded, 'event')}")
    print(f"semantic index: {safe_line(describe_vector_progress(run.progress))}")
    return 0


def describe_status(doc: dict[str, Any] | None) -> str:
    """One line for ``db status``'s plain form."""
    if doc is None:
        return describe_vector_progress(None)
    progress = VectorProgress(
        doc["fingerprint"],
        doc["model"],
        doc["dimension"],
        doc["embedded"],
        doc["pending"],
        0,
    )
    off = "" if doc["enabled"] else " (search.semantic is off)"
    return describe_vector_progress(progress) + off
