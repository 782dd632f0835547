"""A session: its ordered replay, newest first, and a prompt that runs live turns.

Every read and every model call runs in a worker. Opening reads only the newest page
of events, so a 50,000-event session opens as fast as a short one; the event log asks
for older pages as the reader scrolls up. A live turn streams into the log as it
arrives; Esc cancels it (the runtime keeps a well-formed, cancelled history).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Button, Footer, Static
from textual.worker import Worker, WorkerState

from memory.records import EventDraft, SessionInfo
from tui.safe_text import safe_line, safe_text
from tui.screens.base import TurnkeepScreen
from tui.screens.search import SessionFind
from tui.screens.session_actions import SessionActions
from tui.screens.session_copy import SessionCopy
from tui.screens.session_edit import SessionEdit
from tui.screens.session_navigate import SessionNavigation
from tui.screens.session_sync import OtherWriters
from tui.services import Services, error_parts
from tui.widgets.event_log import EventLog
from tui.widgets.events import EventView
from tui.widgets.header import TitleHeader
from tui.widgets.inputs import PromptArea
from tui.widgets.live_turn import LiveTurn
from tui.widgets.save_status import SaveBanner, StatusLine
from tui.widgets.session_table import session_title

if TYPE_CHECKING:
    from runtime.conversation import Conversation

__all__ = ["SessionScreen"]


class SessionScreen(
    SessionFind,
    SessionNavigation,
    SessionActions,
    SessionEdit,
    SessionCopy,
    TurnkeepScreen[str | None],
    OtherWriters,
):
    """One session: replay plus live turns. Dismisses with its session id.

    Args:
        services: the app's services.
        session_id: the session to resume; ``None`` starts a new one.
    """

    AUTO_FOCUS = "#prompt"
    #: Most events read when the session opens (see :attr:`first_page`).
    FIRST_PAGE: ClassVar[int] = 30
    #: Events read each time the reader nears the top.
    PAGE: ClassVar[int] = 50

    BINDINGS: ClassVar[list[BindingType]] = [
        *SessionCopy.COPY_BINDINGS,  # shown only while an event has the focus
        *SessionEdit.EDIT_BINDINGS,
        Binding(
            "escape",
            "cancel_turn",
            "Cancel turn",
            tooltip="Cancel the running turn (what was written is kept)",
        ),
        Binding("escape", "back", "Back", tooltip="Back to the sessions"),
        Binding(
            "ctrl+t",
            "toggle_tools",
            "Expand tools",
            tooltip="Expand or collapse every tool call and result",
        ),
        Binding(
            "ctrl+l",
            "focus_log",
            "Scroll history",
            tooltip="Move between the prompt and the history",
        ),
        Binding("ctrl+r", "rename", "Rename", tooltip="Rename this session"),
        Binding(
            "ctrl+b",
            "fork",
            "Fork",
            tooltip="Fork this session at an event (the one in focus is preselected)",
        ),
        Binding("f5", "retry_load", "Retry", tooltip="Read the session again"),
        Binding(
            "ctrl+o",
            "full_text",
            "Full text",
            show=False,
            tooltip="Show the whole of a long message (the log shows its beginning)",
        ),
        Binding("pageup", "scroll_log('page_up')", "Page up", show=False),
        Binding("pagedown", "scroll_log('page_down')", "Page down", show=False),
        Binding("ctrl+end", "newest", "Newest", show=False),
        *SessionNavigation.NAV_BINDINGS,
        *SessionFind.FIND_BINDINGS,
        *SessionActions.ACTION_BINDINGS,
    ]

    running: reactive[bool] = reactive(False, bindings=True)

    class Loaded(Message):
        """The newest events are on screen (benchmarks and tests wait for it)."""

        def __init__(self, session_id: str | None, shown: int) -> None:
            super().__init__()
            self.session_id = session_id
            self.shown = shown

    def __init__(
        self, services: Services, session_id: str | None, *, at_seq: int | None = None
    ) -> None:
        super().__init__(classes="session")
        self.services = services
        self.session_id = session_id
        #: Open at this event (a search hit) instead of at the newest.
        self.at_seq = at_seq
        self.find_seqs: list[int] = []
        self.info: SessionInfo | None = None
        self.conversation: Conversation | None = None
        self._turn_worker: Worker[None] | None = None
        self._live: LiveTurn | None = None
        self._live_turns: list[LiveTurn] = []
        #: Why the session's events could not be read (``None`` once they were).
        self.load_error: BaseException | None = None
        self._seen_seq = None
        self._own_seqs = set()
        self._poll_failed = False
        #: This screen started the session (``n``) and nothing was sent in it yet.
        self._created_here = False
        self._sent = False

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        yield SaveBanner(id="save-banner")
        yield EventLog(id="log")
        yield PromptArea(placeholder="Starting the model…", id="prompt", disabled=True)
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "new session" if self.session_id is None else "loading…"
        status = self.query_one(StatusLine)
        status.memory_disabled = self.services.settings.mode == "disabled"
        self.watch(self.app, "save_state", self._save_state_changed)
        self.start_polling()
        self.load_prompt_history()
        if self.session_id is None:
            self._show_placeholder()
            self.post_message(self.Loaded(None, 0))
            self.open_conversation()
        elif self.at_seq is not None:
            self.load_around(self.session_id, self.at_seq, first=True)
        else:
            # The conversation (which reads its own context window) starts once the
            # newest events are on screen: what the reader sees comes first.
            self.load_newest(self.session_id)

    def _save_state_changed(self, state: Any) -> None:
        self.query_one(StatusLine).save_state = state
        self.query_one(SaveBanner).save_state = state

    def _show_placeholder(self) -> None:
        log = self.query_one(EventLog)
        if not log.views and not log.query(".log--placeholder"):
            log.mount(
                Static(
                    "A new session. Type a message below and press Enter.\n"
                    "Esc cancels a running turn · Esc again goes back to your sessions.",
                    classes="log--placeholder",
                )
            )

    # -- reading the replay ------------------------------------------------------------

    @work(exclusive=True, group="window", exit_on_error=False)
    async def load_newest(self, session_id: str) -> None:
        log = self.query_one(EventLog)
        try:
            opened = await self.services.sessions.open_newest(session_id, self.first_page)
            self._set_info(opened.info)
            events = opened.events
        except Exception as exc:  # shown on this screen with Retry (and noted by the app)
            await self._show_load_error(exc)
            raise
        await log.show_newest(
            events, has_older=bool(events) and events[0].seq > 1, now=self.services.now()
        )
        self.load_error = None
        self._seen_seq = events[-1].seq if events else 0
        self.refresh_bindings()
        if not events:
            self._show_placeholder()
        self.post_message(self.Loaded(session_id, len(events)))
        self.open_conversation()

    async def _show_load_error(self, error: BaseException) -> None:
        """Say on the screen why the session could not be read, with a Retry button."""
        self.load_error = error
        self.sub_title = "could not load"
        title, message, hint = error_parts(error)
        log = self.query_one(EventLog)
        await log.remove_children()
        text = Text(f"✗ This session could not be read: {safe_line(title)}\n", style="bold")
        text.append(safe_text(message))
        if hint:
            text.append(f"\n{safe_text(hint)}", style="dim")
        await log.mount(
            Vertical(
                Static(text, markup=False),
                Button("Retry (F5)", id="retry-load", variant="primary"),
                classes="log--error",
            )
        )
        self.refresh_bindings()

    @on(Button.Pressed, "#retry-load")
    def action_retry_load(self) -> None:
        """Read the session again after it failed to load."""
        if self.session_id is None or self.load_error is None:
            return
        self.sub_title = "loading…"
        self.load_newest(self.session_id)

    @property
    def first_page(self) -> int:
        """How many of the newest events to read first: about one screenful.

        Just enough to fill the screen, so a long session's first paint costs what a
        short one's does; the next page is read right after that paint.
        """
        return max(10, min(self.FIRST_PAGE, self.app.size.height // 2))

    def _set_info(self, info: SessionInfo) -> None:
        self.info = info
        self.sub_title = session_title(info) if info.title or info.events else "new session"

    @on(EventLog.NeedOlder)
    def _need_older(self, message: EventLog.NeedOlder) -> None:
        if self.session_id is not None:
            self.load_older(self.session_id, message.before)

    @work(exclusive=True, group="window", exit_on_error=False)
    async def load_older(self, session_id: str, before: int) -> None:
        log = self.query_one(EventLog)
        try:
            events = await self.services.sessions.older(session_id, before, self.PAGE)
        except BaseException:
            log.request_failed()
            raise
        await log.prepend(
            events, has_older=bool(events) and events[0].seq > 1, now=self.services.now()
        )

    @on(EventLog.NeedNewer)
    def _need_newer(self, message: EventLog.NeedNewer) -> None:
        if self.session_id is not None:
            self.load_newer(self.session_id, message.after)

    @work(exclusive=True, group="window", exit_on_error=False)
    async def load_newer(self, session_id: str, after: int) -> None:
        log = self.query_one(EventLog)
        try:
            events = await self.services.sessions.newer(session_id, after, self.PAGE)
        except BaseException:
            log.request_failed()
            raise
        await log.extend(events, at_end=len(events) < self.PAGE, now=self.services.now())

    # -- the conversation --------------------------------------------------------------

    @work(exclusive=True, group="conversation", exit_on_error=False)
    async def open_conversation(self) -> None:
        services = self.services
        conversation = await services.sessions.conversation(self.session_id)
        if not self.is_attached:
            await conversation.close()
            if self.session_id is None:  # a new session left before it was ready
                await self._discard_if_unused(conversation.session_id)
            return
        self.conversation = conversation
        conversation.add_saved_listener(self._saved)
        if self.session_id is None:
            self.session_id = conversation.session_id
            self._created_here = True
            self._seen_seq = 0  # a new session: every event another writer adds is new
            self._set_info(await services.sessions.get(conversation.session_id))
        status = self.query_one(StatusLine)
        status.provider = conversation.provider_name
        status.model = conversation.model_name or ""
        support = conversation.tool_support
        status.tools = support.label
        if not support.available:
            self.notify(support.reason, title="No tools for this model", markup=False, timeout=15)
        prompt = self.query_one("#prompt", PromptArea)
        prompt.disabled = False
        prompt.placeholder = f"Message {self.model_label}   (Enter to send)"
        draft = self.services.drafts.pop(conversation.session_id, None)
        if draft and not prompt.text:  # typed here before, not sent
            prompt.load_text(draft)
            prompt.move_cursor(prompt.document.end)
        if not isinstance(self.focused, EventView):  # the reader went to an event meanwhile
            prompt.focus()

    @property
    def model_label(self) -> str:
        """``provider · model`` of the conversation."""
        conversation = self.conversation
        if conversation is None:
            return ""
        return safe_line(
            " · ".join(p for p in (conversation.provider_name, conversation.model_name) if p)
        )

    def _conversation_failed(self, error: BaseException) -> None:
        title, _message, _hint = error_parts(error)
        prompt = self.query_one("#prompt", PromptArea)
        prompt.disabled = True
        prompt.placeholder = f"Live turns are unavailable: {title}. The replay still works."
        self.query_one(StatusLine).activity = "model unavailable"

    def _saved(self, drafts: Sequence[EventDraft], seqs: list[int]) -> None:
        self._own_seqs.update(seqs)
        for live in list(self._live_turns):
            live.saved(drafts, seqs)

    @on(PromptArea.Submitted, "#prompt")
    def _submitted(self, event: PromptArea.Submitted) -> None:
        # Sent exactly as typed or pasted (every line of a paste); only blank is refused.
        text = event.value
        if not text.strip() or self.conversation is None:
            return
        if self.running:
            self.notify("A turn is running. Esc cancels it.", severity="warning")
            return
        redo = self.take_edit()
        self._sent = True
        event.prompt.remember(text)
        event.prompt.clear()
        self.running = True
        self._turn_worker = self.run_turn(text, redo=redo)

    @work(exclusive=True, group="turn", exit_on_error=False)
    async def run_turn(self, text: str, *, redo: str | None = None) -> None:
        """Run one turn; ``redo`` (regenerate / edit) supersedes the last attempt."""
        conversation = self.conversation
        assert conversation is not None
        log = self.query_one(EventLog)
        if not log.at_end:
            self.workers.cancel_group(self, "window")  # reading older pages is moot now
            await self._reload_newest()
        await log.query(".log--placeholder").remove()
        # Turns other writers stored first count: the live turn's number is the next one.
        turn = await conversation.next_turn()
        opening = None
        if redo is not None:
            prepared = await self.redo_opening(redo, text, turn)
            if prepared is None:
                return
            text, opening = prepared
        live = LiveTurn(log, turn, self.model_label)
        self._live_turns.append(live)
        # Saved save points of older turns have matched their views by now.
        del self._live_turns[:-2]
        self._live = live
        await live.start(text, opening=opening)
        self.query_one(StatusLine).activity = "answering…  (Esc to cancel)"
        stream = conversation.send(text) if redo is None else conversation.redo(redo, text)
        async for progress in stream:
            await live.show(progress)
        # The runtime names an untitled session after its first message; show it.
        if self.session_id is not None:
            self._set_info(await self.services.sessions.get(self.session_id))

    async def _reload_newest(self) -> None:
        if self.session_id is None:
            return
        events = await self.services.sessions.newest(self.session_id, self.first_page)
        await self.query_one(EventLog).show_newest(
            events, has_older=bool(events) and events[0].seq > 1, now=self.services.now()
        )

    @on(Worker.StateChanged)
    async def _worker_changed(self, event: Worker.StateChanged) -> None:
        group = event.worker.group
        if group == "conversation" and event.state == WorkerState.ERROR:
            assert event.worker.error is not None
            self._conversation_failed(event.worker.error)
        if group != "turn" or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        live = self._live
        if live is not None and not live.ended:
            if event.state == WorkerState.ERROR and event.worker.error is not None:
                await live.interrupted(event.worker.error)
            else:
                await live.cancelled()
        self._live = None
        self.running = False
        self.query_one(StatusLine).activity = ""
        self._turn_worker = None

    async def on_unmount(self) -> None:
        if self.conversation is not None:
            conversation, self.conversation = self.conversation, None
            await conversation.close()

    # -- actions -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in SessionEdit.EDIT_ACTIONS:
            return self.check_edit_action(action)
        if action in SessionCopy.COPY_ACTIONS:
            return self.check_copy_action(action)
        if action == "cancel_turn":
            return self.running
        if action == "back":
            return not self.running
        if action == "retry_load":
            return self.load_error is not None
        if action == "rename":
            return True if self.session_id is not None else None
        if action == "fork":
            return True if self.info is not None and self.info.events else None
        return self.session_action_allowed(action)

    def action_cancel_turn(self) -> None:
        """Esc: stop the turn cooperatively; the runtime saves a cancelled history."""
        if self.conversation is not None and self.conversation.cancel():
            return
        if self._turn_worker is not None:
            self._turn_worker.cancel()

    def _long_view(self) -> EventView | None:
        """The focused event if it is long, else the newest long event on screen."""
        focused = self.focused
        if isinstance(focused, EventView) and focused.full_text() is not None:
            return focused
        log = self.query_one(EventLog)
        for view in reversed(log.views):
            if view.region.overlaps(log.region) and view.full_text() is not None:
                return view
        return None

    def action_full_text(self) -> None:
        """ctrl+o: open the whole text of a long message in a pager."""
        view = self._long_view()
        if view is None:
            self.notify("No long message is on screen.", severity="information")
            return
        view.action_show_full()

    async def action_back(self) -> None:
        """Back to the sessions, saying which one this was (so it stays selected); what
        the prompt holds is kept for when the session is opened again. A new session
        left without a word (no message, title or tag) is not kept."""
        session_id = self.session_id
        if session_id is not None:
            text = self.query_one("#prompt", PromptArea).text
            if text.strip():
                self.services.drafts[session_id] = text
            else:
                self.services.drafts.pop(session_id, None)
            unused = self._created_here and not self._sent and not text.strip()
            if unused and await self._discard_if_unused(session_id):
                session_id = None
        self.dismiss(session_id)

    async def _discard_if_unused(self, session_id: str) -> bool:
        """Delete a new session left without a word; whether it was deleted."""
        try:
            return await self.services.sessions.discard_if_unused(session_id)
        except Exception as exc:  # it stays listed, empty; nothing is lost
            self.services.note_error(exc)
            return False

    def action_toggle_tools(self) -> None:
        log = self.query_one(EventLog)
        log.expand_tools(not log.tools_expanded)

    def action_focus_log(self) -> None:
        log = self.query_one(EventLog)
        if self.focused is log:
            self.query_one("#prompt", PromptArea).focus()
        else:
            log.focus()

    def action_newest(self) -> None:
        """Jump to the newest event, reading it back if the window let go of it."""
        log = self.query_one(EventLog)
        if log.at_end:
            log.scroll_end(animate=False)
        else:
            self.jump_to_newest()

    @work(exclusive=True, group="window", exit_on_error=False)
    async def jump_to_newest(self) -> None:
        await self._reload_newest()

    def action_scroll_log(self, how: str) -> None:
        getattr(self.query_one(EventLog), f"action_{how}")()

    def action_fork(self) -> None:
        """Pick an event (the focused one first) and fork the session there."""
        from tui.screens.fork import ForkScreen

        if self.info is None or self.running:
            return
        focused = self.focused
        at_seq = getattr(focused, "seq", None) if focused is not None else None
        self.app.push_screen(
            ForkScreen(self.services, self.info, at_seq if isinstance(at_seq, int) else None)
        )

    def action_rename(self) -> None:
        from tui.screens.dialogs import RenameDialog

        current = safe_line(self.info.title) if self.info is not None and self.info.title else ""

        def renamed(title: str | None) -> None:
            if title:
                self.rename(title)

        self.app.push_screen(RenameDialog(current), renamed)

    @work(group="rename", exit_on_error=False)
    async def rename(self, title: str) -> None:
        if self.session_id is None:
            return
        info = await self.services.sessions.rename(self.session_id, title)
        self._set_info(info)
        self.notify(f"Renamed to “{safe_line(title)}”.", title="Renamed", markup=False)
