"""``turnkeep search QUERY``: ranked full-text search over every saved conversation.

Plain output is two lines per hit: the session title, when, the kind and
``SESSION#SEQ``; then a one-line snippet with each match in «». ``--json`` prints one
JSON array of hits with the keys ``session_id``, ``seq``, ``kind``, ``title``,
``snippet`` (matches in «»), ``text`` (the snippet unmarked), ``marks`` (match offsets
in ``text``), ``at``, ``score`` and ``mode`` (the ranking that produced the list:
``text``, ``semantic`` or ``hybrid``). stderr says which ranking ran, and why a semantic
one could not (it then falls back to text). No match exits 0 with no hits (``[]``).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from memory.records import parse_ts
from memory.search_records import SearchHit
from runtime.semantic_search import MODES
from runtime.sessions_search import SEARCH_KINDS
from runtime.settings import Settings
from tui.cli.ids import resolve_ids
from tui.cli.output import opened, utf8_stdout
from tui.cli.spans import moment_arg
from tui.format import relative_time
from tui.safe_text import safe_line, terminal_json

__all__ = ["register"]

SNIPPET_WIDTH = 160


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError("must be between 1 and 1000")
    return value


def register(commands: Any) -> None:
    """Add the ``search`` command to the top-level subparsers."""
    parser = commands.add_parser(
        "search",
        help="full-text search across all sessions",
        description=(
            "Search every saved conversation: messages, replies, tool calls and results, "
            "and session titles, best matches first (your own words rank above replies "
            "and tool output; newer first among equals). Words must all occur, "
            '"quoted phrases" as written, -word must not; every word matches inside '
            "longer words and identifiers, without regard to case or accents."
        ),
        epilog=(
            "Examples:\n"
            "  turnkeep search 'flaky upload test'\n"
            "  turnkeep search AuthMiddleware --kind tool --since 7d\n"
            "  turnkeep search '\"connection reset\" -retry' --json | jq '.[0]'"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("query", metavar="QUERY", help="what to look for")
    parser.add_argument("--json", action="store_true", help="print a JSON array of hits")
    parser.add_argument("--limit", type=_limit, default=20, help="at most N hits (20)")
    parser.add_argument("--session", metavar="ID", help="only this session")
    parser.add_argument(
        "--kind",
        choices=SEARCH_KINDS,
        action="append",
        help="only your messages (user), replies (assistant) or tool traffic (tool); repeatable",
    )
    parser.add_argument(
        "--since",
        type=moment_arg,
        metavar="WHEN",
        help="only events since a duration ago (7d, 12h) or a date (2026-11-01)",
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        default=None,
        help=(
            "text: by words; semantic: by meaning (search.semantic); hybrid: both, fused. "
            "Default: hybrid when semantic search is on and its index is ready, else text"
        ),
    )
    parser.set_defaults(handler=_search)


def _plain(hit: SearchHit, now: datetime) -> str:
    title = safe_line(hit.title, 80) if hit.title else "(untitled)"
    when = relative_time(parse_ts(hit.at), now)
    where = safe_line(hit.session_id) + (f"#{hit.seq}" if hit.seq else "")
    snippet = safe_line(hit.marked(), SNIPPET_WIDTH)
    return f"{title}  ·  {when}  ·  {hit.kind}  ·  {where}\n  {snippet}"


async def _search(args: argparse.Namespace, settings: Settings) -> int:
    async with opened(settings) as sessions:
        await resolve_ids(sessions, args, "session")
        outcome = await sessions.searcher(settings.search).search(
            args.query,
            mode=args.mode,
            limit=args.limit,
            session_id=args.session,
            kinds=tuple(sorted(set(args.kind or ()))),
            since=args.since,
        )
        hits = outcome.hits
        progress = await sessions.search_progress()
    # Which ranking ran, on stderr (stdout stays the hits), whenever there was a choice:
    # semantic search is on or a mode was asked for (--json hits always carry "mode").
    if settings.search.semantic or args.mode is not None:
        print(f"turnkeep: {outcome.mode} search", file=sys.stderr)
    if outcome.note:
        print(f"turnkeep: note: {safe_line(outcome.note, 400)}", file=sys.stderr)
    if not progress.complete:
        print(
            f"turnkeep: note: {progress.pending_events:,} older events are not indexed yet, "
            "so they are not searched (open turnkeep to finish indexing)",
            file=sys.stderr,
        )
    out = utf8_stdout()
    if args.json:
        out.write(terminal_json(outcome.hit_dicts(), indent=2) + "\n")
        return 0
    now = datetime.now(UTC)
    for hit in hits:
        out.write(_plain(hit, now) + "\n")
    return 0
