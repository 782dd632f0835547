"""A conversation: live turns on a provider, saved through the persistence worker.

A turn is the user's message, the model's streamed output, zero or more tool calls each
followed by its result, and the final assistant message. :meth:`Conversation.send`
streams :mod:`runtime.progress` values while the events go to the worker in *save
points*: one after each completed tool result (carrying everything of the turn not yet
saved, so a call always travels with its result) and one at the end of the turn.

Endings, each leaving a well-formed history:

* **finished**: the last save point holds the final ``assistant`` event;
* **failed** (a :class:`~runtime.errors.ProviderError`, e.g. server down, bad key,
  context overflow): an ``error`` event (title, message, hint, and any partial text)
  ends the turn and :class:`~runtime.progress.TurnFailed` is yielded; never raised;
* **cancelled**: either cooperatively with :meth:`Conversation.cancel` (the stream then
  yields :class:`~runtime.progress.TurnCancelled` and ends) or by cancelling the task
  that iterates :meth:`send` (``CancelledError`` is re-raised). The partial assistant
  text is saved once in a ``cancelled`` event; a tool call that was running gets a
  ``tool_result`` with ``"cancelled": true``; tool calls not started are not stored.

The turn runs in its own task so that cancellation always lands at a point where the
turn's state is known; closing the iterator early (``aclose``) cancels the turn too.
Use ``contextlib.aclosing(conversation.send(text))`` when you may stop iterating early.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import uuid
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memory import (
    EventDraft,
    MemoryBackend,
    MemoryLayerError,
    SaveResult,
    StateSnapshot,
    TurnOf,
    TurnRef,
    new_session_id,
)
from memory.errors import SerializationError
from memory.records import Clock, check_session_id, check_text
from runtime import payloads
from runtime.attempts import Attempt, find_last_attempt
from runtime.context import fit_units, recall_window, to_units
from runtime.errors import NothingToRetryError, ProviderConfigError, RuntimeLayerError
from runtime.persistence import PersistenceWorker
from runtime.progress import Progress, TurnCancelled, TurnFailed, TurnFinished
from runtime.providers import Provider, make_provider
from runtime.settings import Settings
from runtime.tool_support import tool_support
from runtime.tools import ToolRegistry, default_tools
from runtime.turn import Outcome, TurnRunner

__all__ = ["Conversation", "SavedListener"]

#: Called with the drafts of a save point and the ``seq`` values they were given.
SavedListener = Callable[[Sequence[EventDraft], list[int]], None]
_WINDOW_SLACK = 2  # keep up to twice the budget of events in memory between turns
#: A checkpoint says a turn is running in a process of another host: after this long
#: without a save point, it is taken to have died.
_REMOTE_WRITER_STALE_SECONDS = 3600
#: Most events read back from a checkpoint's window start (the rest pages as before).
_CHECKPOINT_READ_LIMIT = 2000
#: Longest wait for a turn's question to be stored before the model is asked anyway.
QUESTION_SAVE_WAIT = 2.0


def _process_started() -> str:
    """This process's start time in clock ticks since boot (``/proc``), or ``""``."""
    return _started_of(os.getpid())


def _started_of(pid: int) -> str:
    """A running process's start time (``""`` when it is gone or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read().decode("ascii", "replace")
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[-1].split()
    if not fields or fields[0] in ("Z", "X"):  # exited, not yet reaped by its parent
        return ""
    return fields[19] if len(fields) > 19 else ""


def writer_identity() -> dict[str, Any]:
    """Who writes a checkpoint: host, pid and process start (to tell a dead writer)."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "started": _process_started()}


def writer_gone(writer: Any, saved_at: str, now: datetime) -> bool:
    """Whether the process that recorded a running turn can no longer be running it."""
    if not isinstance(writer, dict):
        return True
    if writer.get("host") != socket.gethostname():
        try:
            age = (now - datetime.fromisoformat(saved_at.replace("Z", "+00:00"))).total_seconds()
        except ValueError:
            return False
        return age > _REMOTE_WRITER_STALE_SECONDS
    pid = writer.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return True
    if pid == os.getpid():
        return writer.get("started") != _process_started()
    started = _started_of(pid)
    return not started or started != writer.get("started")


class _Raised:
    """An unexpected exception of the turn task, handed to the iterating caller."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def session_title(text: str, limit: int = 60) -> str:
    """A session title from a first message: its first non-empty line, shortened."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    line = " ".join(line.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


