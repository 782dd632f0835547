"""The runtime's error tree.

::

    RuntimeLayerError          base of everything the runtime raises
    └── SettingsError          a setting is invalid or the config file is unreadable

Memory errors (:mod:`memory.errors`) pass through the runtime unchanged.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = ["RuntimeLayerError", "SettingsError"]


class RuntimeLayerError(Exception):
    """Base class of every error the runtime raises."""

    title: ClassVar[str] = "turnkeep error"
    default_hint: ClassVar[str] = "Run with --debug for details."

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint


class SettingsError(RuntimeLayerError):
    """A setting is invalid, or the config file cannot be read or parsed."""

    title = "Invalid settings"
    default_hint = "Fix the TURNKEEP_* variables, .env or the config file, then retry."
