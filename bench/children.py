"""Running a measurement in a fresh Python process, isolated from the user's settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

#: Variables that would point a child at another database or config.
_FOREIGN = ("TURNKEEP_", "TURSO_", "LIBSQL_", "OPENAI_")


def child_env(workdir: Path, **extra: str) -> dict[str, str]:
    """The environment of a child: no turnkeep settings from outside, config under workdir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN)}
    env["XDG_CONFIG_HOME"] = str(workdir / "config")
    env["XDG_DATA_HOME"] = str(workdir / "data")
    # Bytecode is cached (as after a normal install) but in the work directory, for
    # turnkeep and Textual alike; the warm-up run of each command fills the cache.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    env.update(extra)
    return env


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def run_json(args: list[str], workdir: Path, timeout: float = 300, **env: str) -> dict[str, Any]:
    """Run ``python -m <args>`` and parse the JSON object it prints last."""
    proc = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=repo_root(),
        env=child_env(workdir, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def wall_time(command: list[str], workdir: Path, **env: str) -> float:
    """Seconds from spawning ``command`` until it exits (it must exit 0)."""
    started = time.perf_counter()
    proc = subprocess.run(
        command,
        cwd=repo_root(),
        env=child_env(workdir, **env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
        )
    return elapsed
