"""Scenario 11: two writers on one session at once (a TUI and ``turnkeep ask --session``).

Two lanes run ``turnkeep ask --session ID`` back to back on the same session and the
same file, so their turns interleave. Expected: every run exits 0; every question is
stored once; every turn number belongs to exactly one question (no two "turn 2"s); all
events of a turn carry its question's number; ``seq`` is contiguous and every tool call
has its result; ``integrity_check`` passes.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from pathlib import Path

from tests.reliability.checks import integrity, read_file, shape_problems
from tests.reliability.procs import child_env, start
from tests.reliability.report import Outcome, Scale

__all__ = ["run"]


def run(scale: Scale, workdir: Path) -> Outcome:
    outcome = Outcome("11 two writers, one session")
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "shared.db"
    env = {**child_env(workdir / "home"), "TURNKEEP_DB__PATH": str(db)}
    runs = max(3, scale.writer_turns // 8)
    with outcome.timed():
        first = start(
            ["-m", "tui", "ask", "--provider", "scripted", "lane-0-0"], env=env, cwd=workdir
        )
        code = first.finish(timeout=120)
        session = next(
            (
                line.split(": ", 1)[1].strip()
                for _, line in first.stderr
                if line.startswith("session: ")
            ),
            None,
        )
        if code != 0 or session is None:
            outcome.problem(f"the first run failed ({code}): {first.err_text()[-300:]}")
            return outcome
        failures: list[str] = []

        def lane(name: str) -> None:
            for index in range(1, runs + 1):
                running = start(
                    [
                        "-m",
                        "tui",
                        "ask",
                        "--session",
                        session,
                        "--provider",
                        "scripted",
                        f"{name}-{index}",
                    ],
                    env=env,
                    cwd=workdir,
                )
                if running.finish(timeout=120) != 0:
                    failures.append(f"{name}-{index}: {running.err_text()[-200:]}")

        threads = [threading.Thread(target=lane, args=(f"lane-{n}",)) for n in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for failure in failures:
            outcome.problem(f"run {failure}")
        stored = read_file(db)
        events = stored.events.get(session, [])
        for text in shape_problems(stored):
            outcome.corrupted += 1
            outcome.problem(text)
        checked = integrity(db)
        if checked != ["ok"]:
            outcome.corrupted += 1
            outcome.problem(f"integrity_check says {checked[:3]}")
        questions = [e for e in events if e.kind == "user"]
        asked = Counter(str(e.data.get("content")) for e in questions)
        for name in ("lane-1", "lane-2"):
            for index in range(1, runs + 1):
                if asked[f"{name}-{index}"] != 1:
                    outcome.lost += 1
                    outcome.problem(
                        f"question {name}-{index} is stored {asked[f'{name}-{index}']}x"
                    )
        numbers = Counter(e.turn for e in questions)
        duplicated = sorted(n for n, count in numbers.items() if count > 1)
        if duplicated:
            outcome.corrupted += len(duplicated)
            outcome.problem(f"turn numbers used by two questions: {duplicated[:10]}")
        by_turn: dict[int, set[str]] = defaultdict(set)
        for event in events:
            if event.kind == "assistant":
                content = str(event.data.get("content", ""))
                by_turn[event.turn].update(
                    word.strip('".,')
                    for word in content.split()
                    if word.strip('".,').startswith("lane-")
                )
        for question in questions:
            quoted = by_turn.get(question.turn, set())
            if quoted and str(question.data.get("content")) not in quoted:
                outcome.corrupted += 1
                outcome.problem(f"turn {question.turn}: its answer quotes {sorted(quoted)}")
        outcome.load = (
            f"2 writers x {runs} `turnkeep ask --session` runs into one session, "
            f"{len(events)} events"
        )
    return outcome
