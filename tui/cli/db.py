"""``turnkeep db``: status, migrate and backup."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from memory import HealthReport, MemoryLayerError
from memory.search_sql import SearchProgress
from runtime.search_index import describe_progress
from runtime.settings import Settings
from runtime.store import open_memory
from tui.cli import backup
from tui.cli.format import human_size

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the ``db`` command group to the top-level subparsers."""
    db = commands.add_parser(
        "db",
        help="database status and maintenance",
        description="Inspect and maintain the turnkeep database.",
        epilog=(
            "Examples:\n  turnkeep db status\n  turnkeep db status --json\n  turnkeep db migrate"
            "\n  turnkeep db backup turnkeep-backup.db"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    status = sub.add_parser(
        "status",
        help="show mode, location, reachability, versions, migrations and sizes",
        description=(
            "Show where the database is (credentials redacted), whether it is reachable "
            "and how fast, the SQLite/libSQL version, applied and pending migrations, row "
            "counts, and file and WAL sizes for a local file. Does not apply migrations."
        ),
        epilog=(
            "Examples:\n  turnkeep db status\n  turnkeep db status --json | jq .pending_migrations"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(handler=status_command)
    migrate = sub.add_parser(
        "migrate",
        help="apply pending migrations",
        description="Apply pending schema migrations and say which were applied.",
        epilog="Example:\n  turnkeep db migrate",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    migrate.set_defaults(handler=migrate_command)
    backup.register(sub)


def format_report(report: HealthReport, extra: tuple[tuple[str, str], ...] = ()) -> str:
    """The human form of a health report (plus ``extra`` label/value rows)."""
    rows: list[tuple[str, str]] = [
        ("mode", report.mode),
        ("location", report.location),
        (
            "reachable",
            ("yes" + (f" ({report.latency_ms:.2f} ms)" if report.latency_ms is not None else ""))
            if report.reachable
            else "no",
        ),
        ("version", f"SQLite {report.engine_version}" if report.engine_version else "-"),
    ]
    if report.server_version:
        rows.append(("server", report.server_version))
    if report.journal_mode:
        rows.append(("journal mode", report.journal_mode))
    rows.append(
        (
            "migrations",
            f"{len(report.applied_migrations)} applied, {len(report.pending_migrations)} pending",
        )
    )
    rows.extend(("  applied", m) for m in report.applied_migrations)
    rows.extend(("  pending", m) for m in report.pending_migrations)
    if report.row_counts:
        rows.append(
            ("rows", ", ".join(f"{name} {count}" for name, count in report.row_counts.items()))
        )
    if report.file_size is not None:
        rows.append(("file size", human_size(report.file_size)))
        rows.append(("WAL size", human_size(report.wal_size)))
    rows.extend(extra)
    if report.error:
        rows.append(("error", report.error))
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label.ljust(width)}  {value}" for label, value in rows)


async def _search_progress(memory: Any) -> SearchProgress | None:
    """The search index backfill progress; ``None`` before migration 0004."""
    try:
        progress: SearchProgress = await memory.search_progress()
    except MemoryLayerError:
        return None
    return progress


async def status_command(args: argparse.Namespace, settings: Settings) -> int:
    """``turnkeep db status [--json]``."""
    memory = await open_memory(settings, migrate=False, verify=False)
    try:
        report = await memory.health()
        progress = await _search_progress(memory) if report.reachable else None
    finally:
        await memory.close()
    if args.json:
        data = report.as_dict()
        data["search_index"] = None if progress is None else progress.as_dict()
        print(json.dumps(data, indent=2))
    else:
        extra = (("search index", describe_progress(progress)),) if report.reachable else ()
        print(format_report(report, extra))
    return 0 if report.reachable else 3


async def migrate_command(args: argparse.Namespace, settings: Settings) -> int:
    """``turnkeep db migrate``."""
    del args
    memory = await open_memory(settings, migrate=True)
    try:
        outcome = getattr(memory, "migration_outcome", None)
        where = getattr(memory, "where", settings.mode)
    finally:
        await memory.close()
    if outcome is None:
        print("memory is disabled (memory.enabled = false): nothing to migrate")
        return 0
    for note in outcome.notes:
        print(f"note: {note}", file=sys.stderr)
    if outcome.applied:
        for migration in outcome.applied:
            print(f"applied {migration}")
    else:
        print("nothing to apply: the schema is up to date")
    print(f"database: {where}", file=sys.stderr)
    return 0
