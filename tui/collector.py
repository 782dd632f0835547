"""The garbage collector sits out start-up (paused by :mod:`tui.start`).

Start-up creates about 100,000 objects that live as long as the process (modules,
classes, pydantic schemas, Textual's CSS and widgets). While they are being created
the cyclic collector keeps walking them, finding nothing to free: about a tenth of the
time to the first screen (``bash scripts/bench --only cold-start``). The entry point
pauses the collector; :func:`resume_collector` moves everything alive by then out of
its sight (``gc.freeze``) and turns it back on, once start-up is over: when a command
is about to run, or when the TUI's first screen is up (or its start-up error shown).
"""

from __future__ import annotations

import gc

__all__ = ["pause_collector", "refreeze", "resume_collector"]

#: Whether this process's collector was paused by :func:`pause_collector`.
_paused = False


def pause_collector() -> None:
    """Turn the cyclic collector off until :func:`resume_collector` (no-op if off)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_collector() -> None:
    """End a pause: freeze what start-up left alive and collect again from here on.

    Only a pause made by :func:`pause_collector` is ended, so a process that runs the
    app or a command some other way (tests) keeps its collector as it was.
    """
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def refreeze() -> None:
    """Give frozen objects back to the collector, collect once, freeze what is left.

    For a screen that froze the heap while it was open (:mod:`tui.screens.search`):
    after it closes, its own widgets are garbage, and frozen cycles would never be
    freed. One full collection (a few tens of ms, paid as the screen goes away)
    frees them; what is still alive (start-up's objects included) is frozen again.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
