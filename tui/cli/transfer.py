"""``turnkeep sessions export`` and ``turnkeep sessions import``.

The JSON format, its validation and the all-or-nothing import live in the memory layer
(:mod:`memory.bundle`, :class:`memory.Porter`); this module only parses arguments,
reads and writes files, and reports.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from memory.bundle import FORMAT_NAME, FORMAT_VERSION, PortableSession
from runtime.sessions_admin import read_export, write_export
from runtime.settings import Settings
from tui.cli.ids import resolve_ids
from tui.cli.output import (
    UsageError,
    atomic_text,
    check_output_path,
    opened,
    read_input,
    utf8_stdout,
)
from tui.cli.render import markdown_session
from tui.format import plural
from tui.safe_text import safe_line

__all__ = ["register"]

_RAW = argparse.RawDescriptionHelpFormatter


def register(sub: Any) -> None:
    """Add ``export`` and ``import`` to the ``sessions`` subparsers."""
    export = sub.add_parser(
        "export",
        help="write sessions to a JSON (lossless) or Markdown (readable) file",
        description=(
            "Export the given sessions, or every session with --all. JSON is lossless and "
            f'versioned ({{"format": "{FORMAT_NAME}", "version": {FORMAT_VERSION}, '
            '"sessions": [...]}): each session with its title, provider/model, metadata, '
            "state snapshots and every event with its seq, turn, kind, time and payload. It "
            "is deterministic (sessions by id, events by seq), so exporting, importing into "
            "an empty database and exporting again gives the same bytes. Markdown is for "
            "reading and sharing: a heading per turn, tool calls and results in fenced "
            "blocks. Without -o the export goes to standard output; with -o FILE the file "
            "appears only once complete (owner-only permissions) and holds the text exactly "
            "as stored. On standard output, characters a terminal could act on (C1 controls, "
            "bidi overrides) are written as JSON \\u escapes: the same data, safe to show. "
            "Markdown shows control characters as visible symbols."
        ),
        epilog=(
            "Examples:\n"
            "  turnkeep sessions export --all -o backup.json\n"
            "  turnkeep sessions export ID1 ID2 > two.json\n"
            "  turnkeep sessions export ID --format markdown -o session.md"
        ),
        formatter_class=_RAW,
    )
    export.add_argument("ids", nargs="*", metavar="ID", help="sessions to export")
    export.add_argument("--all", action="store_true", help="export every session")
    export.add_argument(
        "--format",
        choices=("json", "markdown"),
        default="json",
        help="json (lossless, re-importable; the default) or markdown (for reading)",
    )
    export.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE instead of standard output"
    )
    export.add_argument("--force", action="store_true", help="replace FILE if it exists")
    export.set_defaults(handler=export_command)

    imp = sub.add_parser(
        "import",
        help="read sessions from a JSON export (all or nothing)",
        description=(
            "Import the sessions of a JSON file written by `turnkeep sessions export` "
            "(FILE, or - for standard input). Ids, seq, turns, payloads, timestamps and "
            "state snapshots are kept exactly. Importing the same file twice changes "
            "nothing; a session whose id already exists with different content is a "
            "conflict (exit 1) unless --as-new gives every imported session a fresh id. "
            "The whole file is checked first: a malformed, truncated or unknown-version "
            "file is rejected naming the line or field that is wrong, and nothing is "
            "written. The import itself is one transaction: all sessions or none. Files "
            "larger than 1 GiB are refused (reading stops there), and session ids must be "
            "1 to 128 characters of letters, digits and . _ : - (ids turnkeep makes always "
            "are)."
        ),
        epilog=(
            "Examples:\n"
            "  turnkeep sessions import backup.json\n"
            "  turnkeep sessions import --as-new shared.json\n"
            "  ssh other-host turnkeep sessions export --all | turnkeep sessions import -"
        ),
        formatter_class=_RAW,
    )
    imp.add_argument("file", metavar="FILE", help="the JSON export, or - for standard input")
    imp.add_argument(
        "--as-new",
        action="store_true",
        help="store every imported session under a fresh id (never conflicts)",
    )
    imp.set_defaults(handler=import_command)


#: What JSON leaves raw but a terminal may act on: DEL, C1 controls, bidi controls,
#: line/paragraph separators (as :func:`tui.safe_text.terminal_json` escapes them).
_TERMINAL_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


class _TerminalSafe:
    """Standard output for the JSON export: the same JSON values, nothing raw.

    The export's structure is ASCII, so the characters escaped here can only be inside
    JSON strings: the output decodes to exactly the same data (and imports identically).
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(_TERMINAL_RAW.sub(_escape, text))


@contextlib.contextmanager
def _destination(name: str | None, *, force: bool, database: Path | None) -> Iterator[TextIO]:
    if name is None or name == "-":
        yield utf8_stdout()
        return
    path = check_output_path(Path(name), force=force, database=database)
    with atomic_text(path) as handle:
        yield handle


async def _markdown(
    sessions: AsyncIterator[PortableSession], write: Callable[[str], object]
) -> int:
    count = 0
    async for session in sessions:
        write(("\n---\n\n" if count else "") + markdown_session(session))
        count += 1
    return count


async def export_command(args: argparse.Namespace, settings: Settings) -> int:
    """``turnkeep sessions export (ID... | --all) [--format json|markdown] [-o FILE]``."""
    if args.all == bool(args.ids):
        raise UsageError("give session ids or --all (not both)")
    async with opened(settings) as store:
        await resolve_ids(store, args, "ids")
        sessions = store.export(None if args.all else args.ids)
        if args.ids:
            # Look the ids up before creating the output, so an unknown id leaves none.
            first = await anext(sessions, None)
            sessions = _chain(first, sessions)
        database = settings.db.resolved_path() if settings.mode == "embedded" else None
        with _destination(args.output, force=args.force, database=database) as out:
            to_stdout = args.output is None or args.output == "-"
            write = _TerminalSafe(out).write if to_stdout else out.write
            if args.format == "json":
                count = await write_export(sessions, write)
            else:
                count = await _markdown(sessions, out.write)
    if args.output and args.output != "-":
        print(f"exported {plural(count, 'session')} to {safe_line(args.output)}", file=sys.stderr)
    return 0


async def _chain(
    first: PortableSession | None, rest: AsyncIterator[PortableSession]
) -> AsyncIterator[PortableSession]:
    if first is None:
        return
    yield first
    async for session in rest:
        yield session


async def import_command(args: argparse.Namespace, settings: Settings) -> int:
    """``turnkeep sessions import FILE [--as-new]``."""
    if not settings.memory.enabled:
        raise UsageError(
            "memory is disabled (memory.enabled = false): imported sessions would not be kept"
        )
    sessions = read_export(read_input(args.file))  # checked whole before opening the store
    async with opened(settings) as store:
        outcome = await store.import_(sessions, as_new=args.as_new)
    if args.as_new:
        for old, new in outcome.imported:
            print(f"imported {safe_line(old)} as {safe_line(new)}")
    summary = (
        f"imported {plural(len(outcome.imported), 'session')} ({plural(outcome.events, 'event')})"
    )
    if outcome.unchanged:
        summary += f"; {len(outcome.unchanged)} already present and unchanged"
    print(summary)
    return 0
