"""A search's read: short ones inline, longer ones on the database thread, stoppable.

Cancelling the task that awaits a call on the database thread does not stop the call
(:class:`~memory.drivers.db_thread.DatabaseThread`): a search for a prefix the person
has already typed past would run to its end, and the search for the newer text would
queue behind it. :func:`cancellable_rows` gives the embedded driver's read a SQLite
progress handler that aborts the statement once the caller has given up: a read still
queued stops at its first steps, one running within about a thousand VM steps. The
handler is set for that read only (calls on the thread run one at a time), so no other
statement can be interrupted. Other drivers run the read as usual (a remote server
finishes it; its answer is dropped).

A short read costs more to hand to the database thread and back than to run: two
wake-ups across CPUs (25-30 us each on the 2-core VM) and the event loop's own turn, for
a rare word's statement of ~0.15 ms at a million events. So when the database thread is
idle and the previous search was short (:class:`ReadPace`), the read first runs on the
caller's thread (:meth:`~memory.drivers.sqlite_file.SqliteFileDriver.run_now`) with a
progress handler that stops it once it has run :data:`INLINE_BUDGET`; a read stopped
there runs again on the database thread. The event loop is held at most that budget
plus one VM step (FTS5 reads a doclist in one step: under 1 ms warm at a million
events, a few ms from a cold page cache, which is why the first search of a connection
goes to the thread); a search that outgrew the budget sends the next ones to the thread
until one fits it again.

A search on the database thread also gives way to the event loop's thread every
:data:`GIVE_WAY_EVERY` of its run (``sched_yield``). On the 2-CPU VM the kernel often
kept both threads on one CPU with the other idle: the loop's thread, woken for a key or
a timer, then waited behind the search for the next scheduler tick (2-4.5 ms of run-queue
time with under 0.5 ms of its own CPU, read from ``/proc/thread-self/schedstat``; a
shorter scheduler slice for either thread did not change it). Yielding costs a system
call per half millisecond when nothing else waits for the CPU; when something does, the
search lets it run first. And while a search runs there, the database thread keeps off
the CPU the event loop's thread was on when it asked (:func:`_kept_off`, Linux; only
when another CPU is allowed), so a wake-up of the loop finds its CPU free. The event
loop's thread itself is never restricted.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import math
import os
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast, runtime_checkable

from memory.drivers.base import Driver

__all__ = [
    "GIVE_WAY_EVERY",
    "INLINE_BUDGET",
    "PROGRESS_STEPS",
    "ReadPace",
    "RunsOnConnection",
    "cancellable_rows",
]

T = TypeVar("T")


@runtime_checkable
class RunsOnConnection(Protocol):
    """A driver that runs a function on its own ``sqlite3`` connection (the embedded
    :class:`~memory.drivers.sqlite_file.SqliteFileDriver`; the SQL layer may not
    import it by name)."""

    def run(self, func: Callable[[sqlite3.Connection], T]) -> Awaitable[T]:
        """``func(connection)`` on the database thread; its errors translated."""
        ...

    def run_now(self, func: Callable[[sqlite3.Connection], T]) -> tuple[bool, T | None]:
        """``func(connection)`` on the calling thread when the database thread is idle:
        ``(True, result)``, or ``(False, None)`` when not run."""
        ...


#: SQLite VM steps between checks of whether the caller still waits, or of an inline
#: read's clock (a few to a few tens of us).
PROGRESS_STEPS = 1000
#: Seconds a search may run inline on the caller's thread before it is stopped and run
#: on the database thread instead.
INLINE_BUDGET = 0.0005

#: Seconds of a search's run on the database thread between two moments it lets other
#: threads waiting for its CPU run first.
GIVE_WAY_EVERY = 0.0005

#: Lets the threads waiting for this one's CPU run first (a no-op when none waits).
_give_way: Callable[[], None] = getattr(os, "sched_yield", lambda: time.sleep(0))


def _cpu_reader() -> Callable[[], int] | None:
    """``sched_getcpu`` of the C library (the CPU the calling thread runs on), where
    threads' CPUs can be chosen too (Linux); else ``None``."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    try:
        read: Any = ctypes.CDLL(None).sched_getcpu
    except (OSError, AttributeError):
        return None
    read.restype, read.argtypes = ctypes.c_int, []
    return cast(Callable[[], int], read)


_current_cpu = _cpu_reader()


