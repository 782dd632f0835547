"""Scenario 1: ``turnkeep ask`` killed with SIGKILL at random moments, including mid-save.

Two lanes run side by side on one database file (each its own session, so the kills
also land while the other lane holds the write lock). Each run is a multi-event turn of
the scripted provider: three tool calls in two rounds, four save points. A run is
killed either after a random delay over a run's length, or just after a tool returned
(so the kill lands while that save point is queued, committing, or being reported).

After every run, read with plain sqlite3: the database passes ``integrity_check``;
every event ``--json`` reported as saved is stored exactly so; a run that exited 0 has
its whole turn; nothing stored before is lost or changed; ``seq`` is contiguous; no tool
call is without its result; a run that was not killed exited 0.
"""

from __future__ import annotations

import json
import random
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.reliability.checks import Stored, integrity, read_file, shape_problems
from tests.reliability.procs import Running, child_env, start
from tests.reliability.report import Outcome, Scale

__all__ = ["SCRIPT", "run"]

SCRIPT = {
    "turns": [
        [
            {
                "text": "Checking two things for {user}. ",
                "chunk_size": 16,
                "delay": 0.002,
                "tool_calls": [
                    {"name": "calculator", "arguments": {"expression": "6 * 7"}},
                    {"name": "current_time", "arguments": {}},
                ],
            },
            {
                "text": "And one more. ",
                "delay": 0.002,
                "tool_calls": [{"name": "calculator", "arguments": {"expression": "2 ** 10"}}],
            },
            {"text": "Done: {user} gives 42 and 1024.", "chunk_size": 12, "delay": 0.002},
        ]
    ]
}
#: Events of one finished turn of SCRIPT.
TURN_EVENTS = 10
#: Makes the first save point of a turn a few KB, so a save takes a moment.
FILLER = "lorem ipsum dolor sit amet " * 150


@dataclass
class Lane:
    """One sequence of runs on one session."""

    name: str
    session: str
    confirmed: dict[int, tuple[str, str]] = field(default_factory=dict)  # seq -> kind, payload


@dataclass
class Tally:
    runs: int = 0
    kills: int = 0
    finished: int = 0
    phases: Counter[str] = field(default_factory=Counter)
    questions_checked: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _ask(args: list[str], env: dict[str, str], cwd: Path) -> Running:
    return start(["-m", "tui", "ask", *args], env=env, cwd=cwd)


def _session_of(running: Running) -> str | None:
    for _, line in running.stderr:
        if line.startswith("session: "):
            return line.split(": ", 1)[1].strip()
    return None


def _reported(running: Running) -> list[dict[str, object]]:
    """The events ``--json`` printed (only complete lines count as reported)."""
    events = []
    for line in running.out_lines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def _returned(running: Running) -> int:
    return sum(" returned: " in line or " failed: " in line for _, line in running.stderr)


def _phase(running: Running, reported: int, stored_now: int, stored_before: int) -> str:
    """Where the kill landed, judged from what the process had shown and what is stored."""
    if _session_of(running) is None:
        return "start-up"
    if stored_now > stored_before + reported:
        return "save committed, not yet reported"
    saved_results = sum(1 for e in _reported(running) if e.get("kind") == "tool_result")
    if _returned(running) > saved_results:
        return "save submitted, not committed"
    if reported == TURN_EVENTS:
        return "after the last save"
    return "mid-turn (streaming or tools)"


def _one_run(
    lane: Lane,
    index: int,
    rng: random.Random,
    span: float,
    db: Path,
    script: Path,
    env: dict[str, str],
    cwd: Path,
    outcome: Outcome,
    tally: Tally,
    db_lock: threading.Lock,
) -> None:
    marker = f"{lane.name}-{index}"
    stored_before = len(lane.confirmed)
    running = _ask(
        ["--session", lane.session, "--json", "--script", str(script), f"{marker} {FILLER}"],
        env,
        cwd,
    )
    if rng.random() < 0.5:
        time.sleep(rng.uniform(0.0, span))
    else:
        wanted = rng.randint(1, 3)
        running.wait_for(lambda r: _returned(r) >= wanted, timeout=60)
        time.sleep(rng.uniform(0.0, 0.004))
    killed = running.kill()
    code = running.finish(timeout=120)
    reported = _reported(running)
    with db_lock:  # one reader at a time keeps the numbers of both lanes readable
        stored = read_file(db)
        checked = integrity(db)
    events = stored.events.get(lane.session, [])
    with tally.lock:
        tally.runs += 1
        tally.kills += killed
        tally.finished += not killed
        if killed:
            tally.phases[_phase(running, len(reported), len(events), stored_before)] += 1
    outcome.expect(checked == ["ok"], f"run {marker}: integrity_check says {checked[:3]}")
    if checked != ["ok"]:
        outcome.corrupted += 1
    if not killed:
        outcome.expect(
            code == 0, f"run {marker} was not killed but exited {code}: {running.err_text()[-300:]}"
        )
    by_seq = {e.seq: e for e in events}
    for item in reported:
        seq = int(str(item["seq"]))
        event = by_seq.get(seq)
        if event is None:
            outcome.lost += 1
            outcome.problem(f"run {marker}: reported seq {seq} is not stored")
        elif event.kind != item["kind"] or event.data != item["payload"]:
            outcome.corrupted += 1
            outcome.problem(f"run {marker}: seq {seq} differs from what was reported")
    if _returned(running) > 0:
        # The model was answering, so the question had been saved before it started
        # (issue 12): a turn killed mid-generation keeps its question.
        asked = [
            e
            for e in events
            if e.kind == "user" and str(e.data.get("content", "")).startswith(f"{marker} ")
        ]
        with tally.lock:
            tally.questions_checked += 1
        if len(asked) != 1:
            outcome.lost += 1
            outcome.problem(f"run {marker}: its question is stored {len(asked)}x, not once")
    if code == 0:
        turns_done = [
            e for e in events if e.kind == "assistant" and f"Done: {marker} " in e.data["content"]
        ]
        if len(turns_done) != 1:
            outcome.lost += 1
            outcome.problem(
                f"run {marker} exited 0 but its final answer is stored {len(turns_done)}x"
            )
    for seq, (kind, payload) in lane.confirmed.items():
        event = by_seq.get(seq)
        if event is None:
            outcome.lost += 1
            outcome.problem(f"run {marker}: earlier seq {seq} of {lane.session} vanished")
        elif (event.kind, event.payload) != (kind, payload):
            outcome.corrupted += 1
            outcome.problem(f"run {marker}: earlier seq {seq} of {lane.session} changed")
    own = Stored({lane.session: events}, {lane.session: stored.counters.get(lane.session, (0, 0))})
    for text in shape_problems(own):
        outcome.corrupted += 1
        outcome.problem(f"run {marker}: {text}")
    lane.confirmed = {e.seq: (e.kind, e.payload) for e in events}


