"""Run code as an unprivileged user, for permission tests on a machine that runs as root.

File permissions do not stop root, so "a directory without permission" needs a process
that is not root. The interpreter lives under a directory only root may enter, so the
child cannot exec it: :func:`run_as_nobody` forks instead, drops to ``nobody``
(uid/gid 65534) in the child and runs a function there, with everything it needs
imported beforehand by the caller. stdout/stderr go to files the parent opened, so the
child needs no permission to write them.

Also :func:`immutable`, which makes a path immutable with ``chattr +i`` (binds root
too, on ext4 and most Linux filesystems) and always undoes it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["NOBODY", "ChildResult", "can_chattr", "immutable", "open_dir", "run_as_nobody"]

NOBODY = 65534


@dataclass(frozen=True)
class ChildResult:
    """What the unprivileged child did: its exit code and output."""

    code: int
    stdout: str
    stderr: str


def open_dir(prefix: str) -> Path:
    """A new directory under the system temp dir that ``nobody`` can enter (0755).

    The test's own ``tmp_path`` usually sits under a directory only root may enter.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp" if Path("/tmp").is_dir() else None))
    path.chmod(0o755)
    return path


def run_as_nobody(func: Callable[[], int], *, timeout: float = 120) -> ChildResult:
    """Fork, drop to uid/gid 65534 in the child, run ``func`` there; return its result.

    ``func`` returns the exit code; an exception in it gives code 99 with the traceback
    on stderr. The parent waits at most ``timeout`` seconds, then kills the child.

    Raises:
        RuntimeError: not running as root (nothing to drop), or the child was killed.
    """
    if os.geteuid() != 0:
        raise RuntimeError("run_as_nobody needs root (there is no privilege to drop)")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 99
            try:
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                # The parent's sys.stdout may be a test runner's capture object.
                sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
                sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
                code = func()
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                with contextlib.suppress(Exception):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code)
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                raise RuntimeError("the unprivileged child did not finish in time")
            time.sleep(0.005)
        if not os.WIFEXITED(status):
            raise RuntimeError(f"the unprivileged child ended abnormally ({status})")
        out.seek(0)
        err.seek(0)
        return ChildResult(
            os.WEXITSTATUS(status),
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


def can_chattr(directory: Path) -> bool:
    """Whether ``chattr +i`` works here (root, a filesystem that supports it)."""
    if shutil.which("chattr") is None:
        return False
    probe = directory / ".chattr-probe"
    probe.write_bytes(b"")
    try:
        done = subprocess.run(["chattr", "+i", str(probe)], capture_output=True, check=False)
        if done.returncode != 0:
            return False
        try:
            with open(probe, "ab"):
                return False  # immutable, yet writable: chattr did not bind
        except PermissionError:
            return True
    finally:
        subprocess.run(["chattr", "-i", str(probe)], capture_output=True, check=False)
        probe.unlink(missing_ok=True)


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[Path]:
    """Make ``path`` immutable (``chattr +i``) for the block, even for root."""
    subprocess.run(["chattr", "+i", str(path)], check=True, capture_output=True)
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False, capture_output=True)
