"""Scenario 2: four processes writing turns into one database, two into the same session.

Each writer is a separate process that saves turns the way the app does (settings,
``open_memory``, the persistence worker; see ``tests/support/turn_writer.py``), all
released at the same moment. Run against one embedded file, then against sqld (two
writers over WebSocket, two over HTTP). Expected: every turn stored exactly once, its
four events contiguous and in order, each writer's turns in the order it saved them,
``seq`` contiguous per session, the seqs each writer was told are the stored ones, and
no error reached a writer (no retry, nothing failed, exit 0).
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from tests.reliability.checks import Stored, integrity, read_file, read_remote, shape_problems
from tests.reliability.procs import Running, child_env, start
from tests.reliability.report import Outcome, Scale
from tests.support.sqld import JwtKeys, SqldServer

__all__ = ["WRITERS", "run", "verify_turns"]

#: (writer, session): two writers share ``shared``.
WRITERS = (("w1", "shared"), ("w2", "shared"), ("w3", "own-3"), ("w4", "own-4"))
KINDS = ["user", "tool_call", "tool_result", "assistant"]


def _messages(running: Running) -> list[dict[str, Any]]:
    out = []
    for line in running.out_lines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def verify_turns(
    stored: Stored, expected: dict[str, dict[str, int]], told: dict[str, dict[int, list[int]]]
) -> tuple[int, int, list[str]]:
    """Check every writer's turns in ``stored``.

    Args:
        expected: session -> writer -> number of turns it saved.
        told: writer -> turn -> the seqs the writer was told.

    Returns:
        (lost, corrupted, problems)
    """
    lost = corrupted = 0
    problems = shape_problems(stored)
    corrupted += len(problems)
    for session, writers in expected.items():
        events = stored.events.get(session, [])
        seen: dict[tuple[str, int], list[int]] = defaultdict(list)
        kinds: dict[tuple[str, int], list[str]] = defaultdict(list)
        for event in events:
            data = event.data
            key = (str(data.get("writer")), int(data.get("turn", -1)))
            seen[key].append(event.seq)
            kinds[key].append(event.kind)
        for writer, turns in writers.items():
            order: list[int] = []
            for turn in range(1, turns + 1):
                seqs = seen.pop((writer, turn), [])
                if not seqs:
                    lost += 1
                    problems.append(f"{session}: turn {turn} of {writer} is missing")
                    continue
                order.append(seqs[0])
                if kinds[(writer, turn)] != KINDS or seqs != list(
                    range(seqs[0], seqs[0] + len(KINDS))
                ):
                    corrupted += 1
                    problems.append(
                        f"{session}: turn {turn} of {writer} stored as "
                        f"{kinds[(writer, turn)]} at {seqs} (duplicated or split)"
                    )
                if told.get(writer, {}).get(turn, seqs) != seqs:
                    corrupted += 1
                    problems.append(
                        f"{session}: {writer} was told {told[writer][turn]} for turn {turn}, "
                        f"stored at {seqs}"
                    )
            if order != sorted(order):
                corrupted += 1
                problems.append(f"{session}: the turns of {writer} are out of order")
        for key in seen:
            corrupted += 1
            problems.append(f"{session}: unexpected events {key}")
    return lost, corrupted, problems


def _race(
    scale: Scale, workdir: Path, label: str, envs: list[dict[str, str]], outcome: Outcome
) -> dict[str, dict[int, list[int]]]:
    """Start the four writers together; return what each was told."""
    go = workdir / f"go-{label}"
    cwd = workdir / "cwd"
    cwd.mkdir(parents=True, exist_ok=True)
    runs: list[tuple[str, Running]] = []
    for (writer, session), env in zip(WRITERS, envs, strict=True):
        args = ["--writer", writer, "--session", session, "--turns", str(scale.writer_turns)]
        runs.append(
            (
                writer,
                start(
                    ["-m", "tests.support.turn_writer", *args, "--go", str(go)], env=env, cwd=cwd
                ),
            )
        )
    for writer, running in runs:  # every writer has opened the database and waits
        ready = running.wait_for(lambda r: any('"ready"' in line for line in r.out_lines()), 120)
        outcome.expect(ready, f"{label} {writer} never got ready: {running.err_text()[-400:]}")
    go.touch()
    told: dict[str, dict[int, list[int]]] = {}
    for writer, running in runs:
        code = running.finish(timeout=600)
        messages = _messages(running)
        told[writer] = {int(m["saved"]): list(m["seqs"]) for m in messages if "saved" in m}
        done = next((m for m in messages if m.get("done")), None)
        errors = [m["error"] for m in messages if m.get("error")]
        outcome.expect(code == 0, f"{label} {writer} exited {code}: {running.err_text()[-400:]}")
        outcome.expect(
            done is not None and done["retries"] == 0 and done["failed"] == 0,
            f"{label} {writer}: an error reached the writer: {done} {errors[:2]}",
        )
        outcome.expect(not errors, f"{label} {writer} saw errors: {errors[:2]}")
    return told


def _expected(turns: int) -> dict[str, dict[str, int]]:
    expected: dict[str, dict[str, int]] = defaultdict(dict)
    for writer, session in WRITERS:
        expected[session][writer] = turns
    return expected


def run(scale: Scale, workdir: Path) -> Outcome:
    """Run the concurrent-writers scenario (see the module docstring)."""
    outcome = Outcome("2 concurrent writers")
    with outcome.timed():
        total = len(WRITERS) * scale.writer_turns
        # Embedded: four processes on one file.
        db = workdir / "writers.db"
        env = child_env(workdir / "home", {"TURNKEEP_DB__PATH": str(db)})
        told = _race(scale, workdir, "embedded", [env] * len(WRITERS), outcome)
        lost, corrupted, problems = verify_turns(read_file(db), _expected(scale.writer_turns), told)
        checked = integrity(db)
        if checked != ["ok"]:
            corrupted += 1
            problems.append(f"embedded integrity_check: {checked[:3]}")
        outcome.lost += lost
        outcome.corrupted += corrupted
        for text in problems:
            outcome.problem(f"embedded: {text}")
        # sqld: two writers over ws, two over http (the shared session gets one of each).
        keys = JwtKeys.generate(workdir)
        with SqldServer(workdir / "sqld", keys) as server:
            token = server.token()
            envs = [
                child_env(
                    workdir / "home",
                    {"TURNKEEP_DB__URL": server.url(kind), "TURNKEEP_DB__AUTH_TOKEN": token},
                )
                for kind in ("ws", "http", "ws", "http")
            ]
            told = _race(scale, workdir, "sqld", envs, outcome)
            stored = asyncio.run(read_remote(server.ws_url, token))
        lost, corrupted, problems = verify_turns(stored, _expected(scale.writer_turns), told)
        outcome.lost += lost
        outcome.corrupted += corrupted
        for text in problems:
            outcome.problem(f"sqld: {text}")
        outcome.load = (
            f"4 writer processes x {scale.writer_turns} turns (2 in one session), "
            f"{total} turns into a file + {total} into sqld"
        )
    return outcome