def _calibrate(lanes: int, script: Path, env: dict[str, str], cwd: Path) -> tuple[list[str], float]:
    """Start one session per lane with runs that are not killed; return ids and run length."""
    sessions: list[str] = []
    lengths: list[float] = []
    for _ in range(lanes):
        session: str | None = None
        for _ in range(2):
            target = ["--session", session] if session else ["--new"]
            started = time.monotonic()
            running = _ask(
                [*target, "--json", "--script", str(script), f"warm-up {FILLER}"], env, cwd
            )
            code = running.finish(timeout=120)
            lengths.append(time.monotonic() - started)
            if code != 0:
                raise RuntimeError(f"turnkeep ask failed before any fault: {running.err_text()}")
            session = _session_of(running)
        assert session is not None
        sessions.append(session)
    return sessions, statistics.median(lengths)


def run(scale: Scale, workdir: Path) -> Outcome:
    """Run the kill -9 scenario (see the module docstring)."""
    outcome = Outcome("1 kill -9")
    with outcome.timed():
        rng = random.Random(scale.seed)
        db = workdir / "killed.db"
        cwd = workdir / "cwd"
        cwd.mkdir(parents=True, exist_ok=True)
        script = workdir / "script.json"
        script.write_text(json.dumps(SCRIPT), encoding="utf-8")
        env = child_env(
            workdir / "home",
            {"TURNKEEP_DB__PATH": str(db), "TURNKEEP_AGENT__CONTEXT_WINDOW": "262144"},
        )
        lane_count = 2
        sessions, span = _calibrate(lane_count, script, env, cwd)
        lanes = [Lane(f"lane{i}", s) for i, s in enumerate(sessions)]
        stored = read_file(db)
        for lane in lanes:
            lane.confirmed = {e.seq: (e.kind, e.payload) for e in stored.events[lane.session]}
        tally = Tally()
        db_lock = threading.Lock()
        per_lane = (scale.kill_runs + lane_count - 1) // lane_count

        def drive(lane: Lane, seed: int) -> None:
            lane_rng = random.Random(seed)
            for index in range(per_lane):
                try:
                    _one_run(
                        lane,
                        index,
                        lane_rng,
                        span * 1.1,
                        db,
                        script,
                        env,
                        cwd,
                        outcome,
                        tally,
                        db_lock,
                    )
                except Exception as exc:  # the scenario itself broke: say so, go on
                    outcome.problem(f"{lane.name} run {index}: {type(exc).__name__}: {exc}")

        threads = [
            threading.Thread(target=drive, args=(lane, rng.randrange(2**32)), daemon=True)
            for lane in lanes
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        outcome.faults = tally.kills
        final = read_file(db)
        events = sum(len(v) for v in final.events.values())
        outcome.load = (
            f"{tally.runs} `turnkeep ask` runs in {lane_count} parallel lanes, "
            f"{events} events stored"
        )
        outcome.expect(
            tally.kills >= scale.kill_runs * 0.6,
            f"only {tally.kills} of {tally.runs} runs were still running when killed",
        )
        in_save = (
            tally.phases["save committed, not yet reported"]
            + tally.phases["save submitted, not committed"]
        )
        outcome.expect(in_save > 0, "no kill landed while a save was in progress")
        phases = ", ".join(f"{name} {count}" for name, count in sorted(tally.phases.items()))
        outcome.notes.append(
            f"kills by phase: {phases}; {tally.finished} runs finished first; "
            f"{tally.questions_checked} runs killed after the model started kept their question"
        )
    return outcome
