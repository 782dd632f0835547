"""A single-line input whose own key bindings run in the order the keys were typed."""

from __future__ import annotations

from textual import events

from tui.widgets.inputs import StillInput

__all__ = ["InOrderInput"]


class InOrderInput(StillInput):
    """A :class:`StillInput` that runs its own bindings (Ctrl+U, Backspace, arrows...)
    as their key reaches it, in order with the text typed around them.

    Textual runs a widget's (non-priority) bindings only once the key has bubbled from
    the widget up to the app, while a printable key is inserted as it reaches the
    widget. Keys typed fast arrive together: ``ctrl+u`` then ``abc`` cleared the line
    *after* ``abc`` was inserted (the filter stayed empty), and a Backspace typed
    between letters deleted the wrong one. Here such a key runs its action at once and
    goes no further (the app's search for a binding would find this same one first);
    one whose action does not apply goes on up as before.
    """

    async def _on_key(self, event: events.Key) -> None:
        if event.is_printable:
            return  # inserted by Input's own handler, in order
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if not binding.priority and await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()
                return
