"""Wake the event loop when a signal arrives, so Ctrl-C is never lost while it is idle.

``asyncio.run`` handles SIGINT with a plain :func:`signal.signal` handler (the first
one cancels the main task, a second raises ``KeyboardInterrupt``) and sets no wakeup
file descriptor. Python runs that handler only when the main thread executes
bytecode; the C-level handler merely sets a flag. When the loop is idle (a turn waiting
on the model, nothing scheduled) the main thread sits in ``epoll_wait`` with no
timeout, and it is woken only if the kernel interrupts exactly that system call. It
does not when the signal is delivered to another thread (the database thread, an
executor thread), or when it lands just before the main thread enters ``epoll_wait``
(after its last check for pending signals): the flag is set, nobody looks at it, and
the process waits forever. On a loaded machine that window is hit now and then.

:func:`wake_loop_on_signals` closes it: it points :func:`signal.set_wakeup_fd` at a
socket the loop watches, so every signal writes a byte there wherever it is delivered,
the loop wakes, and the pending Python handler runs at once. It changes nothing else:
``asyncio.run``'s handler still decides what SIGINT does.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import threading
from collections.abc import Iterator

__all__ = ["wake_loop_on_signals"]


def _drain(reader: socket.socket) -> None:
    """Empty the wakeup socket (its bytes only served to wake the loop)."""
    with contextlib.suppress(BlockingIOError, InterruptedError):
        while reader.recv(4096):
            pass


@contextlib.contextmanager
def wake_loop_on_signals(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """While inside, every signal the process receives wakes ``loop``.

    Only the main thread can set the wakeup descriptor; elsewhere (and when a wakeup
    descriptor is already set, e.g. by ``loop.add_signal_handler``) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    reader, writer = socket.socketpair()
    try:
        reader.setblocking(False)
        writer.setblocking(False)
        previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        if previous != -1:  # someone else already wakes the loop: leave theirs in place
            signal.set_wakeup_fd(previous)
            yield
            return
        loop.add_reader(reader.fileno(), _drain, reader)
        try:
            yield
        finally:
            loop.remove_reader(reader.fileno())
            current = signal.set_wakeup_fd(-1)
            if current != writer.fileno():  # replaced meanwhile: keep the replacement
                signal.set_wakeup_fd(current)
    finally:
        reader.close()
        writer.close()
