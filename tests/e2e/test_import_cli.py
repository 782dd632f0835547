"""``turnkeep import ...`` as a user runs it: a separate process against a real database file."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from memory import parse_bundle
from tests.e2e.cli_support import Target, make_target
from tests.importers.conftest import FIXTURES, digests
from tests.importers.llm_fixture import build_message_store, build_released


@pytest.fixture
def target(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Target:
    return make_target("embedded", request, tmp_path, monkeypatch)


def _exported(target: Target) -> dict[str, list[tuple[int, int, str]]]:
    done = target.run("sessions", "export", "--all")
    assert done.returncode == 0, done.stderr
    return {s.id: [(e.seq, e.turn, e.kind) for e in s.events] for s in parse_bundle(done.stdout)}


def _import(target: Target, *args: str) -> dict[str, object]:
    done = target.run("import", *args, "--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no progress bar when stderr is not a terminal
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_claude_code(target: Target) -> None:
    src = FIXTURES / "claude-code"
    before = digests(src)
    dry = target.run("import", "claude-code", str(src), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "2 sessions added (22 events)" in dry.stdout
    assert "dry run: nothing was written" in dry.stdout
    assert "7f2c1a9e-4b1d-4e0a-9c3e-1f2a3b4c5d6e.jsonl:6: not valid JSON" in dry.stdout
    assert target.db_path is not None and not target.db_path.exists()  # not even created
    assert _exported(target) == {}
    report = _import(target, "claude-code", str(src))
    assert report["sessions"] == {
        "added": 2,
        "updated": 0,
        "skipped": 0,
        "unchanged": 0,
        "not_updated": 0,
    }
    assert report["events"] == {"added": 22, "appended": 0}
    assert report["malformed"]["count"] == 2  # type: ignore[index]
    sessions = _exported(target)
    main = sessions["claude-code-7f2c1a9e-4b1d-4e0a-9c3e-1f2a3b4c5d6e"]
    assert len(main) == 18 and main[1] == (2, 1, "user") and main[-1] == (18, 2, "assistant")
    again = target.run("import", "claude-code", str(src))
    assert again.returncode == 0
    assert again.stdout.startswith(
        "claude-code: 0 sessions added (0 events), 0 updated (0 events appended), 2 skipped "
        "(2 unchanged, 0 not updated)"
    )
    assert _exported(target) == sessions
    assert digests(src) == before


def test_codex(target: Target) -> None:
    report = _import(target, "codex", str(FIXTURES / "codex"))
    assert report["events"] == {"added": 15, "appended": 0}
    kinds = [k for _, _, k in _exported(target)["codex-5973b6c0-94b8-487b-a530-2aeb6098ae0e"]]
    assert kinds == ["user", "assistant"]


def test_codex_default_location(target: Target, tmp_path: Path) -> None:
    home = tmp_path / "codex-home"
    (home / "sessions").mkdir(parents=True)
    target.env["CODEX_HOME"] = str(home)
    import shutil

    shutil.copytree(FIXTURES / "codex" / "2025", home / "sessions" / "2025")
    report = _import(target, "codex")
    assert report["sessions"]["added"] == 2  # type: ignore[index]


def test_chatgpt_zip(target: Target, tmp_path: Path) -> None:
    archive = tmp_path / "chatgpt-export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(FIXTURES / "chatgpt" / "conversations.json", "conversations.json")
    before = digests(archive)
    report = _import(target, "chatgpt", str(archive))
    # Two conversations, and the first one's other branch as a fork of it.
    assert report["sessions"]["added"] == 3  # type: ignore[index]
    assert report["events"] == {"added": 23, "appended": 0}
    assert digests(archive) == before
    exported = _exported(target)
    first = exported.pop("chatgpt-6650f1c2-aaaa-4bbb-8ccc-000000000001")
    assert len(first) == 11
    exported.pop("chatgpt-6650f1c2-aaaa-4bbb-8ccc-000000000002")
    ((fork_id, fork),) = exported.items()
    assert fork[:7] == first[:7] and len(fork) == 9
    shown = target.run("sessions", "show", fork_id)
    assert shown.returncode == 0, shown.stderr
    assert "chatgpt-6650f1c2-aaaa-4bbb-8ccc-000000000001" in shown.stdout  # its lineage


def test_llm(target: Target, tmp_path: Path) -> None:
    (tmp_path / "llm").mkdir()
    db = tmp_path / "llm" / "logs.db"
    build_released(db)
    build_message_store(db)
    before = digests(db.parent)
    target.env["LLM_USER_PATH"] = str(db.parent)
    report = _import(target, "llm")
    assert report["sessions"]["added"] == 3  # type: ignore[index]
    assert digests(db.parent) == before
    assert "llm-thread:th-1" in _exported(target)


def test_wrong_format_is_one_line_and_exit_2(target: Target, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"hello": 1}')
    done = target.run("import", "chatgpt", str(bogus))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "is not a ChatGPT export" in done.stderr
    missing = target.run("import", "claude-code", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    usage = target.run("import", "chatgpt")
    assert usage.returncode == 2 and "usage error" in usage.stderr


@pytest.mark.remote
@pytest.mark.parametrize("kind", ["remote-ws", "remote-http"])
def test_claude_code_into_a_remote_server(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = make_target(kind, request, tmp_path, monkeypatch)
    report = _import(remote, "claude-code", str(FIXTURES / "claude-code"))
    assert report["events"] == {"added": 22, "appended": 0}
    again = _import(remote, "claude-code", str(FIXTURES / "claude-code"))
    assert again["sessions"]["unchanged"] == 2  # type: ignore[index]
    assert len(_exported(remote)["claude-code-agent-a1b2c3d4"]) == 4


def test_imported_token_usage_shows_in_sessions_list_and_usage(target: Target) -> None:
    _import(target, "claude-code", str(FIXTURES / "claude-code"))
    _import(target, "codex", str(FIXTURES / "codex"))
    done = target.run("sessions", "list", "--json")
    assert done.returncode == 0, done.stderr
    listed = {s["id"]: s for s in json.loads(done.stdout)}
    main = listed["claude-code-7f2c1a9e-4b1d-4e0a-9c3e-1f2a3b4c5d6e"]
    assert (main["prompt_tokens"], main["completion_tokens"], main["total_tokens"]) == (47, 92, 139)
    codex = listed["codex-019a2d7a-41c4-78b1-b7cc-a45d62a89cd5"]
    assert (codex["prompt_tokens"], codex["completion_tokens"]) == (2946, 7)
    # `turnkeep usage` reads the answers' payloads: the same figures, per session.
    done = target.run("usage", "--by", "session", "--json")
    assert done.returncode == 0, done.stderr
    rows = {r["session"]: r for r in json.loads(done.stdout)["rows"]}
    for sid, session in listed.items():
        row = rows.get(sid, {"prompt_tokens": 0, "completion_tokens": 0})
        assert (row["prompt_tokens"], row["completion_tokens"]) == (
            session["prompt_tokens"],
            session["completion_tokens"],
        ), sid


def test_names_and_text_that_are_not_valid_unicode(target: Target, tmp_path: Path) -> None:
    """A transcript whose file name is not valid UTF-8 (with a byte that is a C1 CSI),
    and a record holding a JSON lone-surrogate escape, import like the rest; nothing of
    them reaches the terminal raw, even with a surrogate-escaping C locale's stdout."""
    import os
    import subprocess
    import sys

    project = tmp_path / "history" / "p"
    project.mkdir(parents=True)
    agent = next((FIXTURES / "claude-code").rglob("agent-*.jsonl"))
    (project / "ok.jsonl").write_bytes(agent.read_bytes())
    os.rename(project / "ok.jsonl", os.fsencode(project) + b"/c1\x9b31mRED\x9b0m\xff.jsonl")
    (project / "lone.jsonl").write_text(
        '{"type":"user","uuid":"a1","timestamp":"2025-06-01T09:00:00.000Z",'
        '"message":{"role":"user","content":"hello \\ud800 lone"}}\n'
        '{"type":"assistant","uuid":"a2","timestamp":"2025-06-01T09:00:01.000Z",'
        '"message":{"role":"assistant","model":"m","content":[{"type":"text","text":"ok"}]}}\n'
    )

    def run(*args: str) -> tuple[int, bytes, bytes]:
        done = subprocess.run(
            [sys.executable, "-m", "tui", *args],
            env={**os.environ, **target.env, "LC_ALL": "C", "PYTHONUTF8": "0"},
            capture_output=True,
            timeout=120,
            check=False,
        )
        for stream in (done.stdout, done.stderr):
            assert b"\x9b" not in stream and b"\x1b" not in stream, stream
            stream.decode("utf-8")  # no undecodable byte either
        return done.returncode, done.stdout, done.stderr

    for dry in (True, False):
        code, out, err = run(
            "import", "claude-code", str(tmp_path / "history"), *(["--dry-run"] if dry else [])
        )
        assert code == 0, err
        assert b"2 sessions added" in out, out
    code, out, err = run("sessions", "list", "--json")
    assert code == 0, err
    listed = {s["id"]: s for s in json.loads(out)}
    assert len(listed) == 2
    lone = listed["claude-code-lone"]
    assert lone["title"] == "hello \ufffd lone"

    async def sources(memory: Any) -> list[str]:
        infos = [await memory.get_session(sid) for sid in listed]
        return sorted(info.metadata["source"]["file"] for info in infos)

    files = target.using(sources)
    assert files[0].endswith("/p/c1\ufffd31mRED\ufffd0m\ufffd.jsonl"), files
    assert files[1].endswith("/p/lone.jsonl"), files
    code, out, err = run("search", "lone")
    assert code == 0, err
