"""The command palette offers every action of the current screen, described.

Commands are read from the screen's bindings when the palette opens (so the keys, the
footer and the palette never disagree), plus the screen's palette-only commands
(:attr:`PaletteCommand`s from ``screen.palette_commands()``, for actions without a key).
Each entry is named by its short label ("Delete") and its second line says what it does
and which key runs it ("Delete the selected session · d"). Quit is offered once, by
Textual's own system commands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

__all__ = ["PaletteCommand", "ScreenActions"]

#: Actions the system commands already offer (one Quit in the palette).
_SYSTEM_ACTIONS = frozenset({"quit", "app.quit"})


@dataclass(frozen=True, slots=True)
class PaletteCommand:
    """A command a screen offers in the palette only.

    Attributes:
        name: the short label ("Export").
        help: what it does ("Write this session to a JSON file").
        action: the screen action to run (``"export"`` runs ``action_export``).
    """

    name: str
    help: str
    action: str


class ScreenActions(Provider):
    """Commands for every described action of the screen the palette was opened from."""

    def _commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        screen: Any = self.screen
        seen: set[str] = set()
        for key, active in screen.active_bindings.items():
            binding = active.binding
            # A tooltip is what makes a binding a command (paging keys have none).
            if not active.enabled or not binding.description or not binding.tooltip:
                continue
            if binding.action in _SYSTEM_ACTIONS or binding.action in seen:
                continue
            seen.add(binding.action)
            shown_key = binding.key_display or self.app.get_key_display(binding) or key
            yield (
                binding.description,
                f"{binding.tooltip} · {shown_key}",
                partial(self.app.run_action, binding.action, active.node),
            )
        extra: Iterable[PaletteCommand] = getattr(screen, "palette_commands", lambda: ())()
        for command in extra:
            if command.action in seen or screen.check_action(command.action, ()) is not True:
                continue
            seen.add(command.action)
            yield command.name, command.help, partial(self.app.run_action, command.action, screen)

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = max(matcher.match(name), matcher.match(help_text) * 0.8)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
