"""Ctrl-C is never lost while ``turnkeep ask`` waits on the model (a real SIGINT).

``asyncio.run`` handles SIGINT with a Python-level handler that runs only when the main
thread executes bytecode. While a turn hangs on the model the loop is idle and the main
thread sits in ``epoll_wait`` with no timeout; a SIGINT that does not interrupt exactly
that system call (delivered to another thread, or landing just before the call) was
only noted, and the process waited forever (see :mod:`tui.cli.signal_wakeup`).

The second window is microseconds wide and hit only under load; the first one is the
same loss and can be driven on purpose: the child below runs the real ``turnkeep``
entry point plus one extra thread that, when told to, sends the process's SIGINT to
itself (``pthread_kill``), so the main thread's ``epoll_wait`` is not interrupted.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_ask import assert_saved_as_cancelled, start_hung_ask
from tui.cli.signal_wakeup import wake_loop_on_signals

#: The ``turnkeep`` entry point, plus a thread that takes a SIGINT when a line arrives
#: on stdin (``ask`` is given its message as an argument, so stdin is free).
CHILD = """
import signal, sys, threading, time

signal.signal(signal.SIGINT, signal.default_int_handler)  # as a foreground job has it

MAIN = threading.get_native_id()

def main_thread_waits_in_epoll():
    try:
        with open(f"/proc/self/task/{MAIN}/wchan") as wchan:
            return "ep" in wchan.read()
    except OSError:
        return True  # cannot tell: interrupt anyway

def interrupt_off_the_main_thread():
    sys.stdin.readline()
    # Wait (bounded) until the loop is idle: the main thread seen in epoll_wait 20
    # times in a row; only then is a SIGINT that does not interrupt it really lost.
    idle = 0
    for _ in range(1000):
        idle = idle + 1 if main_thread_waits_in_epoll() else 0
        if idle == 20:
            break
        time.sleep(0.01)
    signal.pthread_kill(threading.get_ident(), signal.SIGINT)

threading.Thread(target=interrupt_off_the_main_thread, daemon=True).start()
from tui.start import main
sys.exit(main())
"""


def test_sigint_on_another_thread_still_cancels_the_idle_turn(db: Path, tmp_path: Path) -> None:
    process = start_hung_ask(tmp_path, CHILD, stdin=subprocess.PIPE)
    assert process.stdin is not None
    process.stdin.write(b"interrupt\n")
    process.stdin.flush()
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER is not needed to fail
        process.communicate()
        pytest.fail("the SIGINT was lost: ask kept waiting on the hung turn")
    assert process.returncode == 130, stderr.decode()
    assert b"interrupted; the partial turn was saved as cancelled" in stderr
    assert_saved_as_cancelled(db, stderr)


def test_the_wakeup_descriptor_is_set_only_while_inside() -> None:
    """Every command runs with a wakeup descriptor; afterwards the process has none again."""

    async def inside() -> int:
        with wake_loop_on_signals(asyncio.get_running_loop()):
            current = signal.set_wakeup_fd(-1)
            signal.set_wakeup_fd(current)
            return current

    assert signal.set_wakeup_fd(-1) == -1
    assert asyncio.run(inside()) != -1
    assert signal.set_wakeup_fd(-1) == -1
