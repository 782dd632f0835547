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
from collections.abc import Callable
from typing import Any


def run_until_painted(app: Any, painted: Callable[[Any], bool]) -> int:
    """Run ``app`` headless at 120x40 and end the process the moment a screen for which
    ``painted(screen)`` holds has been displayed (1 if the app exits before)."""
    display = app._display

    def watched_display(screen: Any, update: Any) -> None:
        display(screen, update)
        if painted(screen):
            sys.stdout.flush()
            os._exit(0)

    app._display = watched_display
    app.run(headless=True, size=(120, 40))
    print("the app exited before its first screen", file=sys.stderr)
    return 1


def main() -> int:
    from tui.collector import pause_collector

    pause_collector()  # as the `turnkeep` entry point (tui.start.main) does
    from runtime.settings import load_settings
    from tui.app import TurnkeepApp
    from tui.screens.home import HomeScreen

    app = TurnkeepApp(load_settings(), freeze_startup_heap=True)  # as launch_tui does

    def painted(screen: Any) -> bool:
        table = screen.query("#sessions") if isinstance(screen, HomeScreen) else None
        return bool(table and getattr(table.first(), "sessions", None))

    return run_until_painted(app, painted)


if __name__ == "__main__":
    sys.exit(main())
