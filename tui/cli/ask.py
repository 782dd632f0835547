"""``turnkeep ask``: one live turn from the command line (filled in by the runtime issue)."""

from __future__ import annotations

from typing import Any

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the ``ask`` command (not yet implemented: registers nothing)."""
    del commands
