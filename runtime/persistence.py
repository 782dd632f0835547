"""The background persistence worker: ordered save points, one writer, retried until saved.

A *save point* is the list of events handed to :meth:`PersistenceWorker.submit` in one
call. The worker keeps save points in one FIFO queue and drains it with a single task:
one save point is one ``memory.store_once`` call, which is one transaction (one round
trip remotely), and the memory layer assigns ``seq`` inside it. Each save point carries
a key that every retry reuses: when a write's outcome is unknown (a timeout, a dropped
connection after the server committed), the retry finds the key and stores nothing
twice. The caller never waits on the database: ``submit`` only appends to the queue.

Failure policy:

* **Retryable** errors (every :class:`~memory.errors.MemoryLayerError` except those
  below: connection lost, timeout, busy, read-only, disk full, ...) leave the save point
  at the head of the queue; it is retried with exponential backoff (``retry_initial``
  doubling up to ``retry_max``) until it is saved. Later save points wait behind it, so
  nothing is reordered or dropped. ``state.status`` is ``"retrying"`` and
  ``state.last_error`` says why, until a write succeeds.
* **Permanent** errors (:class:`~memory.errors.SerializationError`,
  :class:`~memory.errors.StoreConfigError`, :class:`~memory.errors.MigrationError`,
  :class:`~memory.errors.NotFoundError`, and any exception that is not a memory-layer
  error) would fail forever, so the save point is taken off the queue and *parked*:
  ``state.failed`` counts it, ``state.last_error`` names it, :meth:`failed` lists it and
  :meth:`stop` returns it. The queue goes on. A save point is self-contained (a tool call
  always travels with its result), so skipping one never leaves a half pair behind.
  ``submit`` already refuses payloads that cannot be encoded, so in practice this only
  happens when the database itself changes under the worker.

On :meth:`stop` the queue is drained for at most ``timeout`` seconds (still retrying);
everything not saved by then is returned, never silently lost. A save point that was in
flight at the deadline is returned too, although the database may have committed it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from memory import MemoryBackend
from memory.errors import (
    MemoryLayerError,
    MigrationError,
    NotFoundError,
    SerializationError,
    StoreConfigError,
    explain,
)
from memory.records import EventDraft, SaveResult, TurnRef, encode_payload
from runtime.errors import WorkerStoppedError
from runtime.search_index import settle_index

__all__ = [
    "PersistenceWorker",
    "ResultCallback",
    "SavedCallback",
    "WorkerState",
    "describe_error",
]

log = logging.getLogger(__name__)

SavedCallback = Callable[[list[int]], None]
ResultCallback = Callable[[SaveResult], None]
Listener = Callable[["WorkerState"], None]

_PERMANENT = (SerializationError, StoreConfigError, MigrationError, NotFoundError)
#: Seconds without a save point after which the worker moves the saved events' waiting
#: substring rows into the search index (memory.protocol.EventSearch.settle_search): a
#: live turn's save points come in bursts, so this runs once the turn is done.
SETTLE_AFTER = 0.25


@dataclass(frozen=True, slots=True)
class WorkerState:
    """A snapshot of the worker, for "saved" / "saving" / "failed, retrying" displays.

    Attributes:
        status: ``idle`` (nothing queued), ``saving`` (a write in flight),
            ``retrying`` (the last write failed; waiting to retry), ``stopped``.
        pending: events queued and not yet saved.
        last_saved_seq: the last ``seq`` of the most recent successful save point.
        last_error: why the last write failed (``title: message``); cleared by the next
            successful write.
        disabled: memory is disabled (ephemeral backend): nothing outlives the process.
        failed: save points given up on (permanent errors), see :meth:`PersistenceWorker.failed`.
        retries: failed write attempts so far (all retried).
        saved: save points written so far.
    """

    status: Literal["idle", "saving", "retrying", "stopped"]
    pending: int
    last_saved_seq: int | None
    last_error: str | None
    disabled: bool
    failed: int = 0
    retries: int = 0
    saved: int = 0


@dataclass(frozen=True, slots=True)
class _SavePoint:
    session_id: str
    drafts: tuple[EventDraft, ...]
    on_saved: SavedCallback | None
    #: Reused on every retry, so a commit hidden by a timeout is not stored twice.
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    #: Which turn the events belong to, assigned in the transaction (``None``: as given).
    turn: TurnRef | None = None
    #: The session's checkpoint, replaced in the same transaction.
    state: Mapping[str, object] | None = None
    on_result: ResultCallback | None = None


def describe_error(exc: BaseException) -> str:
    """``title: message`` of any error, on one line (see :func:`memory.errors.explain`)."""
    return explain(exc).line()


class PersistenceWorker:
    """One ordered writer between a live conversation and the memory backend.

    Args:
        memory: the backend to store into.
        retry_initial: seconds before the first retry of a failed write.
        retry_max: the longest wait between two retries.

    All methods must be called on the event loop the worker was started on.
    """

    def __init__(
        self, memory: MemoryBackend, *, retry_initial: float = 0.05, retry_max: float = 5.0
    ) -> None:
        if retry_initial <= 0 or retry_max < retry_initial:
            raise ValueError("need 0 < retry_initial <= retry_max")
        self._memory = memory
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._queue: deque[_SavePoint] = deque()
        self._failed: list[tuple[_SavePoint, str]] = []
        self._listeners: list[Listener] = []
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._stopped = False
        self._unsettled = False
        self._state = WorkerState(
            status="idle",
            pending=0,
            last_saved_seq=None,
            last_error=None,
            disabled=getattr(memory, "mode", None) == "disabled",
        )

    # -- public API --------------------------------------------------------------------

    @property
    def state(self) -> WorkerState:
        """The current state (an immutable snapshot)."""
        return self._state

    @property
    def memory(self) -> MemoryBackend:
        """The backend this worker writes to."""
        return self._memory

    def add_listener(self, callback: Listener) -> None:
        """Call ``callback(state)`` on the worker's loop whenever the state changes.

        A listener that raises is logged and otherwise ignored: it never stops the worker.
        """
        self._listeners.append(callback)

    def remove_listener(self, callback: Listener) -> None:
        """Stop calling ``callback``; unknown callbacks are ignored."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(callback)

    async def start(self) -> None:
        """Start draining the queue on the running loop. Calling it twice is harmless.

        Raises:
            WorkerStoppedError: the worker was already stopped.
        """
        if self._stopped:
            raise WorkerStoppedError("this persistence worker was stopped; create a new one")
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="turnkeep-persistence"
            )

    def submit(
        self,
        session_id: str,
        drafts: Sequence[EventDraft],
        *,
        on_saved: SavedCallback | None = None,
        turn: TurnRef | None = None,
        state: Mapping[str, object] | None = None,
        on_result: ResultCallback | None = None,
        key: str | None = None,
    ) -> str:
        """Queue one save point; never blocks and never waits on the database.

        Args:
            session_id: the session to append to.
            drafts: the events of this save point, in order; stored in one transaction.
                An empty sequence is ignored.
            on_saved: called on the worker's loop with the assigned ``seq`` values once
                the save point is committed.
            turn: number the events' turn in the transaction: a new turn, or the turn of
                an earlier save point (by the key this method returned for it).
            state: the session's checkpoint, saved in the same transaction (with ``turn``).
            on_result: like ``on_saved``, with the seqs and the turn they were stored under.
            key: the save point's key (default: a new random one); unique per save point.

        Returns:
            The save point's key (``TurnOf(key)`` lets a later save point join its turn).

        Raises:
            SerializationError: a payload cannot be encoded; nothing was queued.
            WorkerStoppedError: the worker was stopped.
        """
        if self._stopping or self._stopped:
            raise WorkerStoppedError(
                f"cannot save {len(drafts)} event(s) of session {session_id}: the worker stopped"
            )
        point = _SavePoint(
            session_id,
            tuple(drafts),
            on_saved,
            key=key or uuid.uuid4().hex,
            turn=turn,
            state=state,
            on_result=on_result,
        )
        if not drafts:
            return point.key
        for draft in drafts:
            encode_payload(draft.payload)  # refuse now rather than park it later
        if state is not None:
            encode_payload(state)
        self._queue.append(point)
        self._drained.clear()
        self._wake.set()
        self._update(pending=self._state.pending + len(drafts))
        return point.key

    # A bounded wait is this API's contract (the TUI and CLI pass their own bounds).
    async def flush(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait until every queued save point was written or parked.

        Returns:
            True when the queue is empty, False when ``timeout`` seconds passed first.
        """
        if self._drained.is_set():
            return True
        try:
            await asyncio.wait_for(self._drained.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def failed(self) -> list[tuple[str, list[EventDraft], str]]:
        """Save points given up on: ``(session_id, drafts, error)`` in submission order."""
        return [(p.session_id, list(p.drafts), error) for p, error in self._failed]

    async def stop(self, timeout: float) -> list[tuple[str, list[EventDraft]]]:  # noqa: ASYNC109
        """Drain the queue for at most ``timeout`` seconds, then stop the worker.

        Returns:
            Every save point that was not saved, ``(session_id, drafts)`` in submission
            order: the parked ones, then what was still queued. Empty when all is saved.
        """
        self._stopping = True
        self._wake.set()
        task = self._task
        if task is not None and not task.done():
            done, _ = await asyncio.wait({task}, timeout=timeout)
            if not done:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        unsaved = [(p.session_id, list(p.drafts)) for p, _ in self._failed]
        unsaved += [(p.session_id, list(p.drafts)) for p in self._queue]
        self._stopped = True
        self._update(status="stopped")
        return unsaved

    # -- the writer --------------------------------------------------------------------

    async def _run(self) -> None:
        attempts = 0
        while True:
            if not self._queue:
                self._drained.set()
                if self._stopping:
                    await self._settle()
                    return
                self._wake.clear()
                if self._unsettled:
                    try:
                        await asyncio.wait_for(self._wake.wait(), SETTLE_AFTER)
                    except TimeoutError:
                        await self._settle()
                    continue
                await self._wake.wait()
                continue
            point = self._queue[0]
            self._update(status="saving")
            try:
                result: SaveResult | None = None
                if point.turn is None:
                    seqs = await self._memory.store_once(point.session_id, point.key, point.drafts)
                else:
                    result = await self._memory.store_turn(
                        point.session_id,
                        point.key,
                        point.drafts,
                        turn=point.turn,
                        state=point.state,
                    )
                    seqs = list(result.seqs)
            except Exception as exc:
                if isinstance(exc, MemoryLayerError) and not isinstance(exc, _PERMANENT):
                    attempts += 1
                    self._update(
                        status="retrying",
                        last_error=describe_error(exc),
                        retries=self._state.retries + 1,
                    )
                    delay = min(self._retry_max, self._retry_initial * 2 ** (attempts - 1))
                    await asyncio.sleep(delay)
                    continue
                attempts = 0
                self._queue.popleft()
                error = describe_error(exc)
                log.error("giving up on a save point of session %r: %s", point.session_id, error)
                self._failed.append((point, error))
                self._update(
                    status="saving" if self._queue else "idle",
                    pending=self._state.pending - len(point.drafts),
                    last_error=f"not saved ({len(point.drafts)} events): {error}",
                    failed=self._state.failed + 1,
                )
                continue
            attempts = 0
            self._queue.popleft()
            self._unsettled = True
            self._update(
                status="saving" if self._queue else "idle",
                pending=self._state.pending - len(point.drafts),
                last_saved_seq=seqs[-1] if seqs else self._state.last_saved_seq,
                last_error=None,
                saved=self._state.saved + 1,
            )
            try:
                if point.on_saved is not None:
                    point.on_saved(list(seqs))
                if point.on_result is not None:
                    turn = result.turn if result is not None else point.drafts[0].turn
                    point.on_result(SaveResult(tuple(seqs), turn))
            except Exception:
                log.exception("an on_saved callback failed")

    async def _settle(self) -> None:
        """Move the saved events' waiting substring rows into the search index, a batch
        per transaction, until none waits or a save point is queued (it goes first).

        A failure is logged and left: the rows stay findable where they wait, and the
        idle time after the next save point, the app's tidy or ``turnkeep db tidy``
        moves them.
        """
        self._unsettled = False
        if getattr(self._memory, "settle_search", None) is None or self._state.disabled:
            return
        try:
            await settle_index(self._memory, give_way=lambda: bool(self._queue))
        except Exception as exc:
            error = describe_error(exc)
            log.warning("could not index the newest saved events' text yet: %s", error)

    def _update(self, **changes: object) -> None:
        new = replace(self._state, **changes)  # type: ignore[arg-type]
        if new == self._state:
            return
        self._state = new
        for listener in list(self._listeners):
            try:
                listener(new)
            except Exception:
                log.exception("a persistence listener failed")
