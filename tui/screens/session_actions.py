"""Per-session actions of the session screen that the command palette offers.

Everything the home screen can do to the selected session can be done to the open one
from the palette (ctrl+p): new session, delete, export, pin, archive, tags, search and
health, next to the screen's own keys (rename, fork, find, go to turn...). A mixin, so
the session screen only lists it among its bases.

The screen provides ``services``, ``session_id``, ``info``, ``app``, ``notify``,
``dismiss``, ``_set_info`` and ``running``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.binding import Binding, BindingType

from memory.records import SessionInfo
from tui.commands import PaletteCommand
from tui.format import plural
from tui.messages import OpenSession
from tui.safe_text import safe_line
from tui.widgets.session_table import session_title

__all__ = ["SessionActions"]

#: Palette-only commands that act on the open session.
SESSION_COMMANDS = (
    PaletteCommand("New session", "Start a new session", "new_session"),
    PaletteCommand("Delete", "Delete this session for good (asks first)", "delete_session"),
    PaletteCommand("Export", "Write this session to a JSON file", "export_session"),
    PaletteCommand("Pin", "Pin or unpin this session at the top of the list", "pin_session"),
    PaletteCommand("Archive", "Archive this session (or restore it)", "archive_session"),
    PaletteCommand("Tags", "Edit this session's tags", "tag_session"),
    PaletteCommand("Search", "Search every conversation", "search_all"),
    PaletteCommand("Health", "Check the database health", "health"),
)

#: Of those, the ones that need a stored session.
_NEEDS_SESSION = frozenset(
    {"delete_session", "export_session", "pin_session", "archive_session", "tag_session"}
)


class SessionActions:
    """The open session's palette-only actions, and F2: the model picker (``openai``)."""

    ACTION_BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "f2",
            "choose_model",
            "Model",
            tooltip="Choose this session's model from the server's list (openai provider)",
        ),
    ]

    def palette_commands(self) -> tuple[PaletteCommand, ...]:
        """What the palette offers beyond the screen's key bindings."""
        return SESSION_COMMANDS

    def session_action_allowed(self, action: str) -> bool:
        """Actions on the stored session need one (and no running turn for delete); the
        model picker needs an ``openai`` conversation."""
        screen: Any = self
        if action == "choose_model":
            conversation = screen.conversation
            return (
                conversation is not None
                and conversation.provider_name == "openai"
                and not screen.running
            )
        if action in _NEEDS_SESSION and screen.info is None:
            return False
        return not (action == "delete_session" and screen.running)

    def _info(self) -> SessionInfo:
        screen: Any = self
        info: SessionInfo = screen.info
        return info

    def action_new_session(self) -> None:
        screen: Any = self
        screen.post_message(OpenSession(None))

    def action_search_all(self) -> None:
        from tui.screens.search import SearchScreen

        screen: Any = self
        screen.app.push_screen(SearchScreen(screen.services))

    def action_health(self) -> None:
        from tui.screens.health import HealthScreen

        screen: Any = self
        screen.app.push_screen(HealthScreen(screen.services))

    def action_delete_session(self) -> None:
        from tui.screens.dialogs import ConfirmDialog

        screen: Any = self
        info = self._info()
        message = (
            f"“{session_title(info)}” and its {plural(info.events, 'event')} will be deleted "
            "for good.\nThis cannot be undone."
        )

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.delete_session(info)

        screen.app.push_screen(ConfirmDialog("Delete this session?", message), answered)

    @work(group="session-action", exit_on_error=False)
    async def delete_session(self, info: SessionInfo) -> None:
        screen: Any = self
        if screen.conversation is not None:
            conversation, screen.conversation = screen.conversation, None
            await conversation.close()
        await screen.services.sessions.forget(info.id)
        screen.notify(f"Deleted “{session_title(info)}”.", title="Deleted", markup=False)
        screen.dismiss(None)

    def action_export_session(self) -> None:
        from tui.screens.export import ask_and_export

        screen: Any = self
        ask_and_export(screen, screen.services.sessions, self._info())

    def action_pin_session(self) -> None:
        self.organize("pin")

    def action_archive_session(self) -> None:
        self.organize("archive")

    @work(group="session-action", exit_on_error=False)
    async def organize(self, what: str) -> None:
        screen: Any = self
        memory = screen.services.sessions
        info = self._info()
        if what == "pin":
            info = await memory.set_pinned(info.id, not info.pinned)
            done = "Pinned" if info.pinned else "Unpinned"
        else:
            info = await memory.set_archived(info.id, not info.archived)
            done = "Archived" if info.archived else "Restored"
        screen._set_info(info)
        screen.notify(f"{done} “{session_title(info)}”.", title=done, markup=False)

    def action_tag_session(self) -> None:
        from tui.screens.tags import TagsDialog

        screen: Any = self
        info = self._info()

        def edited(tags: list[str] | None) -> None:
            if tags is not None and tuple(sorted(tags)) != info.tags:
                self.retag_session(info, tags)

        screen.app.push_screen(TagsDialog(session_title(info), info.tags), edited)

    @work(group="session-action", exit_on_error=False)
    async def retag_session(self, info: SessionInfo, tags: list[str]) -> None:
        screen: Any = self
        changed = await screen.services.sessions.retag(info, tags)
        screen._set_info(changed)
        shown = " ".join(f"#{safe_line(t)}" for t in changed.tags) or "no tags"
        screen.notify(f"Tags: {shown}", title="Tags saved", markup=False)

    # -- the model (openai) ------------------------------------------------------------

    def action_choose_model(self) -> None:
        """F2: list the server's models; the choice is stored as the session's model."""
        from tui.screens.model_picker import ModelPicker

        screen: Any = self
        sessions = screen.services.sessions
        current = screen.conversation.model_name if screen.conversation is not None else None

        def chosen(model: str | None) -> None:
            if model is not None and model != current:
                self.use_model(sessions, model)

        screen.app.push_screen(ModelPicker(sessions.server_models, current), chosen)

    @work(exclusive=True, group="conversation", exit_on_error=False)
    async def use_model(self, sessions: Any, model: str) -> None:
        """Store the choice, then reopen the conversation on it (a new provider)."""
        screen: Any = self
        if screen.session_id is None:
            return
        info = await sessions.choose_model(screen.session_id, model)
        screen._set_info(info)
        if screen.conversation is not None:
            conversation, screen.conversation = screen.conversation, None
            await conversation.close()
        screen.notify(f"Turns now run on {safe_line(model)}.", title="Model", markup=False)
        screen.open_conversation()  # replaces this worker (same exclusive group)
