"""``turnkeep sessions list/show/rename/rm`` against the embedded file and a real sqld.

Most calls go through ``tui.cli.main`` in-process (fast); the black-box paths (a script
without a terminal, a person at a terminal) run ``python -m tui`` as a subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import subprocess
import sys

import pytest

from memory import MemoryBackend
from tests.conftest import FrozenClock
from tests.e2e.cli_support import SEEDED, Target, cli
from tui.cli import build_parser, main
from tui.cli import sessions as sessions_cli

JSON_KEYS = {"id", "title", "created_at", "updated_at", "turns", "events", "provider", "model"}


def one_line(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, err
    return err


def test_list_newest_first_human_and_json(target: Target, capsys: pytest.CaptureFixture[str]):
    target.seed()
    code, out, err = cli(target, capsys, "sessions", "list")
    assert (code, err) == (0, "")
    header, *rows = out.splitlines()
    assert header.split()[:2] == ["ID", "LAST"]
    assert [row.split()[0] for row in rows] == ["s-empty", "s-plain", "s-tools"]
    assert "Refactor the parser ✓" in rows[2] and "scripted/m1" in rows[2]
    assert "(untitled)" in rows[0]

    code, out, err = cli(target, capsys, "sessions", "list", "--json")
    assert (code, err) == (0, "")
    listed = json.loads(out)
    assert [item["id"] for item in listed] == ["s-empty", "s-plain", "s-tools"]
    assert all(set(item) >= JSON_KEYS for item in listed)
    tools = listed[2]
    assert (tools["title"], tools["turns"], tools["events"]) == ("Refactor the parser ✓", 2, 6)
    assert (tools["provider"], tools["model"]) == ("scripted", "m1")
    assert tools["created_at"].endswith("Z") and tools["updated_at"] >= tools["created_at"]


def test_list_filter_limit_and_empty(target: Target, capsys: pytest.CaptureFixture[str]):
    code, out, _ = cli(target, capsys, "sessions", "list", "--json")
    assert (code, json.loads(out)) == (0, [])
    code, out, _ = cli(target, capsys, "sessions", "list")
    assert code == 0 and "no sessions yet" in out
    target.seed()
    code, out, _ = cli(target, capsys, "sessions", "list", "--filter", "PARSER", "--json")
    assert [item["id"] for item in json.loads(out)] == ["s-tools"]
    code, out, _ = cli(target, capsys, "sessions", "list", "--filter", "nothing like it")
    assert code == 0 and "no sessions with 'nothing like it'" in out
    code, out, err = cli(target, capsys, "sessions", "list", "--limit", "2")
    assert len(out.splitlines()) == 3 and "--all" in err
    code, out, err = cli(target, capsys, "sessions", "list", "--limit", "3")
    assert len(out.splitlines()) == 4 and err == ""  # exactly all of them: no hint
    code, _, err = cli(target, capsys, "sessions", "list", "--limit", "0")
    assert code == 2 and "usage error" in one_line(err)
    code, _, err = cli(target, capsys, "sessions", "list", "--limit", "2", "--all")
    assert code == 2


def test_list_pages_by_keyset(
    target: Target, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(sessions_cli, "PAGE", 2)
    monkeypatch.setattr(sessions_cli, "DEFAULT_LIMIT", 4)
    clock = FrozenClock()

    async def many(memory: MemoryBackend) -> None:
        for i in range(7):
            clock.advance(1)
            await memory.create_session(f"p{i}", title=f"page test {i}")

    target.using(many, clock)
    newest_first = [f"p{i}" for i in reversed(range(7))]
    _, out, _ = cli(target, capsys, "sessions", "list", "--all", "--json")
    assert [item["id"] for item in json.loads(out)] == newest_first
    _, out, _ = cli(target, capsys, "sessions", "list", "--limit", "5", "--json")
    assert [item["id"] for item in json.loads(out)] == newest_first[:5]
    _, out, err = cli(target, capsys, "sessions", "list")
    assert [line.split()[0] for line in out.splitlines()[1:]] == newest_first[:4]
    assert "showing 4" in err
    _, out, _ = cli(target, capsys, "sessions", "list", "--all", "--filter", "TEST 1")
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["p1"]


def test_show_transcript_and_json_lines(
    target: Target, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    target.seed()
    monkeypatch.setattr(sessions_cli, "EVENT_PAGE", 4)  # pages through the session
    code, out, err = cli(target, capsys, "sessions", "show", "s-tools")
    assert (code, err) == (0, "")
    assert out.startswith("Refactor the parser ✓\n  id s-tools\n")
    assert "#2 Tool call calculator (c1)" in out
    assert '"expression": "2+2"' in out
    assert "#3 Tool result calculator (c1)" in out
    assert out.index("── turn 1") < out.index("What is 2+2? «ünï»") < out.index("── turn 2")
    assert out.rstrip().endswith("You're welcome.")

    code, out, err = cli(target, capsys, "sessions", "show", "s-tools", "--json")
    assert (code, err) == (0, "")
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert [e["kind"] for e in events] == [
        "user", "tool_call", "tool_result", "assistant", "user", "assistant",
    ]  # fmt: skip
    assert [e["turn"] for e in events] == [1, 1, 1, 1, 2, 2]
    assert events[1]["payload"] == {
        "name": "calculator", "call_id": "c1", "arguments": {"expression": "2+2"},
    }  # fmt: skip
    code, out, _ = cli(target, capsys, "sessions", "show", "s-empty")
    assert code == 0 and "(no events yet)" in out
    code, out, _ = cli(target, capsys, "sessions", "show", "s-empty", "--json")
    assert (code, out) == (0, "")


@pytest.mark.parametrize(
    "argv",
    [
        ["sessions", "show", "nope"],
        ["sessions", "show", "nope", "--json"],
        ["sessions", "rename", "nope", "title"],
        ["sessions", "rm", "nope", "--yes"],
        ["sessions", "export", "s-tools", "nope"],
    ],
    ids=["show", "show-json", "rename", "rm", "export"],
)
def test_unknown_session_is_exit_1_with_one_line(
    target: Target, capsys: pytest.CaptureFixture[str], argv: list[str]
):
    target.seed()
    code, out, err = cli(target, capsys, *argv)
    assert (code, out) == (1, "")
    assert one_line(err).startswith("turnkeep: Session not found: no session with id 'nope'")


def test_rename(target: Target, capsys: pytest.CaptureFixture[str]):
    target.seed()
    code, out, _ = cli(target, capsys, "sessions", "rename", "s-empty", "Named at last ✓")
    assert (code, out) == (0, "renamed s-empty: Named at last ✓\n")
    _, out, _ = cli(target, capsys, "sessions", "list", "--json")
    assert json.loads(out)[0]["title"] == "Named at last ✓"
    code, _, err = cli(target, capsys, "sessions", "rename", "s-empty", "   ")
    assert code == 2 and "must not be empty" in one_line(err)


def test_rm_with_yes_deletes_only_that_session(target: Target, capsys: pytest.CaptureFixture[str]):
    target.seed()
    code, out, _ = cli(target, capsys, "sessions", "rm", "s-tools", "--yes")
    assert (code, out) == (0, "deleted s-tools\n")

    async def present(memory: MemoryBackend) -> list[str]:
        return [i for i in SEEDED if await memory.find_session(i) is not None]

    assert target.using(present) == ["s-plain", "s-empty"]


def test_rm_refuses_without_yes_when_stdin_is_not_a_terminal(target: Target):
    target.seed()
    done = target.run("sessions", "rm", "s-plain")
    assert (done.returncode, done.stdout) == (2, "")
    assert "without --yes" in one_line(done.stderr)
    assert target.token is None or target.token not in done.stderr

    async def exists(memory: MemoryBackend) -> bool:
        return await memory.find_session("s-plain") is not None

    assert target.using(exists)


def _rm_at_a_terminal(target: Target, answer: bytes) -> subprocess.CompletedProcess[str]:
    master, slave = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "tui", "sessions", "rm", "s-plain"],
            env={**os.environ, **target.env},
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.close(slave)
        slave = -1
        os.write(master, answer)
        out, err = process.communicate(timeout=120)
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_rm_asks_for_confirmation_on_a_terminal(target: Target):
    target.seed()

    async def exists(memory: MemoryBackend) -> bool:
        return await memory.find_session("s-plain") is not None

    declined = _rm_at_a_terminal(target, b"n\n")
    assert declined.returncode == 1
    assert "Delete session s-plain 'Lunch plans' (1 turn, 1 event)?" in declined.stderr
    assert "[y/N]" in declined.stderr and "not deleted" in declined.stderr
    assert target.using(exists)

    accepted = _rm_at_a_terminal(target, b"y\n")
    assert (accepted.returncode, accepted.stdout) == (0, "deleted s-plain\n")
    assert not target.using(exists)


def test_black_box_list_and_show_match_in_process(
    target: Target, capsys: pytest.CaptureFixture[str]
):
    target.seed()
    for argv in (["sessions", "list", "--json"], ["sessions", "show", "s-tools", "--json"]):
        done = target.run(*argv)
        assert (done.returncode, done.stderr) == (0, "")
        _, out, _ = cli(target, capsys, *argv)
        assert done.stdout == out
    done = target.run("sessions", "show", "nope")
    assert done.returncode == 1 and "Session not found" in one_line(done.stderr)


@pytest.mark.parametrize(
    "command",
    [
        ["sessions"],
        ["sessions", "list"],
        ["sessions", "show"],
        ["sessions", "rename"],
        ["sessions", "rm"],
        ["sessions", "export"],
        ["sessions", "import"],
        ["db", "backup"],
    ],
    ids=lambda c: " ".join(c),
)
def test_every_command_has_complete_help_with_an_example(
    command: list[str], capsys: pytest.CaptureFixture[str]
):
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    out = capsys.readouterr().out
    assert exited.value.code == 0
    assert "Example" in out
    assert f"turnkeep {' '.join(command)}" in out.split("Example", 1)[1]
    if command == ["sessions", "list"]:
        for flag in ("--json", "--limit", "--filter", "--all"):
            assert flag in out


def _leaf_commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every command of ``parser``, with its words (sub-subcommands included)."""
    found = [(path, parser)]
    for action in parser._actions:  # argparse keeps its subcommands only here
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _leaf_commands(sub, (*path, name))
    return found


def test_every_command_of_the_parser_has_an_example_of_itself() -> None:
    """The README: every command has --help with examples (found missing for pin, unpin,
    archive, unarchive and the four import sources)."""
    commands = _leaf_commands(build_parser())
    assert len(commands) >= 30
    missing = []
    for words, parser in commands:
        text = parser.format_help()
        examples = text.split("Example", 1)[1] if "Example" in text else ""
        if f"turnkeep {' '.join(words)}".rstrip() not in examples:
            missing.append(" ".join(words) or "(turnkeep)")
    assert missing == []
