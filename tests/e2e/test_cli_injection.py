"""Issue 11.1: stored text never steers the terminal through the CLI.

Hostile text (window retitle, screen clear, clipboard write, C1 CSI, bidi overrides)
comes in as a user would put it there: a message to ``turnkeep ask``, an imported
export file, and a session id left by an older database. Every display command then
runs as a separate process (its stdout is a pipe here; the same bytes would reach a
terminal or ``less -R``), and nothing raw may come out; JSON output stays valid and
decodes to the exact stored text; what is stored and exported stays byte-exact.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.hostile import (
    HOSTILE,
    HOSTILE_ID,
    HOSTILE_TITLE,
    hostile_bundle,
    raw_controls,
    rename_session_raw,
    write_bundle_file,
)


def turnkeep(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        env=dict(os.environ),
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def clean(result: subprocess.CompletedProcess[str], what: str) -> None:
    found = raw_controls(result.stdout) + raw_controls(result.stderr)
    assert not found, (
        f"{what} printed raw controls {found[:8]}:\n{result.stdout!r}\n{result.stderr!r}"
    )


def session_of(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("session: ")]
    assert len(lines) == 1, stderr
    return lines[0].removeprefix("session: ")


def test_ask_reply_list_and_show_neutralise_a_hostile_message(db: Path) -> None:
    asked = turnkeep("ask", "--provider", "scripted", HOSTILE)
    assert asked.returncode == 0, asked.stderr
    clean(asked, "ask")
    assert "␛]0;HACKED␇" in asked.stdout  # shown, visibly, not obeyed
    session = session_of(asked.stderr)

    as_json = turnkeep("ask", "--provider", "scripted", "--session", session, "--json", HOSTILE)
    assert as_json.returncode == 0, as_json.stderr
    clean(as_json, "ask --json")
    lines = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert lines[0]["payload"]["content"] == HOSTILE

    for args in (("sessions", "list"), ("sessions", "show", session)):
        shown = turnkeep(*args)
        assert shown.returncode == 0, shown.stderr
        clean(shown, " ".join(args))
    shown = turnkeep("sessions", "show", session)
    assert "␛[2J" in shown.stdout and "[bold]markup[/bold]" in shown.stdout

    as_json = turnkeep("sessions", "show", session, "--json")
    assert as_json.returncode == 0
    clean(as_json, "sessions show --json")
    events = [json.loads(line) for line in as_json.stdout.splitlines()]
    users = [e["payload"]["content"] for e in events if e["kind"] == "user"]
    assert users == [HOSTILE, HOSTILE]  # the exact stored text
    assert HOSTILE in "".join(e["payload"].get("content") or "" for e in events)

    listed = turnkeep("sessions", "list", "--json")
    clean(listed, "sessions list --json")
    assert json.loads(listed.stdout)[0]["id"] == session


def test_an_imported_hostile_session_is_shown_safely_and_kept_exactly(
    db: Path, tmp_path: Path
) -> None:
    bundle = write_bundle_file(tmp_path / "hostile.json", hostile_bundle())
    imported = turnkeep("sessions", "import", str(bundle))
    assert imported.returncode == 0, imported.stderr
    clean(imported, "import")
    exported = turnkeep("sessions", "export", "--all")
    assert exported.returncode == 0
    clean(exported, "export (JSON)")
    written, given = json.loads(exported.stdout), hostile_bundle()
    # Stored exactly: every field of the version 1 file comes back unchanged (the export
    # is version 2, which adds the organizing fields).
    assert written["format"] == given["format"]
    for out, expected in zip(written["sessions"], given["sessions"], strict=True):
        assert {key: out[key] for key in expected} == expected

    for args in (
        ("sessions", "list"),
        ("sessions", "list", "--json"),
        ("sessions", "show", "s-hostile"),
        ("sessions", "show", "s-hostile", "--json"),
        ("sessions", "export", "s-hostile", "--format", "markdown"),
        ("sessions", "rename", "s-hostile", HOSTILE_TITLE + " again"),
        ("sessions", "show", "s-hostile\x1b]0;NOPE\x07"),  # an error line quoting the id
        ("sessions", "import", "--as-new", str(bundle)),
        ("db", "status"),
        ("db", "status", "--json"),
    ):
        result = turnkeep(*args)
        clean(result, " ".join(args))
    shown = turnkeep("sessions", "show", "s-hostile", "--json")
    payloads = [json.loads(line)["payload"] for line in shown.stdout.splitlines()]
    assert payloads[0]["content"] == HOSTILE and payloads[2]["result"] == HOSTILE
    listed = json.loads(turnkeep("sessions", "list", "--json").stdout)
    assert {s["title"] for s in listed} == {HOSTILE_TITLE, HOSTILE_TITLE + " again"}


def test_a_hostile_id_left_by_an_older_database_is_shown_safely(db: Path, tmp_path: Path) -> None:
    bundle = write_bundle_file(tmp_path / "hostile.json", hostile_bundle("s-legacy"))
    assert turnkeep("sessions", "import", str(bundle)).returncode == 0
    rename_session_raw(db, "s-legacy", HOSTILE_ID)
    long_id = "L" * 10_000
    bundle = write_bundle_file(tmp_path / "long.json", hostile_bundle("s-long"))
    assert turnkeep("sessions", "import", str(bundle)).returncode == 0
    rename_session_raw(db, "s-long", long_id)
    before = turnkeep("sessions", "export", "--all").stdout

    listed = turnkeep("sessions", "list")
    assert listed.returncode == 0
    clean(listed, "sessions list")
    assert max(len(line) for line in listed.stdout.splitlines()) < 250  # stays a table
    for args in (
        ("sessions", "show", HOSTILE_ID),
        ("sessions", "export", HOSTILE_ID, "--format", "markdown"),
        ("sessions", "rename", HOSTILE_ID, "fine"),
        ("sessions", "rm", HOSTILE_ID),  # refused without --yes: the error quotes the id
        ("ask", "--provider", "scripted", "--session", HOSTILE_ID, "hi"),
    ):
        result = turnkeep(*args)
        clean(result, " ".join(args))
    removed = turnkeep("sessions", "rm", HOSTILE_ID, "--yes")
    assert removed.returncode == 0, removed.stderr
    clean(removed, "sessions rm --yes")
    ids = [s["id"] for s in json.loads(turnkeep("sessions", "list", "--json").stdout)]
    assert ids == [long_id]
    assert before != turnkeep("sessions", "export", "--all").stdout  # one session fewer
    assert long_id in turnkeep("sessions", "export", "--all").stdout  # the long id intact
