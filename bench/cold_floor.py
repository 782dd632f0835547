"""The floor under scenario 7: a bare Textual app, no turnkeep code, to its first paint.

    python -m bench.cold_floor

A header, a 50-row ``DataTable`` and a footer, exiting the moment the table is painted
(as ``bench.cold_tui`` does for turnkeep's home screen). With the import of the fixed
dependencies (``pydantic_settings`` and ``textual.app``) it shows how much of the TUI's
start-up no change to turnkeep can remove.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def main() -> int:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable, Footer, Header

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

    app = Bare()
    display = app._display

    def watched_display(screen: Any, update: Any) -> None:
        display(screen, update)
        tables = screen.query("#table")
        if tables and tables.first().row_count:
            sys.stdout.flush()
            os._exit(0)

    app._display = watched_display  # type: ignore[method-assign,assignment]
    app.run(headless=True, size=(120, 40))
    print("the app exited before its first paint", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
