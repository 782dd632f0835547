"""The in-process reference backend: every protocol of :mod:`memory.protocol`, no database.

Used when memory is disabled and as the reference the SQL backend's contract suite is held to.
"""

from memory.ephemeral.store import EphemeralMemory

__all__ = ["EphemeralMemory"]
