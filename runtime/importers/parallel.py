"""Parsing an import in a child process while this process writes.

Parsing a history (reading lines, ``json.loads``, mapping records to events, encoding
payloads and their index text) and writing it (SQLite: the rows, two full-text indexes,
the write-ahead log) each take about one core. In one process they share the GIL: the
writer, back from each SQLite step, waits for the parser's current C call (a
multi-megabyte line) to end. Here the parsing runs in a child process with its own GIL
and this process only writes, so the import takes about as long as the slower of the
two instead of much of their sum.

The conversation (two one-way pipes; everything sent is plain data: chunks of encoded
events, :class:`~runtime.importers.base.Existing`, counts):

* child -> parent: ``("unit", k, session_id)`` for unit *k*, a few units ahead of the
  one being parsed, so its catalog row is looked up before the child needs it;
  ``("chunk", k, chunk)``; ``("end", k)``; finally ``("done",)``, or ``("failed",
  error)`` when the source (or the parsing) failed. Each message also carries what the
  child's report counted since the last one (progress, malformed lines, record types).
* parent -> child: ``(k, existing, skip)``, the answer for unit *k*: what was imported
  from it before, and whether the session is left alone (not from this tool).

Memory stays bounded on both sides: a send blocks until the other side reads it, so the
child is at most one chunk ahead of the writer's batches. The child ignores Ctrl-C (the
parent stops it); if the parent dies the child's next send or read fails and it exits.
If the child dies, the parent raises :class:`~runtime.errors.ImportWorkerError` after
writing what it had received (each chunk a resume point: sessions stay whole or a
prefix the next import completes).

The child is a fresh interpreter (``python -c``, as multiprocessing's ``spawn`` would
start it; ``fork`` would copy the parent's threads in whatever state they are in),
without multiprocessing's re-import of the parent's main module, and in a process group
of its own: a Ctrl-C on the terminal reaches the parent only, which stops the child.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from memory import MemoryBackend, SessionInfo
from memory.errors import TitledError
from runtime.errors import ImportWorkerError
from runtime.importers.base import Chunk, Existing
from runtime.importers.parse_child import Pipe
from runtime.importers.units import (
    ImportReport,
    Reader,
    UnitImport,
    existing_of,
    left_alone,
    let_go,
)
from runtime.importers.writer import Writer

if sys.platform != "win32":  # (the child path is for POSIX systems: pass_fds, groups)
    import fcntl

__all__ = ["ChildUnavailable", "import_in_child"]

#: The child's side of the pipe holds this much before its writes wait (where the OS
#: lets a pipe be sized; it is a bound on memory like the chunk being sent).
PIPE_BYTES: Final = 1024 * 1024
#: Seconds to wait for a stopped child to exit before it is killed.
_EXIT_WAIT: Final = 5.0


class ChildUnavailable(Exception):
    """The parsing process could not be started (nothing was read or written yet)."""


class _Parent:
    """The parent's side: answers lookups, counts and writes what the child sends."""

    def __init__(
        self,
        memory: MemoryBackend,
        tool: str,
        report: ImportReport,
        writer: Writer,
        to_child: Pipe,
    ) -> None:
        self.memory = memory
        self.tool = tool
        self.report = report
        self.writer = writer
        self.to_child = to_child
        self.lookups: dict[int, asyncio.Future[SessionInfo | None]] = {}
        self.session_of: dict[int, str] = {}
        self.seen: set[str] = set()
        #: Units of a session an earlier unit wrote to: answered once that one is done.
        self.deferred: set[int] = set()
        self.ended = -1
        self.lookup_error: BaseException | None = None
        # Answers are written by a thread of their own: the child reads them only when
        # it needs one, and a large one written from the event loop could wait for the
        # child while the child waits for the loop to read its chunk.
        self.sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="turnkeep-answer")

    def announced(self, index: int, session_id: str) -> None:
        self.session_of[index] = session_id
        if session_id in self.seen:
            self.deferred.add(index)
            return
        self.seen.add(session_id)
        task = asyncio.ensure_future(self.memory.find_session(session_id))
        task.add_done_callback(lambda done: self._answer(index, done))
        self.lookups[index] = task

    def _answer(self, index: int, done: asyncio.Future[SessionInfo | None]) -> None:
        if done.cancelled():
            return
        error = done.exception()
        if error is not None:
            # The child waits for this answer: closing its pipe stops it, and the
            # parent then raises this error instead of a crash.
            self.lookup_error = error
            self.sender.submit(self.to_child.close)
            return
        self._send(index, done.result())

    def _send(self, index: int, info: SessionInfo | None) -> None:
        existing = existing_of(info)
        self.sender.submit(self._send_now, (index, existing, left_alone(self.tool, existing)))

    def _send_now(self, answer: tuple[int, Existing | None, bool]) -> None:
        with contextlib.suppress(OSError, ValueError):  # (a child gone: the next read says so)
            self.to_child.send(answer)

    async def answer_deferred(self) -> None:
        """Answer the next unit if it is a session written earlier in this import (read
        once what was written is committed)."""
        index = self.ended + 1
        if index not in self.deferred:
            return
        self.deferred.discard(index)
        await self.writer.settle()
        info = await self.memory.find_session(self.session_of[index])
        done: asyncio.Future[SessionInfo | None] = asyncio.get_running_loop().create_future()
        done.set_result(info)
        self.lookups[index] = done
        self._send(index, info)

    async def unit_state(self, index: int) -> UnitImport:
        info = await self.lookups.pop(index)
        return UnitImport(self.tool, self.session_of.pop(index), info, self.report)

    def cancel_lookups(self) -> None:
        for task in self.lookups.values():
            let_go(task)
        self.lookups.clear()


