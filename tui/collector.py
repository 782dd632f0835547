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

__all__ = ["FrozenBudget", "pause_collector", "refreeze", "resume_collector"]

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


class FrozenBudget:
    """Freezes the heap after each repaint of a screen that repaints as a person types;
    collects what that leaves behind when they pause.

    The collector's passes while typing were the largest stalls the search screen made
    itself (a pass of the middle generation 1-3 ms, a full one 3-6 ms, each inside a
    paint): what each result set leaves alive (rendered lines and their caches, about
    2,300 objects) kept the older generations full. Frozen after each result set, those
    objects sit out every later pass, which then walks only what the last keys made.

    Garbage cycles among them are not freed while frozen (about 600 objects per result
    set outlive it), and freeing them takes a full pass over the whole heap (start-up's
    objects included: 100-140 ms). So once ``every`` result sets were frozen the screen
    calls :meth:`collect` when the person pauses (:attr:`due`), and :meth:`freeze`
    itself collects after ``cap`` of them (typing on without a pause); the screen
    collects as it closes too (:func:`refreeze`). Freezes are counted, not objects:
    ``gc.get_freeze_count`` walks the whole frozen list (20-30 ms).
    """

    def __init__(self, every: int = 100, cap: int = 400) -> None:
        self.every = every
        self.cap = cap
        self._freezes = 0

    @property
    def due(self) -> bool:
        """Whether enough was frozen that a pause should be used to collect it."""
        return self._freezes >= self.every

    def freeze(self) -> None:
        """Freeze what is alive now (collect first once ``cap`` freezes are reached)."""
        self._freezes += 1
        if self._freezes >= self.cap:
            self.collect()
        else:
            gc.freeze()

    def collect(self) -> None:
        """Free the garbage frozen so far (:func:`refreeze`) and count again."""
        self._freezes = 0
        refreeze()
