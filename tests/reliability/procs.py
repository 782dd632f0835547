"""Running real turnkeep processes for the campaign: isolated environments, bounded waits,
and output captured line by line with the moment each line arrived.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ROOT", "Running", "child_env", "run_cli", "start"]

ROOT = Path(__file__).resolve().parents[2]
_SCRUB = ("TURNKEEP_", "TURSO_", "OPENAI_", "LIBSQL_", "SQLD_")


def child_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment that cannot reach the user's real config or data.

    No ``TURNKEEP_*``/``TURSO_*``/``OPENAI_*`` variables survive; the XDG directories
    point into ``home``; the checkout is importable from any working directory.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB)}
    for name in ("data", "config", "state", "cache"):
        (home / name).mkdir(parents=True, exist_ok=True)
    env.update(
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
        HOME=str(home),
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        COLUMNS="120",
    )
    env.pop("PYTHONSTARTUP", None)
    env.update(extra or {})
    return env


@dataclass
class Running:
    """A child process whose stdout/stderr lines are collected as they arrive."""

    process: subprocess.Popen[bytes]
    stdout: list[tuple[float, str]] = field(default_factory=list)
    stderr: list[tuple[float, str]] = field(default_factory=list)
    partial_stdout: bytes = b""
    _threads: list[threading.Thread] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def _pump(self, stream: object, sink: list[tuple[float, str]], is_stdout: bool) -> None:
        buffer = b""
        read = stream.read1  # type: ignore[attr-defined]
        while True:
            chunk = read(65536)
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            with self._changed:
                now = time.monotonic()
                sink.extend((now, line.decode("utf-8", "replace")) for line in lines)
                self._changed.notify_all()
        with self._changed:
            if is_stdout:
                self.partial_stdout = buffer
            elif buffer:
                sink.append((time.monotonic(), buffer.decode("utf-8", "replace")))
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[Running], bool], timeout: float) -> bool:
        """Wait until ``predicate(self)`` holds or the process ended; True if it holds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._alive_pumps()):
                    return predicate(self)
                self._changed.wait(min(left, 0.05))
            return True

    def _alive_pumps(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def kill(self) -> bool:
        """SIGKILL the process; True when it was still running (a kill was injected)."""
        if self.process.poll() is not None:
            return False
        try:
            os.kill(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return False
        self.process.wait(timeout=60)
        return self.process.returncode == -signal.SIGKILL

    def finish(self, timeout: float = 120) -> int:
        """Wait for the end (killing it past ``timeout``) and for its output; the exit code."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        for thread in self._threads:
            thread.join(timeout=30)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        return self.process.returncode

    def out_lines(self) -> list[str]:
        return [line for _, line in self.stdout]

    def err_text(self) -> str:
        return "\n".join(line for _, line in self.stderr)


def start(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    stdin: int | None = subprocess.DEVNULL,
    preexec_fn: Callable[[], None] | None = None,
) -> Running:
    """Start ``python ARGS`` (this interpreter) and collect its output."""
    process = subprocess.Popen(
        [sys.executable, *args],
        env=dict(env),
        cwd=cwd,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=preexec_fn,
    )
    running = Running(process)
    for stream, sink, is_stdout in (
        (process.stdout, running.stdout, True),
        (process.stderr, running.stderr, False),
    ):
        thread = threading.Thread(target=running._pump, args=(stream, sink, is_stdout), daemon=True)
        thread.start()
        running._threads.append(thread)
    return running


def run_cli(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    timeout: float = 120,
    stdin: bytes | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``turnkeep ARGS`` (as ``python -m tui``) to the end; output decoded as UTF-8."""
    done = subprocess.run(
        [sys.executable, "-m", "tui", *args],
        env=dict(env),
        cwd=cwd,
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return _decoded(done)


def _decoded(done: subprocess.CompletedProcess[bytes]) -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess(
        done.args,
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )
