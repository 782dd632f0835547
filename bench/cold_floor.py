"""The floor under scenario 7: a bare Textual app, no turnkeep code, to its first paint.

    python -m bench.cold_floor

A header, a 50-row ``DataTable`` and a footer, exiting the moment the table is painted
(as ``bench.cold_tui`` does for turnkeep's home screen). With the import of the fixed
dependencies (``pydantic_settings`` and ``textual.app``) it shows how much of the TUI's
start-up no change to turnkeep can remove.
"""

from __future__ import annotations

import sys
from typing import Any


def main() -> int:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable, Footer, Header

    from bench.cold_tui import run_until_painted

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield DataTable(id="table")
            yield Footer()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("title", "updated", "events")
            for row in range(50):
                table.add_row(f"session {row}", "2026-11-30 10:00", str(row))

    def painted(screen: Any) -> bool:
        tables = screen.query("#table")
        return bool(tables and tables.first().row_count)

    return run_until_painted(Bare(), painted)


if __name__ == "__main__":
    sys.exit(main())
