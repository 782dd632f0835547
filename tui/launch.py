"""Starting the TUI: the only module of the command line that imports Textual."""

from __future__ import annotations

import sys

from runtime.settings import Settings
from tui.safe_text import safe_line

__all__ = ["launch_tui"]


def launch_tui(
    settings: Settings, *, continue_last: bool = False, resume: str | None = None
) -> int:
    """Run the Textual app until it exits; return the process exit code.

    Events the persistence worker could not save before exit are reported on stderr
    (never silently dropped).
    """
    from tui import paste_input
    from tui.app import TurnkeepApp

    paste_input.install()  # a paste holding escape sequences arrives whole
    app = TurnkeepApp(
        settings, continue_last=continue_last, resume=resume, freeze_startup_heap=True
    )
    app.run()
    if app.exit_note:  # why it ended at once (`--resume` of an unknown id)
        print(app.exit_note, file=sys.stderr)
    if app.unsaved:
        events = sum(len(drafts) for _session, drafts in app.unsaved)
        sessions = sorted({session for session, _drafts in app.unsaved})
        print(
            f"turnkeep: {events} event(s) could not be saved before exit "
            f"(sessions: {safe_line(', '.join(sessions), 400)}); check `turnkeep db status`",
            file=sys.stderr,
        )
        return app.return_code or 1
    return app.return_code or 0
