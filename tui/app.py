"""The Textual application: wiring only.

It opens the database in a worker (an error screen if that fails), starts the
persistence worker, shows the home screen, routes "open this session" requests, relays
the persistence worker's state to the screens, and shows every failed worker's error
through one handler. Screens live in :mod:`tui.screens`, widgets in :mod:`tui.widgets`.
"""

from __future__ import annotations

import asyncio
import gc
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import var

from memory.errors import NotFoundError
from memory.protocol import MemoryBackend
from runtime.settings import Settings
from tui.commands import ScreenActions
from tui.messages import OpenSession, SaveStateChanged, WorkerFailed
from tui.safe_text import safe_line, safe_text
from tui.services import Clock, Services, error_parts, tilde
from tui.widgets.event_text import plural
from tui.widgets.save_status import saving_fails

if TYPE_CHECKING:
    from runtime.persistence import WorkerState as SaveState
    from tui.screens.startup import ErrorChoice

__all__ = ["TurnkeepApp"]

#: Seconds after start-up before the search index is first tidied, then between tidies.
TIDY_FIRST = 10.0
TIDY_EVERY = 60.0


class TurnkeepApp(App[int]):
    """turnkeep's TUI.

    Args:
        settings: built once by the entry point.
        memory: an already open backend (tests, benchmarks); the caller closes it.
        clock: the current time (frozen in tests and screenshots).
        continue_last: open the most recent session after start.
        resume: open this session id after start.
        freeze_startup_heap: once start-up is done, move every object alive then out of
            the cyclic garbage collector's sight (``gc.freeze``). A full collection
            then no longer walks the ~100,000 objects of imports, CSS and widgets: on a
            busy save loop it otherwise stalls the UI for 20-90 ms. For the process's
            own app only (``launch_tui``); apps in a test process leave it off, since
            frozen cycles are never collected.
    """

    CSS_PATH = "app.tcss"
    TITLE = "turnkeep"
    COMMANDS: ClassVar = App.COMMANDS | {ScreenActions}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    #: The persistence worker's latest state; screens watch it.
    save_state: var[SaveState | None] = var(None, init=False)

    def __init__(
        self,
        settings: Settings,
        *,
        memory: MemoryBackend | None = None,
        clock: Clock | None = None,
        continue_last: bool = False,
        resume: str | None = None,
        freeze_startup_heap: bool = False,
    ) -> None:
        super().__init__()
        self.services = Services(settings, memory=memory, clock=clock)
        self.continue_last = continue_last
        self.resume = resume
        self.freeze_startup_heap = freeze_startup_heap
        self.startup_error: BaseException | None = None
        #: A line for stderr when the app ends at once (``--resume`` of an unknown id).
        self.exit_note: str | None = None

    #: The "Opening …" screen appears only when opening takes longer than this (seconds):
    #: a quick open goes straight to the home screen, without a screen flashing by.
    OPENING_SCREEN_AFTER: ClassVar[float] = 0.3

    def on_mount(self) -> None:
        self._opening = self.set_timer(self.OPENING_SCREEN_AFTER, self._show_opening)
        self.open_store()

    def _show_opening(self) -> None:
        from tui.screens.startup import OpeningScreen

        self.push_screen(OpeningScreen(self.services))

    def _opening_shown(self) -> bool:
        from tui.screens.startup import OpeningScreen

        return isinstance(self.screen, OpeningScreen)

    # -- start-up ----------------------------------------------------------------------

    @work(exclusive=True, group="store", exit_on_error=False)
    async def open_store(self) -> None:
        from tui.collector import resume_collector
        from tui.screens.home import HomeScreen, read_first_page

        try:
            await self.services.open()
        except Exception as exc:  # every start-up failure is shown, typed, on a screen
            await self._failed_to_start(exc)
            return
        # The home list is read while its screen is built: the first paint shows it.
        first_read = asyncio.ensure_future(read_first_page(self.services))
        try:
            await self.services.start_saver(self._saver_listener)
        except Exception as exc:
            first_read.cancel()
            await self._failed_to_start(exc)
            return
        self._opening.stop()
        self.startup_error = None
        if self.services.saver is not None:
            self.save_state = self.services.saver.state
        home = HomeScreen(self.services, first_read=first_read)
        if self._opening_shown():
            await self.switch_screen(home)
        else:  # opened before the "Opening …" screen was due
            await self.push_screen(home)
        self.index_backfill()
        self.start_semantic_index()
        self.start_index_tidy()
        if self.freeze_startup_heap:
            gc.freeze()
        resume_collector()  # a collector paused by tui.start: frozen, then on again
        if self.resume is not None:
            await self._open_on_start(self.resume)
        elif self.continue_last:
            await self._open_on_start(None)

    async def _failed_to_start(self, exc: BaseException) -> None:
        from tui.collector import resume_collector

        self._opening.stop()
        self.startup_error = exc
        self.services.note_error(exc)
        await self._show_startup_error(exc)
        resume_collector()  # start-up is over, if only with an error screen

    @work(exclusive=True, group="search-backfill", exit_on_error=False)
    async def index_backfill(self) -> None:
        """Index events saved before the search index existed (runtime.search_index)."""

        def progress(state: Any) -> None:
            self.services.search_progress = state

        await self.services.sessions.backfill_index(on_progress=progress)

    def start_index_tidy(self) -> None:
        """On a local file, merge the search index's pieces in idle time: first a little
        after start-up, then every :data:`TIDY_EVERY` seconds (runtime.search_index)."""
        if self.services.settings.mode != "embedded":
            return  # a server's index is its operator's to tidy (`turnkeep db tidy`)
        self.set_timer(TIDY_FIRST, self._tidy_again)
        self.set_interval(TIDY_EVERY, self._tidy_again)

    def _tidy_again(self) -> None:
        worker = getattr(self, "_tidy_worker", None)
        if worker is None or worker.is_finished:
            self._tidy_worker = self.tidy_index()

    @work(group="search-tidy", exit_on_error=False)
    async def tidy_index(self) -> None:
        """Merge the index's pieces until none is left (not while the backfill runs;
        it stops when the search screen comes up, so no keystroke waits behind a merge,
        and the next tick goes on)."""
        from tui.screens.search import SearchScreen

        progress = self.services.search_progress
        if isinstance(self.screen, SearchScreen) or (
            progress is not None and not progress.complete
        ):
            return
        await self.services.sessions.tidy_index(
            give_way=lambda: isinstance(self.screen, SearchScreen)
        )

    def start_semantic_index(self) -> None:
        """When search.semantic is on, embed pending events now and every few seconds."""
        from tui.semantic import INDEX_EVERY, semantic_enabled

        if not semantic_enabled(self.services):
            return
        self._vector_worker = self.index_vectors()
        self.set_interval(INDEX_EVERY, self._index_again)

    def _index_again(self) -> None:
        worker = getattr(self, "_vector_worker", None)
        if worker is None or worker.is_finished:
            self._vector_worker = self.index_vectors()

    @work(group="semantic-index", exit_on_error=False)
    async def index_vectors(self) -> None:
        """One indexing run on its own connection (tui.semantic.run_indexer)."""
        from tui.semantic import run_indexer

        await run_indexer(self.services)

    async def _show_startup_error(self, error: BaseException) -> None:
        from tui.screens.startup import OpeningScreen, StartupErrorScreen

        if isinstance(self.screen, OpeningScreen):
            await self.pop_screen()
        await self.push_screen(StartupErrorScreen(self.services, error), self._startup_choice)

    def _startup_choice(self, choice: ErrorChoice | None) -> None:
        from tui.exit_codes import exit_code_for
        from tui.screens.startup import OpeningScreen

        if choice == "retry":
            self.push_screen(OpeningScreen(self.services))
            self.open_store()
            return
        error = self.startup_error
        self.exit(return_code=exit_code_for(error) if error is not None else 0)

    async def _open_on_start(self, session_id: str | None) -> None:
        sessions = self.services.sessions
        if session_id is None:
            latest = await sessions.latest()
            if latest is None:
                self.notify("There is no session to continue yet.", title="Nothing to continue")
                return
            session_id = latest.id
        elif not session_id.strip():  # `--resume` without an id: the picker
            self.pick_session()
            return
        else:
            from runtime.session_ids import AmbiguousSessionIdError

            try:
                session_id = await sessions.resolve_id(session_id)
            except AmbiguousSessionIdError as exc:
                self.notify(exc.message, title=exc.title, severity="warning", markup=False)
                self.pick_session(session_id)
                return
            except NotFoundError:
                # As every command that takes an id: exit 1, "Session not found".
                self.exit_note = (
                    f"turnkeep: Session not found: no session has the id "
                    f"{safe_line(repr(session_id))} (list them with `turnkeep sessions list`, "
                    "or pick one with `turnkeep --resume`)"
                )
                self.exit(return_code=1)
                return
        self._push_session(session_id)

    def pick_session(self, query: str = "") -> None:
        """Open the resume picker (filtered by ``query``); Enter opens the session."""
        from tui.screens.resume import ResumePicker

        def picked(session_id: str | None) -> None:
            if session_id is not None:
                self._push_session(session_id)

        self.push_screen(ResumePicker(self.services, query), picked)

    # -- routing -----------------------------------------------------------------------

    @on(OpenSession)
    def _open_session(self, message: OpenSession) -> None:
        self._push_session(message.session_id, at_seq=message.at_seq)

    def _push_session(self, session_id: str | None, *, at_seq: int | None = None) -> None:
        from tui.screens.session import SessionScreen

        screen = SessionScreen(self.services, session_id, at_seq=at_seq)
        self.push_screen(screen, self._session_closed)

    def _session_closed(self, session_id: str | None) -> None:
        from tui.screens.home import HomeScreen

        if session_id is not None and isinstance(self.screen, HomeScreen):
            self.screen.select(session_id)

    # -- saving ------------------------------------------------------------------------

    def _saver_listener(self, state: SaveState) -> None:
        self.post_message(SaveStateChanged(state))

    @on(SaveStateChanged)
    def _save_state_changed(self, message: SaveStateChanged) -> None:
        previous, state = self.save_state, message.state
        self.save_state = state
        was_failing, failing = saving_fails(previous), saving_fails(state)
        if failing and not was_failing:
            note = self.services.note("Saving failed", state.last_error or "saving failed")
            self.notify(
                f"{safe_text(note.message)}\nturnkeep keeps retrying; nothing is lost.",
                title="Saving failed",
                severity="error",
                timeout=10,
                markup=False,
            )
        elif was_failing and not failing and state.status != "stopped":
            self.notify("The database is back; queued events were saved.", title="Saving works")
        if previous is not None and state.failed > previous.failed:
            self.notify(
                safe_text(tilde(state.last_error or "a save point could not be stored")),
                title="Events not saved",
                severity="error",
                timeout=15,
                markup=False,
            )

    # -- errors ------------------------------------------------------------------------

    @on(WorkerFailed)
    def _worker_failed(self, message: WorkerFailed) -> None:
        """The one place a failed worker's error is shown: a notification, no traceback."""
        self.show_error(message.error)

    def show_error(self, error: BaseException) -> None:
        """Tell the person what failed and what to do."""
        self.services.note_error(error)
        title, message, hint = error_parts(error)
        self.notify(
            safe_text(f"{message}\n{hint}" if hint else message),
            title=safe_line(title),
            severity="error",
            timeout=10,
            markup=False,
        )

    async def action_quit(self) -> None:
        """Quit; while saving fails, ask first (queued events would be reported unsaved)."""
        saver = self.services.saver
        if saver is None or not saving_fails(saver.state):
            self.exit()
            return
        from tui.screens.dialogs import ConfirmDialog

        pending = saver.state.pending
        message = (
            f"{plural(pending, 'event')} could not be saved yet; "
            "turnkeep keeps retrying while it runs.\nQuit now and they are reported as "
            "not saved."
        )

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.exit()

        self.push_screen(
            ConfirmDialog("Quit while saving fails?", message, confirm="Quit anyway"), answered
        )

    async def on_unmount(self) -> None:
        await self.services.close()

    @property
    def unsaved(self) -> list[Any]:
        """Save points the persistence worker could not store before the app exited."""
        return self.services.unsaved
