"""The process entry point of ``turnkeep``: the command with the collector paused.

See :mod:`tui.collector` for why, and for where the pause ends.
"""

from __future__ import annotations

from tui.collector import pause_collector, resume_collector

__all__ = ["main"]


def main() -> int:
    """The ``turnkeep`` console script: :func:`tui.cli.main` with the collector paused."""
    pause_collector()
    try:
        from tui.cli import main as cli_main

        return cli_main()
    finally:
        resume_collector()
