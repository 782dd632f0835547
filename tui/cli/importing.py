"""``turnkeep import claude-code|codex|chatgpt|llm``: bring other tools' histories in.

Parsing lives in :mod:`runtime.importers`; this module parses arguments, shows a
progress bar on a terminal (stderr) and prints the summary. Everything shown from the
sources (paths, reasons) goes through :mod:`tui.safe_text`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from runtime.importers.base import Malformed
from runtime.importers.run import ImportReport, Reader
from runtime.sessions import Sessions
from runtime.settings import Settings
from tui.cli.output import UsageError, opened
from tui.format import human_size, plural
from tui.safe_text import safe_line, terminal_json

__all__ = ["register"]

_RAW = argparse.RawDescriptionHelpFormatter
_COMMON = (
    "Importing is repeatable: a session imported before gets only what is new (a "
    "transcript that grew has its new events appended), unchanged ones are skipped. "
    "Sources are opened read-only and never changed. A malformed line or record is "
    "skipped and reported with its file and line; the rest is imported. Each session is "
    "written in one transaction (a very large one in chunks of a few megabytes, each "
    "recording where the next import resumes)."
)


def register(commands: Any) -> None:
    """Add ``import`` and its four sources to the top-level subparsers."""
    parser = commands.add_parser(
        "import",
        help="import sessions from Claude Code, Codex, ChatGPT or llm",
        description="Import another tool's conversation history as turnkeep sessions. " + _COMMON,
        epilog=(
            "Examples:\n"
            "  turnkeep import claude-code\n"
            "  turnkeep import codex --dry-run\n"
            "  turnkeep import chatgpt ~/Downloads/chatgpt-export.zip\n"
            "  turnkeep import llm ~/.config/io.datasette.llm/logs.db --json"
        ),
        formatter_class=_RAW,
    )
    sources = parser.add_subparsers(dest="source", metavar="SOURCE", required=True)
    specs = (
        ("claude-code", "DIR", "?", "Claude Code transcripts (default ~/.claude/projects)"),
        (
            "codex",
            "DIR",
            "?",
            "Codex CLI rollouts (default $CODEX_HOME/sessions or ~/.codex/sessions)",
        ),
        ("chatgpt", "FILE", None, "a ChatGPT data export: conversations.json or the export .zip"),
        ("llm", "PATH", "?", "simonw/llm's logs.db (default: llm's own location)"),
    )
    examples = {
        "claude-code": ("", " ~/backup/.claude/projects --dry-run"),
        "codex": ("", " ~/.codex/sessions --json"),
        "chatgpt": (" ~/Downloads/chatgpt-export.zip", " conversations.json --dry-run"),
        "llm": ("", " ~/.config/io.datasette.llm/logs.db --json"),
    }
    for name, metavar, nargs, what in specs:
        sub = sources.add_parser(
            name,
            help=what,
            description=f"Import {what}. {_COMMON}",
            epilog="Examples:\n"
            + "".join(f"  turnkeep import {name}{tail}\n" for tail in examples[name]),
            formatter_class=_RAW,
        )
        if nargs is None:
            sub.add_argument("path", metavar=metavar, help=what)
        else:
            sub.add_argument("path", metavar=metavar, nargs=nargs, default=None, help=what)
        sub.add_argument(
            "--dry-run", action="store_true", help="show what would be imported; change nothing"
        )
        sub.add_argument("--json", action="store_true", help="print the summary as JSON")
        sub.set_defaults(handler=import_command, import_source=name)


def make_reader(source: str, path: str | None) -> Reader:
    """The reader of ``source`` at ``path`` (or the tool's default location).

    Raises:
        SourceFormatError: the path is missing or not of that tool's format.
    """
    given = Path(path).expanduser() if path else None
    if source == "claude-code":
        from runtime.importers import claude_code

        return claude_code.ClaudeCodeReader(given or claude_code.default_dir())
    if source == "codex":
        from runtime.importers import codex

        return codex.CodexReader(given or codex.default_dir())
    if source == "chatgpt":
        from runtime.importers import chatgpt

        assert given is not None  # required by argparse
        return chatgpt.ChatGPTReader(given)
    from runtime.importers import llm_logs

    return llm_logs.LlmReader(given or llm_logs.default_path())


class ProgressBar:
    """A one-line progress bar on a terminal's stderr, redrawn at most 10 times a second."""

    def __init__(self, total: int, unit: str, stream: TextIO) -> None:
        self.total = max(total, 1)
        self.unit = unit
        self.done = 0
        self.stream = stream
        self._drawn = 0.0

    def advance(self, amount: int) -> None:
        self.done += amount
        now = time.monotonic()
        if now - self._drawn >= 0.1:
            self._drawn = now
            self._draw()

    def _draw(self) -> None:
        share = min(self.done / self.total, 1.0)
        filled = int(share * 30)
        if self.unit == "bytes":
            amount = f"{human_size(self.done)} / {human_size(self.total)}"
        else:
            amount = f"{self.done:,} / {self.total:,} {self.unit}"
        bar = "#" * filled + "-" * (30 - filled)
        self.stream.write(f"\r[{bar}] {share:4.0%}  {amount}   ")
        self.stream.flush()

    def close(self) -> None:
        self._draw()
        self.stream.write("\n")
        self.stream.flush()


def summary_lines(report: ImportReport) -> list[str]:
    """The human summary (every source-derived string made terminal-safe)."""
    verb = "would be" if report.dry_run else "were"
    skipped = report.unchanged + report.not_updated
    lines = [
        f"{report.tool}: {plural(report.added, 'session')} added "
        f"({plural(report.events_added, 'event')}), {report.updated:,} updated "
        f"({plural(report.events_appended, 'event')} appended), {skipped:,} skipped "
        f"({report.unchanged:,} unchanged, {report.not_updated:,} not updated)"
    ]
    if report.dry_run:
        lines.append("dry run: nothing was written")
        lines.extend(
            f"  {safe_line(sid)}: {status}, {plural(n, 'event')}"
            for sid, status, n in report.sessions
            if status in ("added", "updated")
        )
    if report.malformed_count:
        lines.append(f"skipped {plural(report.malformed_count, 'malformed record')}:")
        lines.extend(f"  {_malformed(m)}" for m in report.malformed)
        if report.malformed_count > len(report.malformed):
            lines.append(f"  ... and {report.malformed_count - len(report.malformed):,} more")
    if report.unknown:
        kinds = ", ".join(f"{safe_line(k, 60)} x{n}" for k, n in sorted(report.unknown.items()))
        lines.append(f"records of unknown types {verb} kept as 'unknown' events: {kinds}")
    if report.ignored:
        kinds = ", ".join(f"{safe_line(k, 60)} x{n}" for k, n in sorted(report.ignored.items()))
        lines.append(f"bookkeeping records not imported: {kinds}")
    if report.repaired:
        lines.append(
            f"{plural(report.repaired, 'record')} held text that is not valid Unicode "
            f"(lone surrogates): {verb} kept with U+FFFD in its place"
        )
    lines.extend(f"note: {safe_line(note)}" for note in report.notes)
    return lines


def _malformed(m: Malformed) -> str:
    return safe_line(str(m), 300)


async def import_command(args: argparse.Namespace, settings: Settings) -> int:
    """``turnkeep import SOURCE [PATH] [--dry-run] [--json]``."""
    if not settings.memory.enabled:
        raise UsageError(
            "memory is disabled (memory.enabled = false): imported sessions would not be kept"
        )
    reader = make_reader(args.import_source, args.path)
    report = ImportReport(reader.tool, dry_run=args.dry_run)
    bar = ProgressBar(reader.total, reader.unit_name, sys.stderr) if sys.stderr.isatty() else None
    if bar is not None:
        report.on_progress = bar.advance
    try:
        if args.dry_run and not settings.db.url and not settings.db.resolved_path().exists():
            # Nothing imported yet, and a dry run must not even create the database.
            in_process = Sessions.in_process(settings)
            try:
                await in_process.import_from(reader, dry_run=True, report=report)
            finally:
                await in_process.close()
        else:
            async with opened(settings) as sessions:
                await sessions.import_from(reader, dry_run=args.dry_run, report=report)
    finally:
        reader.close()
        if bar is not None:
            bar.close()
    if args.json:
        print(terminal_json(report.as_dict(), indent=2))
    else:
        print("\n".join(summary_lines(report)))
    return 0
