"""Session ids by unique prefix on the command line, and ``--version`` (issue 13).

Seeded ids are ``s-tools``, ``s-plain`` and ``s-empty``: ``s-t`` names one session,
``s-`` three. Runs against the embedded file and a real sqld (ws and http).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.e2e.cli_support import Target, cli
from tui.exit_codes import EXIT_CONFIG, EXIT_OTHER


def test_a_unique_prefix_works_everywhere_an_id_is_taken(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    target.seed()
    code, out, err = cli(target, capsys, "sessions", "show", "s-t", "--json")
    assert (code, err) == (0, "")
    assert {json.loads(line)["session_id"] for line in out.splitlines()} == {"s-tools"}

    code, out, _ = cli(target, capsys, "sessions", "rename", "s-p", "Lunch, renamed")
    assert (code, out) == (0, "renamed s-plain: Lunch, renamed\n")

    code, out, _ = cli(target, capsys, "sessions", "tag", "s-t", "work")
    assert (code, out) == (0, "tags of s-tools: work\n")
    code, out, _ = cli(target, capsys, "sessions", "pin", "s-e")
    assert (code, out) == (0, "pinned s-empty\n")

    code, out, _ = cli(target, capsys, "sessions", "export", "s-t", "s-p")
    assert code == 0
    assert sorted(s["id"] for s in json.loads(out)["sessions"]) == ["s-plain", "s-tools"]

    code, out, _ = cli(target, capsys, "search", "lunch", "--session", "s-p", "--json")
    assert code == 0 and {hit["session_id"] for hit in json.loads(out)} <= {"s-plain"}

    code, out, err = cli(target, capsys, "sessions", "rm", "s-e", "--yes")
    assert code == 0
    assert "s-empty" not in {
        item["id"] for item in json.loads(cli(target, capsys, "sessions", "list", "--json")[1])
    }


def test_an_ambiguous_prefix_is_a_usage_error_listing_candidates(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    target.seed()
    for argv in (
        ("sessions", "show", "s-"),
        ("sessions", "rename", "s-", "x"),
        ("sessions", "rm", "s-", "--yes"),
        ("sessions", "export", "s-"),
        ("sessions", "archive", "s-"),
        ("search", "lunch", "--session", "s-"),
    ):
        code, out, err = cli(target, capsys, *argv)
        assert code == EXIT_CONFIG, argv
        assert out == ""
        assert err.startswith("turnkeep: Ambiguous session id: 's-' is the start of 3"), err
        assert "s-empty, s-plain, s-tools" in err and "Type more characters" in err
        assert err.count("\n") == 1
    # Nothing was changed by the refused commands.
    listed = json.loads(cli(target, capsys, "sessions", "list", "--json")[1])
    assert sorted(item["id"] for item in listed) == ["s-empty", "s-plain", "s-tools"]


def test_an_unknown_prefix_is_not_found(target: Target, capsys: pytest.CaptureFixture[str]) -> None:
    target.seed()
    code, out, err = cli(target, capsys, "sessions", "show", "zz")
    assert (code, out) == (EXIT_OTHER, "")
    assert err.startswith("turnkeep: Session not found: no session with id 'zz'")
    # LIKE wildcards are plain characters in a prefix.
    assert cli(target, capsys, "sessions", "show", "s%")[0] == EXIT_OTHER
    assert cli(target, capsys, "sessions", "show", "_")[0] == EXIT_OTHER


def test_an_exact_id_wins_over_longer_ids_it_starts(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    target.seed()

    async def add(memory: object) -> None:
        await memory.create_session("s-tools-2", title="Second")  # type: ignore[attr-defined]

    target.using(add)
    code, out, _ = cli(target, capsys, "sessions", "show", "s-tools", "--json")
    assert code == 0 and {json.loads(line)["session_id"] for line in out.splitlines()} == {
        "s-tools"
    }
    code, _, err = cli(target, capsys, "sessions", "show", "s-to")
    assert code == EXIT_CONFIG and "s-tools, s-tools-2" in err


def test_version_and_ambiguous_prefix_black_box(target: Target) -> None:
    proc = target.run("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("turnkeep 0."), proc
    target.seed()
    proc = target.run("sessions", "show", "s-")
    assert proc.returncode == EXIT_CONFIG
    assert "Ambiguous session id" in proc.stderr and "s-plain" in proc.stderr
    proc = target.run("sessions", "show", "s-pl")
    assert proc.returncode == 0 and "Lunch plans" in proc.stdout


def test_the_version_is_the_packages() -> None:
    from importlib.metadata import version

    out = subprocess.run(
        [sys.executable, "-m", "tui", "--version"], capture_output=True, text=True, check=False
    )
    assert out.stdout.strip() == f"turnkeep {version('turnkeep')}"


def test_resume_without_an_id_asks_for_the_picker() -> None:
    from tui.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["--resume"]).resume == ""
    assert parser.parse_args(["--resume", "019a3c"]).resume == "019a3c"
    assert parser.parse_args([]).resume is None
