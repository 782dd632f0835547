"""Cold start of the TUI, as ``turnkeep`` starts it, until its first screen is painted.

    python -m bench.cold_tui

Builds the settings from the environment (the parent points ``TURNKEEP_DB__PATH`` at a
seeded database), runs the real app headless at 120x40, and exits the process the
moment the home screen is painted with its session list. The parent times the whole
process, interpreter start-up included, like ``python -c "import textual"``.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def main() -> int:
    from tui.collector import pause_collector

    pause_collector()  # as the `turnkeep` entry point (tui.start.main) does
    from runtime.settings import load_settings
    from tui.app import TurnkeepApp
    from tui.screens.home import HomeScreen

    app = TurnkeepApp(load_settings(), freeze_startup_heap=True)  # as launch_tui does
    display = app._display

    def watched_display(screen: Any, update: Any) -> None:
        display(screen, update)
        if isinstance(screen, HomeScreen):
            table = screen.query("#sessions")
            if table and getattr(table.first(), "sessions", None):
                sys.stdout.flush()
                os._exit(0)

    app._display = watched_display  # type: ignore[method-assign,assignment]
    app.run(headless=True, size=(120, 40))
    print("the app exited before its first screen", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