class Conversation:
    """One session's live conversation. Build it with :meth:`open`.

    Attributes:
        session_id: the session's id.
        provider_name: ``local``, ``openai`` or ``scripted``.
        model_name: the model's name.
        tool_support: the tools the model can call (or why none).
        turn: the number of the last turn started (0 before the first).
    """

    def __init__(
        self,
        *,
        memory: MemoryBackend,
        worker: PersistenceWorker,
        settings: Settings,
        provider: Provider,
        owns_provider: bool,
        session_id: str,
        turn: int,
        window: list[Any],
        tools: ToolRegistry,
        clock: Clock,
        last_seq: int = 0,
    ) -> None:
        self.session_id = session_id
        self.provider_name = provider.name
        self.model_name = provider.model
        self.tool_support = tool_support(provider, settings.agent, tools)
        self.turn = turn
        self._memory = memory
        self._worker = worker
        self._settings = settings
        self._provider = provider
        self._owns_provider = owns_provider
        self._window = window
        self._tools = tools
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[SavedListener] = []
        self._absorbed: weakref.WeakSet[TurnRunner] = weakref.WeakSet()
        self._unsaved = 0
        #: The highest seq of the session this conversation has accounted for.
        self._last_seq = last_seq
        #: Seqs this conversation stored above ``_last_seq`` (not to be read back).
        self._own_seqs: set[int] = set()
        self._runner: TurnRunner | None = None

    _needs_title = False
    _needs_model = False

    @classmethod
    async def open(
        cls,
        memory: MemoryBackend,
        worker: PersistenceWorker,
        settings: Settings,
        session_id: str | None = None,
        *,
        provider: str | None = None,
        model: str | None = None,
        script: Path | None = None,
        provider_instance: Provider | None = None,
        tools: ToolRegistry | None = None,
        clock: Clock | None = None,
    ) -> Conversation:
        """Start a new session, or resume one with its context rebuilt from its events.

        Args:
            memory: the memory backend (the worker must write to the same one).
            worker: the persistence worker that saves this conversation's events.
            settings: the settings built at start-up (``settings.agent``).
            session_id: ``None`` creates a new session; an id resumes that session
                with its stored provider and model unless ``provider``/``model`` say
                otherwise.
            provider: ``local``, ``openai`` or ``scripted``.
            model: the model name.
            script: the scripted provider's script file.
            provider_instance: use this provider (the caller keeps ownership and closes
                it); ``provider``/``model``/``script`` are then ignored.
            tools: the tools offered (default: :func:`runtime.tools.default_tools`, or
                none when ``settings.agent.tools`` is false).
            clock: the current time, for tools (tests freeze it).

        Raises:
            NotFoundError: ``session_id`` is unknown.
            ProviderConfigError: the provider cannot be set up (not installed, model
                missing, no model name, unreadable script, unknown forced tool).
            MemoryLayerError: the database failed.
        """
        agent = settings.agent
        info = None
        if session_id is not None:
            info = await memory.get_session(session_id)
            try:
                check_session_id(session_id)
            except SerializationError as exc:
                raise SerializationError(
                    "this session's id holds characters turnkeep no longer accepts (it was "
                    f"made by an older version), so it cannot take new turns: {exc}",
                    hint="Its history stays readable: `turnkeep sessions show` and "
                    "`turnkeep sessions export` work; continue in a new session.",
                ) from exc
        if provider_instance is None:
            name = provider or (info.provider if info is not None else None) or agent.provider
            same_provider = info is not None and info.provider == name
            chosen_model = model or (info.model if same_provider and info is not None else None)
            instance = make_provider(agent, name, model=chosen_model, script=script)
            owns = True
        else:
            instance, owns = provider_instance, False
        try:
            registry = (
                tools if tools is not None else (default_tools() if agent.tools else ToolRegistry())
            )
            forced = agent.tool_choice
            if forced not in ("auto", "none", "required") and forced not in registry:
                raise ProviderConfigError(
                    f"tool_choice names the tool {forced!r}, which is not offered",
                    hint="Set TURNKEEP_AGENT__TOOL_CHOICE to auto, none, required or one of: "
                    + (", ".join(registry.names()) or "(no tools)"),
                )
            checkpoint = None
            if info is None:
                session_id = new_session_id()
                info = await memory.create_session(
                    session_id, agent="turnkeep", provider=instance.name, model=instance.model
                )
                window: list[Any] = []
            else:
                assert session_id is not None
                runner_budget = TurnRunner.budget(settings, instance, registry)
                checkpoint = await memory.load_state(session_id)
                window = await _resume_window(
                    memory,
                    session_id,
                    checkpoint,
                    budget=max(runner_budget, 0) * _WINDOW_SLACK,
                    count=instance.count_tokens,
                )
        except BaseException:
            if owns:
                await instance.close()
            raise
        conversation = cls(
            memory=memory,
            worker=worker,
            settings=settings,
            provider=instance,
            owns_provider=owns,
            session_id=session_id,
            turn=info.turns,
            window=window,
            tools=registry,
            clock=clock or (lambda: datetime.now(UTC)),
            last_seq=max([info.last_seq, *(int(getattr(e, "seq", 0)) for e in window[-1:])]),
        )
        conversation._needs_title = info.title is None
        # A session without a provider or model (an imported one) gets this
        # conversation's with its first live turn, not when it is merely opened: opening
        # a session to read it changes nothing in it.
        conversation._needs_model = info.provider is None or info.model is None
        if checkpoint is not None:
            conversation._mark_interrupted(checkpoint)
        return conversation

    # -- what callers use --------------------------------------------------------------

    @property
    def provider(self) -> Provider:
        """The provider answering this conversation."""
        return self._provider

    @property
    def running(self) -> bool:
        """Whether a turn is in progress."""
        return self._task is not None and not self._task.done()

    @property
    def unsaved_save_points(self) -> int:
        """Save points of this conversation submitted and not (yet) confirmed saved."""
        return self._unsaved

    def add_saved_listener(self, callback: SavedListener) -> None:
        """Call ``callback(drafts, seqs)`` when one of this conversation's save points is saved."""
        self._listeners.append(callback)

    def prompt_messages(self) -> list[dict[str, Any]]:
        """The messages the next turn's prompt would start from (without a new message)."""
        units = to_units(self._window, self._provider.count_tokens)
        budget = TurnRunner.budget(self._settings, self._provider, self._tools)
        return fit_units(units, required=0, budget=budget)

    def cancel(self) -> bool:
        """Cancel the running turn cooperatively (the stream yields TurnCancelled).

        Returns:
            True when a turn was running.
        """
        if not self.running:
            return False
        assert self._task is not None
        self._task.cancel()
        return True

    async def last_attempt(self) -> Attempt:
        """The last question and what followed it, once this conversation's saves landed.

        Raises:
            NothingToRetryError: a turn is running or still saving, or there is no question.
            MemoryLayerError: the database failed.
        """
        if self.running:
            raise NothingToRetryError("a turn is running", hint="Wait for it or cancel it (Esc).")
        await self._worker.flush(QUESTION_SAVE_WAIT)
        if self._unsaved:
            raise NothingToRetryError(
                "the last turn is not saved yet, so it cannot be superseded",
                hint="Wait until the status line says saved, then try again.",
            )
        return await find_last_attempt(self._memory, self.session_id)

    async def redo(self, reason: str, text: str | None = None) -> AsyncIterator[Progress]:
        """Supersede the last attempt and ask again: the same question, or ``text``.

        The attempt stays stored; the new turn opens with a ``superseded`` marker naming
        it, and the prompt leaves it out from now on.

        Args:
            reason: ``"regenerate"`` (``text`` is ignored) or ``"edit"``.
            text: the edited question.

        Raises:
            NothingToRetryError: nothing to redo (see :meth:`last_attempt`), or an edit
                without text.
            plus what :meth:`send` raises.
        """
        if reason not in payloads.SUPERSEDE_REASONS:
            raise NothingToRetryError(f"unknown reason {reason!r}")
        attempt = await self.last_attempt()
        question = attempt.question if reason == "regenerate" else (text or "")
        if not question.strip():
            raise NothingToRetryError("the edited question is empty", hint="Type a question.")
        # The window may hold this process's own unsaved-seq drafts of the attempt:
        # read it back from storage, where every event has its seq.
        self._window[:] = await recall_window(
            self._memory,
            self.session_id,
            budget=TurnRunner.budget(self._settings, self._provider, self._tools) * _WINDOW_SLACK,
            count=self._provider.count_tokens,
        )
        self._last_seq = max(self._last_seq, attempt.to_seq)
        self._own_seqs = {seq for seq in self._own_seqs if seq > self._last_seq}
        async for progress in self.send(question, supersedes=(attempt, reason)):
            yield progress

    async def send(
        self, text: str, *, supersedes: tuple[Attempt, str] | None = None
    ) -> AsyncIterator[Progress]:
        """Run one live turn, yielding progress until it finished, failed or was cancelled.

        ``supersedes`` (used by :meth:`redo`) opens the turn with a ``superseded``
        marker for that attempt.

        Raises:
            SerializationError: the message is not valid Unicode (nothing was started).
            RuntimeLayerError: a turn is already running in this conversation.
            WorkerStoppedError: the persistence worker was stopped.
            asyncio.CancelledError: the iterating task was cancelled (after the partial
                turn was handed to the worker).
        """
        check_text(text, "message")
        if self.running:
            raise RuntimeLayerError("a turn is already running in this conversation")
        if self._needs_title or self._needs_model:
            await self._describe(text)
        await self._catch_up()
        self.turn += 1
        out: asyncio.Queue[Progress | _Raised | None] = asyncio.Queue()
        runner = TurnRunner(
            settings=self._settings,
            provider=self._provider,
            tools=self._tools,
            memory=self._memory,
            session_id=self.session_id,
            clock=self._clock,
            window=self._window,
            save=self._save,
            emit=out.put_nowait,
        )
        self._runner = runner
        opening = None if supersedes is None else supersedes[0].marker(supersedes[1], self.turn)
        runner.begin(self.turn, text, opening=opening)
        task = asyncio.get_running_loop().create_task(
            self._guarded(runner, out), name=f"turnkeep-turn-{self.turn}"
        )
        # ``None`` tells the loop below that the task ended (it may have been cancelled
        # before it ever ran, and then it emitted nothing).
        task.add_done_callback(lambda _: out.put_nowait(None))
        self._task = task
        try:
            while True:
                item = await out.get()
                if item is None:
                    if runner.ended:  # its last item came first; nothing is left
                        return
                    runner.abort()
                    yield TurnCancelled(runner.turn, "")
                    return
                if isinstance(item, _Raised):
                    raise item.exc
                yield item
                if isinstance(item, (TurnFinished, TurnCancelled, TurnFailed)):
                    return
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if task.cancelled() and not runner.ended:
                runner.abort()  # cancelled before it started: record the cancellation
            self._absorb(runner)

    async def _describe(self, text: str) -> None:
        """Before the first live turn: name an untitled session after its first message
        (a rename can change it), and give a session without a provider or model this
        conversation's, in one write.

        A failure here is not worth failing the turn for: the turn's own save points
        report database trouble through the worker.
        """
        title = session_title(text) if self._needs_title else None
        provider = self._provider if self._needs_model else None
        if not title and provider is None:
            return
        try:
            await self._memory.create_session(
                self.session_id,
                title=title or None,
                provider=None if provider is None else provider.name,
                model=None if provider is None else provider.model,
            )
        except MemoryLayerError:
            return
        if title:
            self._needs_title = False
        self._needs_model = False

    async def close(self) -> None:
        """Cancel a running turn and release the provider (when this conversation made it)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._owns_provider:
            await self._provider.close()

    # -- internals ---------------------------------------------------------------------

    async def _guarded(
        self, runner: TurnRunner, out: asyncio.Queue[Progress | _Raised | None]
    ) -> None:
        try:
            await self._question_durable()
            await runner.run()
        except BaseException as exc:  # a bug or a stopped worker: the caller must see it
            out.put_nowait(_Raised(exc))
            if not isinstance(exc, Exception):
                raise
        finally:
            if runner.ended:
                self._absorb(runner)

    def _absorb(self, runner: TurnRunner) -> None:
        """Add a turn's events to the prompt window, once (whoever gets there first)."""
        if runner not in self._absorbed:
            self._absorbed.add(runner)
            self._window.extend(runner.events)
            self._trim_window()

    def _save(self, drafts: list[EventDraft], turn: TurnRef, outcome: Outcome) -> str:
        frozen = tuple(drafts)
        callbacks: list[Callable[[], None]] = []

        def saved(result: SaveResult) -> None:
            for callback in callbacks:
                callback()
            self._unsaved -= 1
            if result.seqs and result.seqs[0] == self._last_seq + 1:
                self._last_seq = result.seqs[-1]  # nobody else wrote in between
            elif result.seqs and result.seqs[-1] > self._last_seq:
                self._own_seqs.update(result.seqs)
            if not isinstance(turn, TurnOf):
                self.turn = max(self.turn, result.turn)
            for listener in list(self._listeners):
                listener(frozen, list(result.seqs))

        if not isinstance(turn, TurnOf):
            self._turn_key = uuid.uuid4().hex
            self._question_saved = question_saved = asyncio.Event()
            callbacks.append(question_saved.set)
        key = self._worker.submit(
            self.session_id,
            frozen,
            turn=turn,
            state=self._checkpoint(outcome),
            on_result=saved,
            key=None if isinstance(turn, TurnOf) else self._turn_key,
        )
        self._unsaved += 1
        return key

    _turn_key: str | None = None
    _question_saved: asyncio.Event | None = None

    async def _question_durable(self) -> None:
        """Wait (bounded) until the turn's question is stored before asking the model.

        The question is the one event a crash could not regenerate; waiting for its
        commit costs one save point (well under a millisecond on a local file). When
        the database is failing, the turn goes on after :data:`QUESTION_SAVE_WAIT` and
        the question stays queued with everything else.
        """
        saved = self._question_saved
        if saved is None or saved.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(saved.wait(), QUESTION_SAVE_WAIT)

    def _checkpoint(self, outcome: Outcome) -> dict[str, Any]:
        """The session's checkpoint, saved with a save point in its transaction.

        ``window_events`` counts the newest events the prompt window holds once this
        save point is stored: resuming reads them back in one call from the
        checkpoint's ``seq`` instead of paging backwards through the session.
        """
        runner = self._runner
        in_turn = len(runner.events) if runner is not None and runner not in self._absorbed else 0
        return {
            "provider": self._provider.name,
            "model": self._provider.model,
            "turn": self.turn,
            "turn_key": self._turn_key,
            "outcome": outcome,
            "window_events": len(self._window) + in_turn,
            "budget_tokens": TurnRunner.budget(self._settings, self._provider, self._tools),
            "writer": writer_identity(),
        }

    async def next_turn(self) -> int:
        """The number the next turn will have, after catching up with other writers.

        Call it before :meth:`send` to label a turn: ``send`` catches up again, which
        then finds nothing new.
        """
        await self._catch_up()
        return self.turn + 1

    async def _catch_up(self) -> None:
        """Add events other writers stored since this conversation last looked.

        Another process (``turnkeep ask --session``, a second TUI) may append turns to
        this session; the next prompt must include them. Skipped while a save point of
        this conversation is in flight (its events could not yet be told from theirs).
        """
        if self._unsaved:
            return
        try:
            newer = await self._memory.recall(self.session_id, after=self._last_seq)
        except MemoryLayerError:
            return  # the turn's own save points will report database trouble
        for event in newer:
            if event.seq not in self._own_seqs:
                self._window.append(event)
                self.turn = max(self.turn, event.turn)
        if newer:
            self._last_seq = newer[-1].seq
            self._trim_window()
        self._own_seqs = {seq for seq in self._own_seqs if seq > self._last_seq}

    def _mark_interrupted(self, checkpoint: StateSnapshot) -> None:
        """Record an ``interrupted`` event after a turn whose process died mid-turn.

        The checkpoint says a turn was running; if the process that ran it is gone, the
        turn will never end by itself: mark it, so its question is followed by a
        visible marker and the prompt stays well-formed.
        """
        state = checkpoint.state
        key = state.get("turn_key")
        if state.get("outcome") != "running" or not isinstance(key, str):
            return
        if not writer_gone(state.get("writer"), checkpoint.created_at, self._clock()):
            return
        reason = "the turn stopped when its process ended; nothing more was saved"
        draft = EventDraft("interrupted", payloads.interrupted(reason), int(state.get("turn") or 1))
        self._turn_key = key
        self._window.append(draft)
        self._save([draft], TurnOf(key), "interrupted")

    def _trim_window(self) -> None:
        budget = TurnRunner.budget(self._settings, self._provider, self._tools) * _WINDOW_SLACK
        count = self._provider.count_tokens
        used = 0
        for index in range(len(self._window) - 1, -1, -1):
            used += count(json.dumps(dict(self._window[index].payload), ensure_ascii=False))
            if used > budget:
                del self._window[:index]
                return


async def _resume_window(
    memory: MemoryBackend,
    session_id: str,
    checkpoint: StateSnapshot | None,
    *,
    budget: int,
    count: Callable[[str], int],
) -> list[Any]:
    """The events a resumed conversation's prompt window starts from.

    With a checkpoint, one read from where its window started; without one (older
    sessions, imports), pages back from the end until the budget is covered.
    """
    window_events = None if checkpoint is None else checkpoint.state.get("window_events")
    if isinstance(window_events, int) and window_events >= 0:
        start = max(1, checkpoint.seq - window_events + 1) if checkpoint else 1
        events = await memory.recall(
            session_id, after=start - 1, limit=_CHECKPOINT_READ_LIMIT, newest=True
        )
        if not events or events[0].seq <= start:
            return events
    return await recall_window(memory, session_id, budget=budget, count=count)