async def import_in_child(
    memory: MemoryBackend,
    reader: Reader,
    report: ImportReport,
    writer: Writer,
    max_bytes: int | None,
) -> None:
    """Import ``reader`` with its parsing in a child process (see the module docstring).

    Raises:
        ChildUnavailable: the child could not be started (nothing was done yet).
        ImportWorkerError: the child stopped without reporting why (killed, crashed).
        SourceFormatError / OSError / ...: what the parsing raised, as in-process.
        MemoryLayerError: a catalog lookup or a write failed.
    """
    try:
        from_child, to_child, process = _start()
    except OSError as exc:
        raise ChildUnavailable(f"{type(exc).__name__}: {exc}") from exc
    with contextlib.suppress(OSError, ValueError):  # (a child gone: the first read says so)
        to_child.send((reader, max_bytes))
    parent = _Parent(memory, reader.tool, report, writer, to_child)
    receiver = ThreadPoolExecutor(max_workers=1, thread_name_prefix="turnkeep-import-receive")
    loop = asyncio.get_running_loop()

    async def receive() -> tuple[Any, ...]:
        try:
            message: tuple[Any, ...] = await loop.run_in_executor(receiver, from_child.recv)
        except (EOFError, OSError, pickle.UnpicklingError) as exc:
            with contextlib.suppress(subprocess.TimeoutExpired):
                await asyncio.to_thread(process.wait, _EXIT_WAIT)
            if parent.lookup_error is not None:
                raise parent.lookup_error from None
            raise ImportWorkerError(
                "the import's parsing process stopped before it finished "
                f"({_exit_status(process.returncode)})"
            ) from exc
        return message

    state: UnitImport | None = None
    finished = False
    try:
        while True:
            message = await receive()
            kind, tally = message[0], message[-1]
            if tally is not None:
                tally.merge_into(report)
            if kind == "unit":
                parent.announced(message[1], message[2])
                if message[1] == parent.ended + 1:
                    await parent.answer_deferred()
            elif kind == "chunk":
                if state is None:
                    state = await parent.unit_state(message[1])
                chunk = message[2]
                assert isinstance(chunk, Chunk)
                await state.add(chunk, writer)
            elif kind == "end":
                if state is None:
                    state = await parent.unit_state(message[1])
                state.finish()
                state = None
                parent.ended = message[1]
                await parent.answer_deferred()
            elif kind == "failed":
                error, hint = message[1], message[2]
                if isinstance(error, TitledError) and isinstance(hint, str):
                    error.hint = hint
                raise error
            else:
                finished = True
                break
    finally:
        parent.cancel_lookups()
        await asyncio.to_thread(_stop, process, finished)
        parent.sender.shutdown(wait=True)  # (a write to a child gone fails at once)
        to_child.close()
        receiver.shutdown(wait=True)
        from_child.close()


def _start() -> tuple[Pipe, Pipe, subprocess.Popen[bytes]]:
    """Start the child: its two pipe ends passed as file descriptors, this process's
    ``sys.path`` as its own (so it imports the same code)."""
    from_child_fd, child_out_fd = os.pipe()
    child_in_fd, to_child_fd = os.pipe()
    # A larger pipe (Linux): the child writes a frame of 64 KiB ahead instead of waking
    # this process for every 64 KiB it reads.
    with contextlib.suppress(AttributeError, OSError):
        fcntl.fcntl(child_out_fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from runtime.importers.parse_child import serve; serve()",
                str(child_out_fd),
                str(child_in_fd),
            ],
            pass_fds=(child_out_fd, child_in_fd),
            stdin=subprocess.DEVNULL,
            env=env,
            process_group=0,
        )
    except BaseException:
        for fd in (from_child_fd, to_child_fd):
            os.close(fd)
        raise
    finally:
        os.close(child_out_fd)
        os.close(child_in_fd)
    return Pipe(from_child_fd, "rb"), Pipe(to_child_fd, "wb"), process


def _exit_status(code: int | None) -> str:
    if code is None:
        return "it did not exit"
    if code < 0:
        return f"killed by signal {-code}"
    return f"exit code {code}"


def _stop(process: subprocess.Popen[bytes], finished: bool) -> None:
    """Wait for the child to exit after it said it was done; stop it at once otherwise
    (the import failed or was interrupted while it parsed)."""
    if finished:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(_EXIT_WAIT)
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(_EXIT_WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
