"""``turnkeep sessions``: list, show, rename, rm (export and import are in :mod:`tui.cli.transfer`).

Every command honours the same settings as the TUI (embedded file, remote server, or
memory disabled), prints errors as one line on stderr, and exits 0 on success, 1 when a
session does not exist, 2 on a usage error, 3 when the database cannot be reached.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from memory.records import SessionInfo, parse_ts
from runtime.settings import Settings
from tui.cli import organize, transfer
from tui.cli.ids import resolve_ids
from tui.cli.output import UsageError, opened, utf8_stdout
from tui.cli.render import transcript_event, transcript_header
from tui.format import plural, relative_time
from tui.safe_text import safe_line, terminal_json

__all__ = ["register", "session_json"]

#: Sessions shown by ``sessions list`` without ``--limit``/``--all``.
DEFAULT_LIMIT = 20
#: Rows fetched per keyset page.
PAGE = 200
#: Events fetched per page by ``sessions show``.
EVENT_PAGE = 500
#: ``sessions list`` cuts ids, models and titles to these widths (ending in ``…``).
ID_WIDTH = 40
MODEL_WIDTH = 32
TITLE_WIDTH = 80
#: The longest title ``sessions rename`` accepts.
MAX_TITLE = organize.MAX_TITLE

_RAW = argparse.RawDescriptionHelpFormatter


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def register(commands: Any) -> None:
    """Add the ``sessions`` command group to the top-level subparsers."""
    group = commands.add_parser(
        "sessions",
        help="list, show, rename, delete, export and import sessions",
        description=(
            "Work with saved sessions from the command line: on the embedded file or the "
            "remote database, with the same settings as the TUI."
        ),
        epilog=(
            "Examples:\n"
            "  turnkeep sessions list\n"
            "  turnkeep sessions show ID\n"
            "  turnkeep sessions export --all -o sessions.json\n"
            "  turnkeep sessions import sessions.json"
        ),
        formatter_class=_RAW,
    )
    sub = group.add_subparsers(dest="sessions_command", metavar="COMMAND", required=True)

    ls = sub.add_parser(
        "list",
        help="recent sessions, newest activity first",
        description=(
            "List sessions, newest activity first: id, last activity, turns, events, "
            f"provider/model and title. Shows {DEFAULT_LIMIT} unless --limit or --all is "
            "given; reads page by page, so it stays fast on large databases. Long ids, "
            f"models and titles are cut to {ID_WIDTH}, {MODEL_WIDTH} and {TITLE_WIDTH} "
            "characters (ending in …) and control characters are shown as visible "
            "symbols; --json prints them whole. With --json, "
            "prints one JSON array of objects with the keys id, title, created_at, "
            "updated_at, turns, events, provider, model, agent, pinned, archived, tags, "
            "forked_from, forked_at_seq, prompt_tokens, completion_tokens, total_tokens "
            "and tokens_estimated."
        ),
        epilog=(
            "Examples:\n"
            "  turnkeep sessions list\n"
            "  turnkeep sessions list --filter parser --limit 5\n"
            "  turnkeep sessions list --all --json | jq -r '.[].id'"
        ),
        formatter_class=_RAW,
    )
    ls.add_argument("--json", action="store_true", help="print a JSON array")
    amount = ls.add_mutually_exclusive_group()
    amount.add_argument(
        "--limit",
        type=_positive,
        default=None,
        metavar="N",
        help=f"show at most N sessions (default {DEFAULT_LIMIT})",
    )
    amount.add_argument("--all", action="store_true", help="show every session")
    ls.add_argument(
        "--filter",
        metavar="TEXT",
        help="only sessions whose title contains TEXT (case-insensitive)",
    )
    ls.add_argument(
        "--archived", action="store_true", help="list only archived sessions (by activity)"
    )
    ls.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="TAG",
        help="only sessions tagged TAG (repeat: all must match)",
    )
    ls.set_defaults(handler=list_command)

    show = sub.add_parser(
        "show",
        help="print a session's events in order",
        description=(
            "Print a session's events in seq order: a readable transcript, or with --json "
            "one JSON object per line with the keys seq, turn, kind, created_at, payload "
            "(and session_id)."
        ),
        epilog=(
            "Examples:\n"
            "  turnkeep sessions show ID\n"
            "  turnkeep sessions show ID --json | jq -c 'select(.kind == \"tool_call\")'"
        ),
        formatter_class=_RAW,
    )
    show.add_argument("id", metavar="ID", help="the session id")
    show.add_argument("--json", action="store_true", help="print JSON lines, one event each")
    show.set_defaults(handler=show_command)

    rename = sub.add_parser(
        "rename",
        help="set a session's title",
        description=f"Set the title of session ID to TITLE (at most {MAX_TITLE} characters).",
        epilog='Example:\n  turnkeep sessions rename ID "Refactor the parser"',
        formatter_class=_RAW,
    )
    rename.add_argument("id", metavar="ID", help="the session id")
    rename.add_argument("title", metavar="TITLE", help="the new title")
    rename.set_defaults(handler=rename_command)

    rm = sub.add_parser(
        "rm",
        help="delete a session with its events and state",
        description=(
            "Delete session ID with all its events and state snapshots. On a terminal it "
            "asks for confirmation unless --yes is given; when standard input is not a "
            "terminal (a script), it refuses to delete without --yes. This cannot be "
            "undone: export the session first to keep a copy."
        ),
        epilog=(
            "Examples:\n"
            "  turnkeep sessions rm ID\n"
            "  turnkeep sessions export ID -o keep.json && turnkeep sessions rm ID --yes"
        ),
        formatter_class=_RAW,
    )
    rm.add_argument("id", metavar="ID", help="the session id")
    rm.add_argument("-y", "--yes", action="store_true", help="delete without asking")
    rm.set_defaults(handler=rm_command)

    transfer.register(sub)
    organize.register(sub)


def session_json(info: SessionInfo) -> dict[str, Any]:
    """The stable JSON form of a session in ``sessions list --json``."""
    return {
        "id": info.id,
        "title": info.title,
        "created_at": info.created_at,
        "updated_at": info.updated_at,
        "turns": info.turns,
        "events": info.events,
        "provider": info.provider,
        "model": info.model,
        "agent": info.agent,
        "pinned": info.pinned,
        "archived": info.archived,
        "tags": list(info.tags),
        "forked_from": info.forked_from,
        "forked_at_seq": info.forked_at_seq,
        "prompt_tokens": info.prompt_tokens,
        "completion_tokens": info.completion_tokens,
        "total_tokens": info.prompt_tokens + info.completion_tokens,
        "tokens_estimated": info.tokens_estimated,
    }


def _rows(sessions: tuple[SessionInfo, ...]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for info in sessions:
        model = "/".join(p for p in (info.provider, info.model) if p) or "-"
        rows.append(
            (
                safe_line(info.id, ID_WIDTH),
                relative_time(parse_ts(info.updated_at)),
                str(info.turns),
                str(info.events),
                safe_line(model, MODEL_WIDTH),
                safe_line(_title_cell(info), TITLE_WIDTH),
            )
        )
    return rows


def _title_cell(info: SessionInfo) -> str:
    """The title with the organizing marks: pin, archive, tags and lineage."""
    title = safe_line(info.title) if info.title else "(untitled)"
    marks = ("[pinned] " if info.pinned else "") + ("[archived] " if info.archived else "")
    tags = " ".join(f"#{safe_line(t)}" for t in info.tags)
    lineage = (
        f" (fork of {safe_line(info.forked_from)} @{info.forked_at_seq})"
        if info.forked_from
        else ""
    )
    return f"{marks}{title}{lineage}" + (f"  {tags}" if tags else "")


_HEADINGS = ("ID", "LAST ACTIVITY", "TURNS", "EVENTS", "MODEL", "TITLE")


async def list_command(args: argparse.Namespace, settings: Settings) -> int:
    """``turnkeep sessions list [--json] [--limit N] [--filter TEXT] [--all]``."""
    out = utf8_stdout()
    limit: int | None = None if args.all else (args.limit or DEFAULT_LIMIT)
    shown = 0
    more = False
    widths: list[int] | None = None
    tags = organize.valid_tags(args.tag)
    filters: dict[str, Any] = {"archived": args.archived, "tags": tags, "pinned_first": True}
    async with opened(settings) as sessions:
        cursor: tuple[str, str] | None = None
        while True:
            want = PAGE if limit is None else min(PAGE, limit - shown)
            page = await sessions.page(
                limit=want, after=cursor, title_filter=args.filter, **filters
            )
            if args.json:
                for info in page.sessions:
                    prefix = "[\n  " if shown == 0 else ",\n  "
                    out.write(prefix + terminal_json(session_json(info)))
                    shown += 1
            else:
                rows = _rows(page.sessions)
                if rows and widths is None:
                    widths = [
                        max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(_HEADINGS)
                    ]
                    out.write(_table_line(_HEADINGS, widths) + "\n")
                for row in rows:
                    out.write(_table_line(row, widths or []) + "\n")
                shown += len(rows)
            cursor = page.cursor
            if cursor is None:
                break
            if limit is not None and shown >= limit:
                peek = await sessions.page(
                    limit=1, after=cursor, title_filter=args.filter, **filters
                )
                more = bool(peek.sessions)
                break
    if args.json:
        out.write("\n]\n" if shown else "[]\n")
    elif shown == 0:
        if args.filter or tags or args.archived:
            what = "archived sessions" if args.archived else "sessions"
            conditions = [f"{safe_line(args.filter)!r} in the title"] if args.filter else []
            conditions += [f"tag {safe_line(t)!r}" for t in tags]
            suffix = f" with {' and '.join(conditions)}" if conditions else ""
            out.write(f"no {what}{suffix}\n")
        else:
            out.write("no sessions yet: start one with `turnkeep` or `turnkeep ask MESSAGE`\n")
    elif more:
        print(f"(showing {shown}; more with --limit N or --all)", file=sys.stderr)
    return 0


def _table_line(cells: tuple[str, ...], widths: list[int]) -> str:
    right = {2, 3}
    parts = [
        cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) if i < 5 else cell
        for i, cell in enumerate(cells)
    ]
    return "  ".join(parts).rstrip()


async def show_command(args: argparse.Namespace, settings: Settings) -> int:
    """``turnkeep sessions show ID [--json]``."""
    out = utf8_stdout()
    async with opened(settings) as sessions:
        await resolve_ids(sessions, args, "id")
        info = await sessions.get(args.id)
        if not args.json:
            out.write(transcript_header(info) + "\n")
            if info.forked_from:
                out.write(
                    f"forked from {safe_line(info.forked_from)} at seq {info.forked_at_seq}\n"
                )
        after = 0
        turn: int | None = None
        while True:
            events = await sessions.events(args.id, after=after, limit=EVENT_PAGE)
            for event in events:
                if args.json:
                    line = {
                        "session_id": event.session_id,
                        "seq": event.seq,
                        "turn": event.turn,
                        "kind": event.kind,
                        "created_at": event.created_at,
                        "payload": event.payload,
                    }
                    out.write(terminal_json(line) + "\n")
                    continue
                if event.turn != turn:
                    turn = event.turn
                    out.write(f"\n── turn {turn} " + "─" * 40 + "\n")
                out.write(
                    transcript_event(event.seq, event.kind, event.payload, event.created_at) + "\n"
                )
            if len(events) < EVENT_PAGE:
                break
            after = events[-1].seq
    if not args.json and info.events == 0:
        out.write("\n(no events yet)\n")
    return 0


async def rename_command(args: argparse.Namespace, settings: Settings) -> int:
    """``turnkeep sessions rename ID TITLE``."""
    title = organize.checked_title(args.title.strip())
    async with opened(settings) as sessions:
        await resolve_ids(sessions, args, "id")
        info = await sessions.rename(args.id, title)
    print(f"renamed {safe_line(info.id)}: {safe_line(info.title or '')}")
    return 0


async def rm_command(args: argparse.Namespace, settings: Settings) -> int:
    """``turnkeep sessions rm ID [--yes]``."""
    async with opened(settings) as sessions:
        await resolve_ids(sessions, args, "id")
        info = await sessions.get(args.id)
        shown = safe_line(info.id)
        if not args.yes:
            if not sys.stdin.isatty():
                raise UsageError(
                    f"refusing to delete session {shown} without --yes: standard input is "
                    "not a terminal",
                    hint=f"Run `turnkeep sessions rm {shown} --yes` to delete it.",
                )
            title = f" {safe_line(repr(info.title), TITLE_WIDTH)}" if info.title else ""
            counts = f"{plural(info.turns, 'turn')}, {plural(info.events, 'event')}"
            sys.stderr.write(
                f"Delete session {shown}{title} ({counts})? This cannot be undone. [y/N] "
            )
            sys.stderr.flush()
            # Read on this thread: a reader thread blocked in readline would keep Ctrl-C
            # from ending the process until Enter is pressed.
            answer = sys.stdin.readline()
            if answer.strip().lower() not in ("y", "yes"):
                print("not deleted", file=sys.stderr)
                return 1
        await sessions.forget(info.id)
    print(f"deleted {shown}")
    return 0
