"""The command palette offers every action the current screen shows in its footer.

Commands are read from the screen's active bindings when the palette opens, so the
footer, the keys and the palette can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

__all__ = ["ScreenActions"]


class ScreenActions(Provider):
    """Commands for the footer actions of the screen the palette was opened from.

    A command is named by its binding's tooltip ("Delete the selected session"), so it
    can be found by what it acts on, not only by its short footer label.
    """

    def _commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        screen = self.screen
        seen: set[str] = set()
        where = screen.sub_title or type(screen).__name__
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.show or not active.enabled or not binding.description:
                continue
            name = binding.tooltip or binding.description
            if name in seen:
                continue
            seen.add(name)
            shown_key = binding.key_display or self.app.get_key_display(binding)
            help_text = f"{where} · key {shown_key or key}"
            yield (
                name,
                help_text,
                partial(self.app.run_action, binding.action, active.node),
            )

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
