"""Starting the TUI: the only module of the command line that imports Textual."""

from __future__ import annotations

from runtime.settings import Settings

__all__ = ["launch_tui"]


def launch_tui(settings: Settings, *, continue_last: bool = False, resume: str | None = None) -> int:
    """Run the Textual app until it exits; return the process exit code."""
    from tui.app import TurnkeepApp

    app = TurnkeepApp(settings, continue_last=continue_last, resume=resume)
    app.run()
    return app.return_code or 0
