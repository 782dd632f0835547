"""``turnkeep db``: status, migrate and backup."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from memory.errors import MemoryLayerError, explain
from memory.protocol import HealthReport
from memory.search_records import SearchProgress
from runtime.search_index import describe_progress
from runtime.sessions import Sessions
from runtime.sessions_admin import migration_ids
from runtime.settings import Settings, default_db_path
from tui.cli import backup, index, tidy
from tui.exit_codes import exit_code_for
from tui.format import human_size
from tui.safe_text import safe_line, terminal_json

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the ``db`` command group to the top-level subparsers."""
    db = commands.add_parser(
        "db",
        help="database status and maintenance",
        description="Inspect and maintain the turnkeep database.",
        epilog=(
            "Examples:\n  turnkeep db status\n  turnkeep db status --json\n  turnkeep db migrate"
            "\n  turnkeep db backup turnkeep-backup.db\n  turnkeep db tidy"
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
            "counts, and file and WAL sizes for a local file. Does not apply migrations, "
            "and creates nothing: when the database file does not exist yet (a fresh "
            'machine), it says "not created yet" with the location and the migrations '
            'the first use will apply, and exits 0 (--json: "exists": false, '
            '"reachable": false). Exit codes: 0 reachable or not created yet, 3 the '
            "database cannot be reached or opened (or the configured directory is missing)."
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
    index.register(sub)
    tidy.register(sub)


def format_report(
    report: HealthReport, *, exists: bool = True, extra: tuple[tuple[str, str], ...] = ()
) -> str:
    """The human form of a health report (plus ``extra`` label/value rows).

    ``exists=False``: the database file is not created yet.
    """
    if report.reachable:
        latency = f" ({report.latency_ms:.2f} ms)" if report.latency_ms is not None else ""
        reachable = "yes" + latency
    elif not exists:
        reachable = NOT_CREATED
    else:
        reachable = "no"
    rows: list[tuple[str, str]] = [
        ("mode", report.mode),
        ("location", report.location),
        ("reachable", reachable),
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
    return "\n".join(f"{label.ljust(width)}  {safe_line(value)}" for label, value in rows)


NOT_CREATED = "not created yet (the first session creates it; `turnkeep db migrate` creates it now)"


def _missing_file(settings: Settings) -> Path | None:
    """The embedded database path when that file does not exist yet, else ``None``."""
    if not settings.memory.enabled or settings.db.url:
        return None
    path = settings.db.resolved_path()
    try:
        present = path.exists() or path.is_symlink()
    except PermissionError:  # the normal open reports it, typed and naming the file
        return None
    if present:
        return None
    parent = path.parent
    if parent.is_dir() and not os.access(parent, os.W_OK | os.X_OK):
        return None  # cannot be created there: the normal open says so, creating nothing
    return path


def _fresh_report(path: Path, settings: Settings) -> HealthReport:
    """What ``db status`` says about a database file that does not exist (nothing opened)."""
    ids = migration_ids()
    error = None
    if path != default_db_path() and not path.parent.is_dir():
        error = f"the directory {path.parent} does not exist"
    return HealthReport(
        mode=settings.mode,
        location=str(path),
        reachable=False,
        latency_ms=None,
        engine_version=None,
        pending_migrations=ids,
        error=error,
    )


def _why(exc: MemoryLayerError) -> str:
    """The error as ``db status`` prints it: title, message and what to do, one line."""
    explained = explain(exc)
    line = f"{safe_line(explained.title)}: {safe_line(explained.message)}"
    return line + (f" ({safe_line(explained.hint)})" if explained.hint else "")


def _unreachable_report(settings: Settings, exc: MemoryLayerError) -> HealthReport:
    """What ``db status --json`` says of a database it could not open or reach."""
    if settings.db.url:
        from runtime.store import redacted_url

        location = redacted_url(settings.db.url)
    else:
        location = str(settings.db.resolved_path())
    return HealthReport(
        mode=settings.mode,
        location=location,
        reachable=False,
        latency_ms=None,
        engine_version=None,
        pending_migrations=(),
        error=_why(exc),
    )


async def status_command(args: argparse.Namespace, settings: Settings) -> int:
    """``turnkeep db status [--json]``: never creates the database (see its --help)."""
    missing = _missing_file(settings)
    progress: SearchProgress | None = None
    semantic: dict[str, Any] | None = None
    if missing is not None:
        report = _fresh_report(missing, settings)
        code = 3 if report.error else 0
    else:
        try:
            sessions = await Sessions.open(settings, migrate=False, verify=False)
        except MemoryLayerError as exc:
            if not args.json:
                raise  # one line, as every command's error
            # --json always prints its object: reachable false, and why.
            doc = _unreachable_report(settings, exc).as_dict()
            doc.update(exists=True, search_index=None, semantic_index=None)
            print(terminal_json(doc, indent=2))
            print(f"turnkeep: {doc['error']}", file=sys.stderr)  # the usual error line too
            return exit_code_for(exc)
        try:
            report = await sessions.health()
            # None before migration 0004 (the search index) is applied.
            progress = await sessions.search_progress_or_none() if report.reachable else None
            if report.reachable:
                semantic = await sessions.semantic_status(settings.search)
        finally:
            await sessions.close()
        code = 0 if report.reachable else 3
    if args.json:
        doc = report.as_dict()
        doc["exists"] = missing is None
        doc["search_index"] = None if progress is None else progress.as_dict()
        doc["semantic_index"] = semantic
        print(terminal_json(doc, indent=2))
    else:
        extra: tuple[tuple[str, str], ...] = ()
        if report.reachable:
            extra = (("search index", describe_progress(progress)),)
            # Shown once semantic search is on or an index exists (the JSON always has it).
            if semantic is not None and (semantic["enabled"] or semantic["fingerprint"]):
                extra += (("semantic index", index.describe_status(semantic)),)
        print(format_report(report, exists=missing is None, extra=extra))
    return code


async def migrate_command(args: argparse.Namespace, settings: Settings) -> int:
    """``turnkeep db migrate``."""
    del args
    sessions = await Sessions.open(settings, migrate=True)
    try:
        outcome = sessions.migration_outcome
        where = sessions.where
    finally:
        await sessions.close()
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
