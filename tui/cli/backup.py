"""``turnkeep db backup PATH``: a consistent copy of the database, safe while the app runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from runtime.settings import Settings
from tui.cli.output import UsageError, atomic_text, check_output_path, opened
from tui.format import human_size

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add ``backup`` to the ``db`` subparsers."""
    backup = sub.add_parser(
        "backup",
        help="copy the database consistently, even while turnkeep is running",
        description=(
            "Write a consistent copy of the database to PATH. For the embedded file this "
            "is a SQLite database taken with VACUUM INTO in one read transaction, so it is "
            "safe while the TUI or `turnkeep ask` keep writing; the copy is checked with "
            "PRAGMA integrity_check before it appears at PATH. For a remote database it is "
            "a JSON export of every session (the format of `turnkeep sessions export`, "
            "restored with `turnkeep sessions import`). The backup is owner-only. Migrations "
            "are not applied first, so a backup can be taken before upgrading."
        ),
        epilog=(
            "Examples:\n"
            "  turnkeep db backup ~/turnkeep-$(date +%F).db\n"
            "  TURNKEEP_DB__URL=libsql://my-db.turso.io turnkeep db backup remote.json\n"
            "  turnkeep db backup latest.db --force"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    backup.add_argument("path", metavar="PATH", help="the backup file to write")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    backup.set_defaults(handler=backup_command)


async def backup_command(args: argparse.Namespace, settings: Settings) -> int:
    """``turnkeep db backup PATH [--force]``."""
    if not settings.memory.enabled:
        raise UsageError(
            "memory is disabled (memory.enabled = false): there is no database to back up"
        )
    target = check_output_path(Path(args.path), force=args.force).absolute()
    remote = settings.db.mode == "remote"
    # An embedded backup copies the file as it is (no migration first); a remote one reads
    # through the schema, which must therefore be complete.
    async with opened(settings, migrate=False, verify=remote) as sessions:
        where = sessions.where
        if sessions.file_path is not None:
            result = await sessions.backup_file(target)
            print(
                f"backed up {where} to {result.path} ({human_size(result.size)}, "
                f"integrity {', '.join(result.integrity)})"
            )
            return 0
        with atomic_text(target) as handle:
            count = await sessions.export_to(handle.write)
    print(f"exported {count} session{'s' if count != 1 else ''} from {where} to {target}")
    print("restore with: turnkeep sessions import " + str(target), file=sys.stderr)
    return 0
