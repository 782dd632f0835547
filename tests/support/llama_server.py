"""A real OpenAI-compatible server on loopback: llama.cpp's own, serving SmolLM2.

The server is llama.cpp's HTTP server as shipped in the prebuilt ``xllamacpp`` wheel
(nothing compiles), run as a subprocess of this module (``python -m
tests.support.llama_server``). It is started once per test session (see
``tests/runtime/conftest.py``) with an API key, so a wrong key is refused for real, and
with turnkeep's ChatML tool template whose answer opens with ``<tool_call>`` whenever
tools are offered: llama.cpp's server ignores a ``tool_choice`` naming one function,
and this makes even the 135M model emit a well-formed, grammar-constrained tool call.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LlamaServer", "forcing_template", "free_port", "start_llama_server"]

#: Readiness is polled until this many seconds have passed (it is usually ready in ~1 s;
#: a loaded 2-core CI machine can be much slower). Not a timed assertion: a bound.
READY_WITHIN = 180.0
REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def forcing_template() -> str:
    """turnkeep's ChatML tool template with a worked example of a tool call before the
    conversation whenever tools are offered, so that with ``tool_choice: required`` the
    135M model opens its answer with a call (llama.cpp's grammar then holds the call's
    JSON to the tool's schema)."""
    from runtime.providers.chatml_tools import CHATML_TOOLS_TEMPLATE

    marker = "{%- for message in messages -%}"
    assert marker in CHATML_TOOLS_TEMPLATE
    example = (
        "{%- if tools -%}\n"
        "<|im_start|>user\nPlease use a tool.<|im_end|>\n"
        '<|im_start|>assistant\n<tool_call>{"name": "{{ tools[0].function.name }}", '
        '"arguments": {}}</tool_call>\n<|im_end|>\n'
        "{% endif -%}\n"
    )
    return CHATML_TOOLS_TEMPLATE.replace(marker, example + marker, 1)


@dataclass
class LlamaServer:
    """A running llama.cpp server (xllamacpp) subprocess."""

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
        "tests.support.llama_server",
        "--model",
        str(model_path),
        "--alias",
        model,
        "--port",
        str(port),
        "--n-ctx",
        "2048",
        "--api-key",
        api_key,
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=REPO_ROOT,
            start_new_session=True,
        )
    server = LlamaServer(process, port, api_key, model, log_path)
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the llama.cpp server exited with {process.returncode}:\n{server.log_tail()}"
            )
        if _ready(server):
            return server
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(
        f"the llama.cpp server was not ready in {READY_WITHIN:g} s:\n{server.log_tail()}"
    )


def serve(argv: list[str] | None = None) -> None:
    """Run llama.cpp's server on 127.0.0.1 until SIGTERM/SIGINT (the subprocess side)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--alias", default="smollm2")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--api-key", default="")
    args = parser.parse_args(argv)

    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = [args.alias]
    params.n_ctx = args.n_ctx
    params.n_parallel = 1
    params.hostnames = ["127.0.0.1"]
    params.port = args.port
    params.api_keys = [args.api_key] if args.api_key else []
    params.use_jinja = True
    params.chat_template = forcing_template()
    params.verbosity = int(os.environ.get("TURNKEEP_TEST_SERVER_VERBOSITY", "2"))
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    server = xllamacpp.Server(params)
    print(f"serving on {server.listening_address}", flush=True)
    while not done.wait(1.0):
        pass
    del server


if __name__ == "__main__":
    serve()
