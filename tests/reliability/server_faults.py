"""Scenario 3: server faults while turns are being saved.

Two persistence workers (one over WebSocket, one over HTTP) keep saving turns into sqld
through a loopback proxy while the server:

* is stopped and restarted (SIGTERM, same port and data);
* crashes (SIGKILL) and is restarted;
* hangs: every sqld process gets SIGSTOP (the kernel still accepts connections, nobody
  answers), then SIGCONT; requests sent meanwhile are processed late;
* becomes a black hole: the proxy accepts connections and never answers.

Expected for every fault: each worker reports the failure (state ``retrying`` with the
error), keeps its save points in order, and saves all of them after recovery; read
back directly from sqld, every turn is stored exactly once and in order.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
from collections.abc import Callable
from pathlib import Path

from memory import MemoryBackend
from runtime.persistence import PersistenceWorker, WorkerState
from runtime.settings import load_settings
from runtime.store import open_memory
from tests.reliability.checks import read_remote
from tests.reliability.procs import child_env, start
from tests.reliability.report import Outcome, Scale
from tests.reliability.writers import verify_turns
from tests.support.fault_proxy import FaultProxy
from tests.support.sqld import JwtKeys, SqldServer
from tests.support.turn_writer import turn_events

__all__ = ["FAULTS", "run"]

FAULTS = ("stop-restart", "crash-restart", "sigstop", "black-hole")
#: Seconds any remote call may take in this scenario (a hung call becomes an error).
CALL_TIMEOUT = 0.5


class Client:
    """One app-like writer: settings, ``open_memory``, a persistence worker."""

    def __init__(self, name: str, session: str, memory: MemoryBackend) -> None:
        self.name = name
        self.session = session
        self.memory = memory
        self.worker = PersistenceWorker(memory, retry_initial=0.05, retry_max=1.0)
        self.turns = 0
        self.told: dict[int, list[int]] = {}
        self.states: list[WorkerState] = []
        self.worker.add_listener(self.states.append)

    def submit(self) -> None:
        self.turns += 1
        turn = self.turns

        def saved(seqs: list[int]) -> None:
            self.told[turn] = seqs

        self.worker.submit(self.session, turn_events(self.name, turn), on_saved=saved)

    def failures_since(self, mark: int) -> list[WorkerState]:
        return [s for s in self.states[mark:] if s.status == "retrying" and s.last_error]


async def _until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def _inject(fault: str, server: SqldServer, proxy: FaultProxy) -> None:
    pgid = server._proc.pid if server._proc is not None else None
    if fault == "stop-restart":
        server.stop()
    elif fault == "crash-restart":
        assert pgid is not None
        os.killpg(pgid, signal.SIGKILL)
        server.stop()
        proxy.drop_connections()
    elif fault == "sigstop":
        assert pgid is not None
        os.killpg(pgid, signal.SIGSTOP)
    elif fault == "black-hole":
        proxy.black_hole = True


def _heal(fault: str, server: SqldServer, proxy: FaultProxy) -> None:
    if fault in ("stop-restart", "crash-restart"):
        server.start()
    elif fault == "sigstop":
        assert server._proc is not None
        os.killpg(server._proc.pid, signal.SIGCONT)
    elif fault == "black-hole":
        proxy.black_hole = False


async def _cycle(
    fault: str,
    clients: list[Client],
    server: SqldServer,
    proxy: FaultProxy,
    turns: int,
    hold: int,
) -> list[str]:
    """One fault while the clients save; returns what went wrong."""
    problems: list[str] = []
    marks = [len(c.states) for c in clients]
    for _ in range(turns // 2):
        for client in clients:
            client.submit()
        await asyncio.sleep(0.01)
    for _ in range(5):  # a burst, so save points are in flight when the fault hits
        for client in clients:
            client.submit()
    await asyncio.sleep(0.003)
    await asyncio.to_thread(_inject, fault, server, proxy)
    for _ in range(turns - turns // 2):
        for client in clients:
            client.submit()
        await asyncio.sleep(0.01)
    await _until(lambda: all(c.failures_since(m) for c, m in zip(clients, marks, strict=True)), 30)
    for client, mark in zip(clients, marks, strict=True):
        if not client.failures_since(mark):
            problems.append(f"{fault}: the {client.name} worker never reported a failure")
    # Hold the fault while retries go on (and, under SIGSTOP, requests pile up in sqld).
    for _ in range(hold):
        for client in clients:
            client.submit()
        await asyncio.sleep(0.1)
    await asyncio.to_thread(_heal, fault, server, proxy)
    for client in clients:
        if not await client.worker.flush(120):
            problems.append(
                f"{fault}: the {client.name} worker did not save its queue after recovery "
                f"({client.worker.state})"
            )
        elif client.worker.state.last_error is not None:
            problems.append(f"{fault}: {client.name} still shows {client.worker.state.last_error}")
    return problems


async def _campaign(scale: Scale, workdir: Path, outcome: Outcome) -> int:
    # Anything the event loop would print on its own (an error in a callback, a task
    # that failed unseen) would reach a user's terminal: it counts as a problem.
    def on_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        outcome.problem(
            f"the event loop reported: {context.get('message')} {context.get('exception')!r}"
        )

    asyncio.get_running_loop().set_exception_handler(on_loop_error)
    keys = JwtKeys.generate(workdir)
    server = SqldServer(workdir / "sqld", keys)
    await asyncio.to_thread(server.start)
    token = server.token()
    clients: list[Client] = []
    faults = 0
    try:
        with FaultProxy(server.port) as proxy:
            for kind, session in (("ws", "faults-ws"), ("http", "faults-http")):
                settings = load_settings(
                    db={
                        "url": f"{kind}://{proxy.url_host}",
                        "auth_token": token,
                        "timeout": CALL_TIMEOUT,
                    }
                )
                clients.append(Client(kind, session, await open_memory(settings)))
            for client in clients:
                await client.worker.start()
            rng = random.Random(scale.seed)
            for _ in range(scale.server_cycles):
                for fault in FAULTS:
                    hold = rng.randint(3, 15)  # tenths of a second
                    problems = await _cycle(fault, clients, server, proxy, scale.server_turns, hold)
                    for text in problems:
                        outcome.problem(text)
                    faults += 1
            for client in clients:
                unsaved = await client.worker.stop(30)
                outcome.expect(not unsaved, f"{client.name}: {len(unsaved)} save points unsaved")
        stored = await read_remote(server.ws_url, token)
        expected = {c.session: {c.name: c.turns} for c in clients}
        lost, corrupted, problems = verify_turns(
            stored, expected, {c.name: c.told for c in clients}
        )
        outcome.lost += lost
        outcome.corrupted += corrupted
        for text in problems:
            outcome.problem(text)
        outcome.load = (
            f"2 persistence workers (ws, http), {sum(c.turns for c in clients)} turns "
            f"saved through {len(FAULTS)} kinds of server fault"
        )
    finally:
        for client in clients:
            await client.memory.close()
        await asyncio.to_thread(server.stop)
    return faults


HANG_SCRIPT = {
    "turns": [
        [
            {
                "text": "Working. ",
                "delay": 0.3,
                "tool_calls": [{"name": "calculator", "arguments": {"expression": "6 * 7"}}],
            },
            {"text": "Done.", "chunk_size": 2, "delay": 0.3},
        ]
    ]
}


def _ask_through_a_hang(workdir: Path, outcome: Outcome) -> int:
    """``turnkeep ask`` while sqld hangs mid-turn: saved after it resumes, exit 0, and
    nothing but its own lines on stderr (no traceback from the client library)."""
    keys = JwtKeys.generate(workdir)
    script = workdir / "hang.json"
    script.write_text(json.dumps(HANG_SCRIPT))
    with SqldServer(workdir / "sqld-ask", keys) as server:
        env = child_env(
            workdir / "home",
            {
                "TURNKEEP_DB__URL": server.ws_url,
                "TURNKEEP_DB__AUTH_TOKEN": server.token(),
                "TURNKEEP_DB__TIMEOUT": str(CALL_TIMEOUT),
            },
        )
        running = start(["-m", "tui", "ask", "--script", str(script), "hi"], env=env, cwd=workdir)
        opened = running.wait_for(lambda r: any("session:" in ln for _, ln in r.stderr), 60)
        outcome.expect(opened, f"ask did not start: {running.err_text()[-300:]}")
        assert server._proc is not None
        os.killpg(server._proc.pid, signal.SIGSTOP)
        running.wait_for(lambda r: False, timeout=2.5)  # several calls time out meanwhile
        os.killpg(server._proc.pid, signal.SIGCONT)
        code = running.finish(timeout=120)
    stray = [
        ln for _, ln in running.stderr if not ln.startswith(("session: ", "[tool] ")) and ln.strip()
    ]
    outcome.expect(code == 0, f"ask through a hung server exited {code}: {running.err_text()}")
    outcome.expect(not stray, f"ask through a hung server printed: {stray[:4]}")
    return 1


def run(scale: Scale, workdir: Path) -> Outcome:
    """Run the server-faults scenario (see the module docstring)."""
    outcome = Outcome("3 server faults")
    with outcome.timed():
        outcome.faults = asyncio.run(_campaign(scale, workdir, outcome))
        outcome.faults += _ask_through_a_hang(workdir, outcome)
    return outcome
