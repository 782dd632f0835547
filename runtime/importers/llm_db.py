"""Reading llm's ``logs.db`` read-only: the connection and helpers both layouts share."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from runtime.importers.base import SourceFormatError, placeholder

__all__ = ["EPOCH", "TOOL", "LlmDb", "attachment_text", "default_path", "from_json"]

TOOL: Final = "llm"
EPOCH: Final = "1970-01-01T00:00:00.000000Z"


def default_path() -> Path:
    """Where llm keeps ``logs.db``: ``$LLM_USER_PATH``, else its per-user app directory."""
    if os.environ.get("LLM_USER_PATH"):
        return Path(os.environ["LLM_USER_PATH"]) / "logs.db"
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    elif sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home())
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "io.datasette.llm" / "logs.db"


def from_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def attachment_text(row: sqlite3.Row | dict[str, Any]) -> str:
    where = row["path"] or row["url"] or row["id"]
    size = row["size"] if row["size"] is not None else None
    return placeholder(f"attachment {row['type'] or ''} {where}".replace("  ", " "), size)


def _text_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> sqlite3.Row:
    """A row with BLOB values decoded as UTF-8 (bad bytes replaced): llm stores text,
    and a value another program wrote as a BLOB must not stop an import."""
    if any(isinstance(v, bytes) for v in row):
        row = tuple(v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in row)
    return sqlite3.Row(cursor, row)


class LlmDb:
    """A read-only connection and what the database holds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # mode=ro: SQLite never writes the file (nor creates a journal next to it). A
        # database in WAL mode would still get -wal and -shm files beside it, left
        # behind: when it has none (no writer has it open, every change is in the
        # file), it is read as immutable, which creates nothing.
        live = any(Path(f"{path}{end}").exists() for end in ("-wal", "-shm"))
        self.conn = self._connect("mode=ro" if live else "mode=ro&immutable=1")
        try:
            tables = self._tables()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise SourceFormatError(f"{path} is not an llm logs database ({exc})") from exc
        self.tables = tables
        self.columns = {t: self._cols(t) for t in ("responses", "tool_results") if t in tables}

    def _connect(self, mode: str) -> sqlite3.Connection:
        # Parsing runs in worker threads, one at a time.
        conn = sqlite3.connect(
            f"file:{quote(str(self.path))}?{mode}", uri=True, check_same_thread=False
        )
        conn.row_factory = _text_row
        return conn

    def _tables(self) -> set[str]:
        rows = self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return {str(r[0]) for r in rows}

    def _cols(self, table: str) -> set[str]:
        return {str(r[1]) for r in self.conn.execute(f"PRAGMA table_info({table})")}

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """The rows of ``sql``, BLOB values decoded as text.

        Raises:
            SourceFormatError: the tables lack a column or table llm's layouts have.
        """
        try:
            return self.conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            raise SourceFormatError(
                f"{self.path} is not an llm logs database turnkeep can read ({exc})"
            ) from exc
