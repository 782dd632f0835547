"""Scenario 8: secrets never leak, and new local files are owner-only.

Recognisable canary tokens are configured everywhere a secret can be
(``TURNKEEP_DB__AUTH_TOKEN``, ``TURSO_AUTH_TOKEN``, ``OPENAI_API_KEY``; a real JWT with
a canary claim against sqld). Every command runs, on an embedded file and on sqld, and
the error paths too (a bad or foreign token, an unreachable and a silent server, a
token in the URL, clear text to another host, a model server that refuses or echoes the
key), plain and with ``--debug``. The TUI's screens are exported headless
(:mod:`.secrets_tui`). Every stdout/stderr, every exported screen, every exception text
and every file written under the campaign's directories is scanned: no canary appears.
New database files are 0600 (their -wal/-shm too) and the default data directory 0700,
even under ``umask 000``.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import secrets as random_secrets
import socket
import stat
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from runtime.settings import load_settings
from runtime.store import open_memory
from tests.reliability import secrets_tui
from tests.reliability.procs import child_env, run_cli
from tests.reliability.report import Outcome, Scale
from tests.support.sqld import JwtKeys, SqldServer, free_port

__all__ = ["Canaries", "run"]


class Canaries:
    """The secrets of one run, and a scanner for them."""

    def __init__(self, keys: JwtKeys) -> None:
        tag = random_secrets.token_hex(6)
        self.db = f"tk-canary-db-{tag}"
        self.turso = f"tk-canary-turso-{tag}"
        self.openai = f"sk-canary-openai-{tag}"
        self.jwt = keys.token("rw", canary=f"tk-canary-jwt-{tag}")
        self.jwt_turso = keys.token("rw", canary=f"tk-canary-jwt2-{tag}")
        self.foreign = keys.foreign_token()
        self.scanned = 0

    def needles(self) -> list[str]:
        out = [self.db, self.turso, self.openai]
        for token in (self.jwt, self.jwt_turso, self.foreign):
            out.append(token)
            out.extend(token.split(".")[1:])  # the payload and signature parts alone
        return out

    def leaks(self, text: str | bytes) -> list[str]:
        """The canaries found in ``text`` (bytes are searched as UTF-8 and Latin-1)."""
        self.scanned += 1
        if isinstance(text, bytes):
            return [n for n in self.needles() if n.encode() in text]
        return [n for n in self.needles() if n in text]


def _scan(canaries: Canaries, label: str, text: str | bytes, outcome: Outcome) -> None:
    for needle in canaries.leaks(text):
        outcome.problem(f"{label}: a secret leaked ({needle[:14]}...)")


def _commands(session_hint: str, out: Path) -> list[list[str]]:
    return [
        ["--help"],
        ["db", "--help"],
        ["sessions", "--help"],
        ["ask", "--help"],
        ["db", "migrate"],
        ["ask", "--provider", "scripted", "hello canary"],
        ["ask", "--provider", "scripted", "--json", "and again"],
        ["db", "status"],
        ["db", "status", "--json"],
        ["sessions", "list"],
        ["sessions", "list", "--json"],
        ["sessions", "show", session_hint],
        ["sessions", "show", session_hint, "--json"],
        ["sessions", "rename", session_hint, "renamed"],
        ["sessions", "export", "--all", "-o", str(out / "all.json"), "--force"],
        ["sessions", "export", session_hint, "--format", "markdown", "-o", str(out / "s.md")],
        ["sessions", "import", str(out / "all.json")],
        ["sessions", "import", "--as-new", str(out / "all.json")],
        ["db", "backup", str(out / "backup.bin"), "--force"],
        ["sessions", "rm", session_hint, "--yes"],
        ["sessions", "show", "no-such-session"],
    ]


def _run_all(
    label: str,
    env: dict[str, str],
    cwd: Path,
    canaries: Canaries,
    outcome: Outcome,
    thorough: bool,
) -> int:
    """Every command on one database (each also with ``--debug`` when ``thorough``)."""
    out = cwd / f"out-{label}"
    out.mkdir(parents=True, exist_ok=True)
    first = run_cli(["ask", "--provider", "scripted", "make a session"], env=env, cwd=cwd)
    session = next(
        (ln.split(": ", 1)[1] for ln in first.stderr.splitlines() if ln.startswith("session: ")),
        "missing",
    )
    outcome.expect(first.returncode == 0, f"{label}: ask failed: {first.stderr[-300:]}")
    count = 0
    for argv in _commands(session, out):
        for debug in ([], ["--debug"]) if thorough and argv[0] != "--help" else ([],):
            done = run_cli([*debug, *argv], env=env, cwd=cwd)
            count += 1
            _scan(canaries, f"{label}: {' '.join(argv)}", done.stdout + done.stderr, outcome)
            if "--help" not in argv and argv[-1] != "no-such-session" and not debug:
                outcome.expect(
                    done.returncode == 0,
                    f"{label}: {' '.join(argv)} exited {done.returncode}: {done.stderr[-200:]}",
                )
    return count


@contextmanager
def _model_server(echo_key: bool) -> Iterator[int]:
    """An OpenAI-compatible endpoint on loopback that refuses every key (401), optionally
    quoting the key it was sent, as some servers do."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            key = self.headers.get("Authorization", "").removeprefix("Bearer ")
            shown = key if echo_key else "sk-...redacted"
            body = json.dumps(
                {"error": {"message": f"Incorrect API key provided: {shown}", "code": "invalid"}}
            ).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def _silent_server() -> Iterator[int]:
    """A listener that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


def _error_paths(
    server: SqldServer,
    home: Path,
    cwd: Path,
    canaries: Canaries,
    outcome: Outcome,
    thorough: bool,
) -> int:
    closed = free_port()
    cases: dict[str, dict[str, str]] = {
        "bad token (ws)": {
            "TURNKEEP_DB__URL": server.ws_url,
            "TURNKEEP_DB__AUTH_TOKEN": canaries.db,
        },
        "bad token (http)": {
            "TURNKEEP_DB__URL": server.http_url,
            "TURNKEEP_DB__AUTH_TOKEN": canaries.db,
        },
        "foreign token": {
            "TURNKEEP_DB__URL": server.ws_url,
            "TURNKEEP_DB__AUTH_TOKEN": canaries.foreign,
        },
        "bad Turso token": {
            "TURSO_DATABASE_URL": server.ws_url,
            "TURSO_AUTH_TOKEN": canaries.turso,
        },
        "unreachable": {
            "TURNKEEP_DB__URL": f"ws://127.0.0.1:{closed}",
            "TURNKEEP_DB__AUTH_TOKEN": canaries.jwt,
        },
        "token in the URL": {
            "TURNKEEP_DB__URL": f"{server.ws_url}?authToken={canaries.db}",
        },
        "password in the URL": {"TURNKEEP_DB__URL": f"libsql://me:{canaries.db}@example.com"},
        "clear text to another host": {
            "TURNKEEP_DB__URL": "ws://example.com",
            "TURNKEEP_DB__AUTH_TOKEN": canaries.db,
        },
    }
    count = 0
    with _silent_server() as silent:
        cases["silent server"] = {
            "TURNKEEP_DB__URL": f"ws://127.0.0.1:{silent}",
            "TURNKEEP_DB__AUTH_TOKEN": canaries.jwt,
            "TURNKEEP_DB__TIMEOUT": "1",
        }
        for label, extra in cases.items():
            env = child_env(home, extra)
            commands = [["sessions", "list"], ["ask", "--provider", "scripted", "hi"]]
            if thorough:
                commands.append(["db", "status", "--json"])
            for argv in commands:
                for debug in ([], ["--debug"]) if thorough or argv[0] == "sessions" else ([],):
                    done = run_cli([*debug, *argv], env=env, cwd=cwd, timeout=120)
                    count += 1
                    _scan(
                        canaries, f"{label}: {' '.join(argv)}", done.stdout + done.stderr, outcome
                    )
                    if not debug and argv[0] != "db":
                        outcome.expect(
                            done.returncode in (2, 3) and done.stderr.startswith("turnkeep: "),
                            f"{label}: {' '.join(argv)}: {done.returncode} {done.stderr[-200:]}",
                        )
    for echo in (False, True):
        with _model_server(echo) as port:
            env = child_env(
                home,
                {
                    "OPENAI_API_KEY": canaries.openai,
                    "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1",
                    "TURNKEEP_DB__PATH": str(cwd / "openai.db"),
                },
            )
            for debug in ([], ["--debug"]):
                argv = [*debug, "ask", "--provider", "openai", "--model", "m", "hello"]
                done = run_cli(argv, env=env, cwd=cwd)
                count += 1
                label = f"model server that {'echoes' if echo else 'hides'} the key"
                _scan(canaries, f"{label}: ask", done.stdout + done.stderr, outcome)
                outcome.expect(done.returncode != 0, f"{label}: ask succeeded with a refused key")
    return count


def _modes(workdir: Path, outcome: Outcome) -> None:
    """A new default database: owner-only file, WAL and directory, even under umask 000."""
    home = workdir / "modes-home"
    env = child_env(home)
    old = os.umask(0)
    try:
        done = run_cli(["db", "migrate"], env=env, cwd=workdir)
        outcome.expect(done.returncode == 0, f"db migrate on a new home: {done.stderr[-200:]}")
        data_dir = home / "data" / "turnkeep"
        db = data_dir / "turnkeep.db"
        for path, wanted in ((data_dir, 0o700), (db, 0o600)):
            mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else None
            outcome.expect(
                mode == wanted, f"{path.name} is {mode and oct(mode)}, wanted {oct(wanted)}"
            )

        async def while_open() -> None:
            saved = {k: os.environ.get(k) for k in ("XDG_DATA_HOME", "XDG_CONFIG_HOME")}
            os.environ.update(
                XDG_DATA_HOME=env["XDG_DATA_HOME"], XDG_CONFIG_HOME=env["XDG_CONFIG_HOME"]
            )
            try:
                memory = await open_memory(load_settings())
                try:
                    for suffix in ("-wal", "-shm"):
                        side = Path(f"{db}{suffix}")
                        mode = stat.S_IMODE(side.stat().st_mode) if side.exists() else None
                        outcome.expect(mode == 0o600, f"{side.name} is {mode and oct(mode)}")
                finally:
                    await memory.close()
            finally:
                for key, value in saved.items():
                    os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)

        asyncio.run(while_open())
        for name in ("all.json", "s.md", "backup.bin"):
            for path in workdir.rglob(name):
                mode = stat.S_IMODE(path.stat().st_mode)
                outcome.expect(mode == 0o600, f"{path.relative_to(workdir)} is {oct(mode)}")
    finally:
        os.umask(old)


def _scan_files(root: Path, skip: set[Path], canaries: Canaries, outcome: Outcome) -> int:
    count = 0
    for path in root.rglob("*"):
        if not path.is_file() or any(path.is_relative_to(s) for s in skip):
            continue
        count += 1
        _scan(canaries, f"file {path.relative_to(root)}", path.read_bytes(), outcome)
    return count


def run(scale: Scale, workdir: Path) -> Outcome:
    """Run the secrets scenario (see the module docstring)."""
    outcome = Outcome("8 secrets")
    thorough = scale.name == "full"
    with outcome.timed():
        keys = JwtKeys.generate(workdir)
        canaries = Canaries(keys)
        home = workdir / "home"
        cwd = workdir / "cwd"
        cwd.mkdir(parents=True, exist_ok=True)
        sqld_dir = workdir / "sqld"
        embedded = child_env(
            home,
            {
                "TURNKEEP_DB__PATH": str(workdir / "secrets.db"),
                "TURNKEEP_DB__AUTH_TOKEN": canaries.db,
                "TURSO_AUTH_TOKEN": canaries.turso,
                "OPENAI_API_KEY": canaries.openai,
            },
        )
        with SqldServer(sqld_dir, keys) as server, ThreadPoolExecutor(2) as pool:
            lanes = [pool.submit(_run_all, "embedded", embedded, cwd, canaries, outcome, thorough)]
            for kind in ("ws", "http") if thorough else ("ws",):
                remote = child_env(
                    home,
                    {
                        "TURNKEEP_DB__URL": server.url(kind),
                        "TURNKEEP_DB__AUTH_TOKEN": canaries.jwt,
                        "TURSO_AUTH_TOKEN": canaries.jwt_turso,
                        "OPENAI_API_KEY": canaries.openai,
                    },
                )
                lanes.append(
                    pool.submit(_run_all, f"sqld {kind}", remote, cwd, canaries, outcome, thorough)
                )
            errors = pool.submit(_error_paths, server, home, cwd, canaries, outcome, thorough)
            runs = sum(lane.result() for lane in lanes)
            faults = errors.result()
            screens = secrets_tui.run_into(server, workdir, canaries, outcome)
        _modes(workdir, outcome)
        files = _scan_files(workdir, {sqld_dir}, canaries, outcome)
        outcome.faults = faults
        outcome.load = (
            f"{runs + faults} command runs, {screens} screens and error texts, "
            f"{files} files: {canaries.scanned} texts scanned"
        )
    return outcome