def _caller_cpu() -> int | None:
    """The CPU the calling thread runs on, if it can be read."""
    if _current_cpu is None:
        return None
    cpu = _current_cpu()
    return cpu if cpu >= 0 else None


@contextlib.contextmanager
def _kept_off(cpu: int | None) -> Iterator[None]:
    """Keep the calling thread off ``cpu`` for the block, when another CPU is allowed to
    it; its CPUs are given back after. Any failure leaves the thread as it was."""
    allowed: set[int] | None = None
    if cpu is not None:
        with contextlib.suppress(OSError):
            mask = os.sched_getaffinity(0)
            if cpu in mask and len(mask) > 1:
                os.sched_setaffinity(0, mask - {cpu})
                allowed = mask
    try:
        yield
    finally:
        if allowed is not None:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(0, allowed)


#: Whether a driver class runs functions on its connection (a protocol ``isinstance``
#: costs ~5 us, paid by every keystroke's search otherwise).
_RUNS_ON_CONNECTION: dict[type, bool] = {}
_INTERRUPTED = "SQLITE_INTERRUPT"


@dataclass
class ReadPace:
    """How long the latest search took to run, wherever it ran (seconds); unknown at
    first, so a connection's first search, which may read cold pages, runs on the
    database thread."""

    last: float = math.inf

    @property
    def short(self) -> bool:
        """Whether the next search may run inline."""
        return self.last <= INLINE_BUDGET


def _connection_runner(driver: Driver) -> RunsOnConnection | None:
    """``driver`` when it runs functions on its connection, else ``None``."""
    kind = type(driver)
    known = _RUNS_ON_CONNECTION.get(kind)
    if known is None:
        known = _RUNS_ON_CONNECTION[kind] = isinstance(driver, RunsOnConnection)
    return cast(RunsOnConnection, driver) if known else None


def _stopped(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorname", "") == _INTERRUPTED


def _rows_checked(
    conn: sqlite3.Connection, sql: str, args: Sequence[Any], check: Callable[[], int]
) -> list[tuple[Any, ...]]:
    """The read's rows, with ``check`` asked every :data:`PROGRESS_STEPS` VM steps (a
    true answer interrupts it) and removed after, whatever happens."""
    conn.set_progress_handler(check, PROGRESS_STEPS)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.set_progress_handler(None, 0)


async def cancellable_rows(
    driver: Driver, sql: str, args: Sequence[Any] = (), *, pace: ReadPace | None = None
) -> list[tuple[Any, ...]]:
    """``driver.rows(sql, args)``: inline when short, stopped early if cancelled.

    ``pace`` (the caller's, kept between its searches) decides whether the read is
    first tried inline; without it, it is not.

    Raises:
        asyncio.CancelledError: the caller was cancelled (the read is abandoned).
        memory.errors.MemoryLayerError: the read failed.
    """
    runner = _connection_runner(driver)
    if runner is None:
        return await driver.rows(sql, args)
    clock = time.perf_counter
    if pace is not None and pace.short:

        def inline(conn: sqlite3.Connection) -> list[tuple[Any, ...]] | None:
            started = clock()
            deadline = started + INLINE_BUDGET
            try:
                rows = _rows_checked(conn, sql, args, lambda: clock() > deadline)
            except sqlite3.OperationalError as exc:
                if _stopped(exc):
                    return None
                raise
            pace.last = clock() - started
            return rows

        done, found = runner.run_now(inline)
        if done and found is not None:
            return found
        pace.last = math.inf  # stopped (or the thread was busy): measured there
    # Not empty once the caller gave up (a list's truth is read and changed atomically
    # under the GIL; a threading.Event costs more to make than the rest of this path).
    gave_up: list[bool] = []
    loop_cpu = _caller_cpu()

    def read(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
        if gave_up:  # cancelled while queued: not started at all
            return []
        started = clock()
        due = started + GIVE_WAY_EVERY

        def check() -> int:
            nonlocal due
            if gave_up:
                return 1
            now = clock()
            if now >= due:
                _give_way()
                due = now + GIVE_WAY_EVERY
            return 0

        with _kept_off(loop_cpu):
            rows = _rows_checked(conn, sql, args, check)
        if pace is not None:
            pace.last = clock() - started
        return rows

    try:
        return await runner.run(read)
    except asyncio.CancelledError:
        gave_up.append(True)
        raise
