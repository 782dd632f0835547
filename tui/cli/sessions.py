"""``turnkeep sessions``: list, show, rename, rm, export, import (filled in by the CLI issue)."""

from __future__ import annotations

from typing import Any

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the ``sessions`` command group (not yet implemented: registers nothing)."""
    del commands
