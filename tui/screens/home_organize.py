"""The home screen's organizing actions: pin, archive, tags, fork, and the archive view.

Mixed into :class:`~tui.screens.home.HomeScreen` (which declares the key bindings), so
the home module only gains the bindings and a few calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work

from memory.records import SessionInfo
from tui.commands import PaletteCommand
from tui.safe_text import safe_line
from tui.screens.base import TurnkeepScreen
from tui.screens.tags import TagsDialog
from tui.widgets.session_table import SessionTable, session_title

if TYPE_CHECKING:
    from tui.services import Services

__all__ = ["HomeOrganizeMixin", "organize_preview"]

#: Actions that need a selected session.
SESSION_ACTIONS = frozenset({"pin", "archive", "tags", "fork", "export_session"})
#: Palette-only commands of the home screen (no key of their own).
HOME_COMMANDS = (
    PaletteCommand("Export", "Write the selected session to a JSON file", "export_session"),
)


def organize_preview(info: SessionInfo, text: Text) -> None:
    """Append the organizing facts of a session to its preview: pin, archive, tags,
    lineage and token totals (stored text neutralised, never markup)."""
    marks = []
    if info.pinned:
        marks.append("📌 pinned")
    if info.archived:
        marks.append("archived")
    if info.tags:
        marks.append(" ".join(f"#{safe_line(t)}" for t in info.tags))
    if marks:
        text.append("\n" + " · ".join(marks), style="bold")
    if info.forked_from:
        text.append(
            f"\nForked from {safe_line(info.forked_from)} at event {info.forked_at_seq}",
            style="italic",
        )
    total = info.prompt_tokens + info.completion_tokens
    if total:
        mark = "~" if info.tokens_estimated else ""
        text.append(
            f"\nTokens: {mark}{info.prompt_tokens:,} prompt · {mark}{info.completion_tokens:,} "
            f"completion · {mark}{total:,} total" + (" (estimated)" if mark else ""),
            style="dim",
        )


class HomeOrganizeMixin(TurnkeepScreen[None]):
    """Pin (``p``), archive (``a``), tags (``t``), fork (``f``), archive view (``v``).

    The home screen declares the bindings; it provides ``reload``, ``select`` and
    ``show_preview``.
    """

    def reload(self, *, debounce: float = 0.0) -> None:
        raise NotImplementedError  # provided by HomeScreen

    def select(self, session_id: str) -> None:
        raise NotImplementedError  # provided by HomeScreen

    def show_preview(self) -> None:
        raise NotImplementedError  # provided by HomeScreen

    services: Services

    def _selected(self) -> SessionInfo | None:
        return self.query_one(SessionTable).selected

    def palette_commands(self) -> tuple[PaletteCommand, ...]:
        """What the palette offers beyond the screen's key bindings."""
        return HOME_COMMANDS

    def action_export_session(self) -> None:
        from tui.screens.export import ask_and_export

        info = self._selected()
        if info is not None:
            ask_and_export(self, self.services.sessions, info)

    def action_pin(self) -> None:
        info = self._selected()
        if info is not None:
            self.toggle_pin(info)

    @work(group="organize", exit_on_error=False)
    async def toggle_pin(self, info: SessionInfo) -> None:
        changed = await self.services.sessions.set_pinned(info.id, not info.pinned)
        verb = "Pinned" if changed.pinned else "Unpinned"
        self.notify(f"{verb} “{safe_line(session_title(changed), 60)}”.", title=verb, markup=False)
        self.select(changed.id)

    def action_archive(self) -> None:
        info = self._selected()
        if info is not None:
            self.archive(info)

    @work(group="organize", exit_on_error=False)
    async def archive(self, info: SessionInfo) -> None:
        await self.services.sessions.set_archived(info.id, True)
        self.notify(
            f"Archived “{safe_line(session_title(info), 60)}”.  Press v to see the archive.",
            title="Archived",
            markup=False,
        )
        self.reload()

    def action_tags(self) -> None:
        info = self._selected()
        if info is None:
            return

        def edited(tags: list[str] | None) -> None:
            if tags is not None and tuple(sorted(tags)) != info.tags:
                self.retag(info, tags)

        self.app.push_screen(TagsDialog(session_title(info), info.tags), edited)

    @work(group="organize", exit_on_error=False)
    async def retag(self, info: SessionInfo, tags: list[str]) -> None:
        changed = await self.services.sessions.retag(info, tags)
        self.query_one(SessionTable).replace_session(changed)
        self.show_preview()
        shown = " ".join(f"#{safe_line(t)}" for t in changed.tags) or "no tags"
        self.notify(f"Tags: {shown}", title="Tags saved", markup=False)

    def action_fork(self) -> None:
        info = self._selected()
        if info is None:
            return
        from tui.screens.fork import ForkScreen

        self.app.push_screen(ForkScreen(self.services, info))

    def action_archive_view(self) -> None:
        from tui.screens.archive import ArchiveScreen

        self.app.push_screen(ArchiveScreen(self.services))
