"""A real OpenAI-compatible server on loopback: llama-cpp-python's own, serving SmolLM2.

Started once per test session (see ``tests/runtime/conftest.py``) with the
``chatml-function-calling`` chat format, so a forced ``tool_choice`` makes even the
135M model emit a well-formed tool call, and with an API key, so a wrong key is
refused for real.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LlamaServer", "free_port", "start_llama_server"]

#: Readiness is polled until this many seconds have passed (it is usually ready in ~2 s;
#: a loaded 2-core CI machine can be much slower). Not a timed assertion: a bound.
READY_WITHIN = 180.0


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LlamaServer:
    """A running ``python -m llama_cpp.server``."""

    process: subprocess.Popen[bytes]
    port: int
    api_key: str
    model: str
    log_path: Path

    @property
    def base_url(self) -> str:
        """The API root, as a user would configure it."""
        return f"http://127.0.0.1:{self.port}/v1"

    def log_tail(self, size: int = 4000) -> str:
        """The end of the server's log, for failure messages."""
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and reap it."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)


def _ready(server: LlamaServer) -> bool:
    request = urllib.request.Request(
        f"{server.base_url}/models", headers={"Authorization": f"Bearer {server.api_key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            data = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return bool(data.get("data"))


def start_llama_server(
    model_path: Path, *, log_dir: Path, api_key: str = "tk-test-key", model: str = "smollm2"
) -> LlamaServer:
    """Start the server on a free loopback port and wait until it serves the model.

    Raises:
        RuntimeError: the server exited or did not become ready (with its log tail).
    """
    port = free_port()
    log_path = log_dir / "llama-server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model_path),
        "--model_alias",
        model,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--chat_format",
        "chatml-function-calling",
        "--n_ctx",
        "2048",
        "--api_key",
        api_key,
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = LlamaServer(process, port, api_key, model, log_path)
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"llama_cpp.server exited with {process.returncode}:\n{server.log_tail()}"
            )
        if _ready(server):
            return server
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(
        f"llama_cpp.server was not ready in {READY_WITHIN:g} s:\n{server.log_tail()}"
    )
