"""Issue 11.9 and the CLI/settings parts of 11.10, each reproduced as a user meets it.

Cancelled and failed turns keep their partial answer in human transcripts; imports are
bounded and refuse ids that cannot be shown; plain-HTTP API keys are refused; messages
name what works; ``db status`` creates nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

import pytest
from pydantic import SecretStr

from memory import BundleFormatError, parse_bundle
from memory.schema.migrate import load_migrations
from runtime.errors import ProviderConfigError
from runtime.providers.openai import OpenAIProvider
from tests.e2e.cli_support import turnkeep_process
from tests.e2e.hostile import hostile_bundle, write_bundle_file
from tui.cli import main
from tui.cli import output as cli_output

PARTIAL = "The first half of an answer that was"
OLD_PARTIAL = "An older row's partial text"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def turnkeep(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return turnkeep_process(*args, env=env, timeout=120)


def bundle(session_id: str, events: list[tuple[str, dict[str, object]]]) -> dict[str, object]:
    ts = "2026-01-01T00:00:00.000000Z"
    return {
        "format": "turnkeep.sessions",
        "version": 1,
        "sessions": [
            {
                "id": session_id, "title": "t", "agent": None, "provider": None, "model": None,
                "created_at": ts, "updated_at": ts, "metadata": {}, "states": [],
                "events": [
                    {"seq": i, "turn": 1, "kind": kind, "created_at": ts, "payload": payload}
                    for i, (kind, payload) in enumerate(events, start=1)
                ],
            }
        ],
    }  # fmt: skip


# -- 11.9: the partial answer of a cancelled or failed turn ----------------------------------


def test_show_and_markdown_keep_the_partial_answer(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = bundle(
        "s-partial",
        [
            ("user", {"role": "user", "content": "explain"}),
            (
                "cancelled",
                {
                    "role": "assistant",
                    "reason": "cancelled by the user",
                    "partial_content": PARTIAL,
                },
            ),  # fmt: skip
            ("cancelled", {"reason": "cancelled by the user", "partial_text": OLD_PARTIAL}),
            (
                "error",
                {
                    "title": "Model server unreachable",
                    "message": "connection reset",
                    "partial_content": PARTIAL + " cut",
                },
            ),  # fmt: skip
        ],
    )
    path = write_bundle_file(tmp_path / "partial.json", doc)
    assert run(capsys, "sessions", "import", str(path))[0] == 0
    code, out, _ = run(capsys, "sessions", "show", "s-partial")
    assert code == 0
    assert "cancelled by the user" in out
    assert PARTIAL in out and OLD_PARTIAL in out and PARTIAL + " cut" in out
    assert "connection reset" in out
    code, out, _ = run(capsys, "sessions", "export", "s-partial", "--format", "markdown")
    assert code == 0
    assert PARTIAL in out and OLD_PARTIAL in out and PARTIAL + " cut" in out
    assert "cancelled by the user" in out


# -- 11.10: bounded import, ids and titles ---------------------------------------------------


def test_import_of_dev_zero_ends_quickly_with_one_clear_line(db: Path) -> None:
    result = turnkeep("sessions", "import", "/dev/zero")
    assert result.returncode in (1, 2), result.stderr
    assert result.stderr.startswith("turnkeep: ") and result.stderr.count("\n") == 1
    assert "MemoryError" not in result.stderr and "not a turnkeep export" in result.stderr


def test_import_from_a_fifo_that_never_ends(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = tmp_path / "endless"
    os.mkfifo(fifo)
    stop = threading.Event()

    def feed() -> None:
        try:
            with open(fifo, "wb") as handle:
                handle.write(b'{"format": "turnkeep.sessions", "sessions": ["')
                while not stop.is_set():
                    handle.write(b"A" * 65536)
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    monkeypatch.setattr(cli_output, "MAX_IMPORT_BYTES", 1 << 20)
    try:
        code, out, err = run(capsys, "sessions", "import", str(fifo))
    finally:
        stop.set()
    writer.join(30)
    assert (code, out) == (2, "")
    assert "larger than the import limit of 1.0 MiB" in err and err.count("\n") == 1
    assert not db.exists()  # refused before the store was opened


def test_import_size_limit_names_the_limit(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_bundle_file(tmp_path / "big.json", bundle("s-big", [("user", {"c": "x" * 5000})]))
    monkeypatch.setattr(cli_output, "MAX_IMPORT_BYTES", 4096)
    code, _, err = run(capsys, "sessions", "import", str(path))
    assert code == 2 and "larger than the import limit of 4.0 KiB" in err
    monkeypatch.setattr(cli_output, "MAX_IMPORT_BYTES", 1 << 20)
    code, out, _ = run(capsys, "sessions", "import", str(path))
    assert (code, out) == (0, "imported 1 session (1 event)\n")  # and singular


@pytest.mark.parametrize(
    ("bad_id", "reason"),
    [
        ("a\nb", "may only contain"),
        ("id\x1b[2J", "may only contain"),
        ("\u202eevil", "may only contain"),
        ("x" * 129, "at most 128"),
        ("with space", "may only contain"),
    ],
)
def test_bundle_ids_must_be_plain(bad_id: str, reason: str) -> None:
    text = json.dumps(hostile_bundle(bad_id))
    with pytest.raises(BundleFormatError) as caught:
        parse_bundle(text)
    assert caught.value.where == "sessions[0].id"
    assert reason in str(caught.value) and "sessions[0].id" in str(caught.value)


def test_bundle_accepts_the_ids_turnkeep_makes() -> None:
    for good in ("019a3c2e-7f00-7abc-8def-0123456789ab", "s-tools", "a.b:c_d", "x" * 128):
        assert parse_bundle(json.dumps(hostile_bundle(good)))[0].id == good


def test_import_of_a_bad_id_writes_nothing(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_bundle_file(tmp_path / "bad.json", hostile_bundle("bad\x1bid"))
    code, out, err = run(capsys, "sessions", "import", str(path))
    assert (code, out) == (1, "")
    assert "sessions[0].id" in err and "\x1b" not in err
    assert not db.exists()


def test_rename_limits_the_title(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = write_bundle_file(tmp_path / "one.json", bundle("s-one", [("user", {"c": "x"})]))
    assert run(capsys, "sessions", "import", str(path))[0] == 0
    code, _, err = run(capsys, "sessions", "rename", "s-one", "t" * 501)
    assert code == 2 and "at most 500 characters" in err
    assert err.startswith("turnkeep: usage error: ")
    code, out, _ = run(capsys, "sessions", "rename", "s-one", "t" * 500)
    assert code == 0 and out.startswith("renamed s-one: ttt")
    code, _, err = run(capsys, "sessions", "rename", "s-one", "  ")
    assert code == 2 and err.startswith("turnkeep: usage error: ")


def test_list_truncates_long_titles(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    doc = bundle("s-long", [("user", {"c": "x"})])
    doc["sessions"][0]["title"] = "word " * 2000  # type: ignore[index]
    path = write_bundle_file(tmp_path / "long.json", doc)
    assert run(capsys, "sessions", "import", str(path))[0] == 0
    code, out, _ = run(capsys, "sessions", "list")
    assert code == 0 and max(len(line) for line in out.splitlines()) < 200
    assert out.rstrip().endswith("…")
    code, out, _ = run(capsys, "sessions", "show", "s-long")
    assert len(out.splitlines()[0]) < 600 and "1 turn · 1 event" in out


# -- 11.10: provider settings and messages ---------------------------------------------------


def test_an_api_key_is_never_sent_over_plain_http_to_another_host() -> None:
    key = SecretStr("sk-canary-123")
    for url in ("http://llm.example.com/v1", "http://10.0.0.5:8080/v1", "HTTP://Example.com"):
        with pytest.raises(ProviderConfigError) as caught:
            OpenAIProvider(model="m", base_url=url, api_key=key)
        assert "clear text" in str(caught.value) and "https://" in (caught.value.hint or "")
        assert "sk-canary" not in str(caught.value)
    for url in ("http://127.0.0.1:8080/v1", "http://localhost:8080/v1", "http://[::1]:8080/v1",
                "https://llm.example.com/v1"):  # fmt: skip
        assert OpenAIProvider(model="m", base_url=url, api_key=key).base_url == url
    # Without a key nothing secret travels: a LAN server without authentication is fine.
    assert OpenAIProvider(model="m", base_url="http://10.0.0.5:8080/v1").model == "m"


def test_ask_refuses_a_plain_http_key_with_exit_2(db: Path) -> None:
    result = turnkeep(
        "ask", "--provider", "openai", "--model", "m", "hello",
        env={"TURNKEEP_AGENT__BASE_URL": "http://llm.example.invalid/v1",
             "OPENAI_API_KEY": "sk-canary-456"},
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "clear text" in result.stderr and "sk-canary" not in result.stderr


def test_missing_model_hint_names_what_works_everywhere() -> None:
    # No model named is fine for a single-model server; with none or several the
    # error's hint says how to name one, everywhere.
    from runtime.providers.openai_models import only_model

    for models in ([], ["a", "b"]):
        with pytest.raises(ProviderConfigError) as caught:
            only_model(models, "http://127.0.0.1:1/v1")
        hint = caught.value.hint or ""
        assert "TURNKEEP_AGENT__MODEL" in hint and "turnkeep ask --model" in hint


def test_usage_errors_have_one_casing(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "ask", "--provider", "scripted", "   ")
    assert code == 2 and err.startswith("turnkeep: usage error: ")
    code, _, err = run(capsys, "sessions", "export")
    assert code == 2 and err.startswith("turnkeep: usage error: ")
    code, _, err = run(capsys, "sessions", "list", "--limit", "x")
    assert code == 2 and err.startswith("turnkeep: usage error: ")


# -- 11.10: db status on a fresh machine -----------------------------------------------------


def test_db_status_creates_nothing_on_a_fresh_machine(isolated_env: Path) -> None:
    data = isolated_env / "data"
    before = sorted(data.rglob("*"))
    human = turnkeep("db", "status")
    assert human.returncode == 0, human.stderr
    assert "not created yet" in human.stdout
    assert str(data / "turnkeep" / "turnkeep.db") in human.stdout
    as_json = turnkeep("db", "status", "--json")
    assert as_json.returncode == 0
    report = json.loads(as_json.stdout)
    assert report["exists"] is False and report["mode"] == "embedded"
    assert report["pending_migrations"] == [m.id for m in load_migrations()]
    assert report["applied_migrations"] == [] and report["file_size"] is None
    assert sorted(data.rglob("*")) == before  # no file, no directory
    configured = isolated_env / "elsewhere.db"
    result = turnkeep("db", "status", env={"TURNKEEP_DB__PATH": str(configured)})
    assert result.returncode == 0 and "not created yet" in result.stdout
    assert not configured.exists()
    missing_dir = isolated_env / "no-such-dir" / "x.db"
    result = turnkeep("db", "status", env={"TURNKEEP_DB__PATH": str(missing_dir)})
    assert result.returncode == 3 and "does not exist" in result.stdout
    assert not missing_dir.parent.exists()
    help_text = turnkeep("db", "status", "--help").stdout
    assert "not created yet" in help_text and "creates nothing" in help_text


@pytest.mark.parametrize("where", ["remote", "not-a-database"])
def test_db_status_json_prints_its_object_when_the_database_cannot_be_opened(
    where: str, tmp_path: Path
) -> None:
    """Review finding: --json printed nothing (only a stderr line) in these two cases."""
    if where == "remote":
        env = {"TURNKEEP_DB__URL": "ws://127.0.0.1:1"}
    else:
        other = tmp_path / "notes.db"
        other.write_text("not a database\n")
        env = {"TURNKEEP_DB__PATH": str(other)}
    result = turnkeep("db", "status", "--json", env=env)
    assert result.returncode == 3, result.stderr
    doc = json.loads(result.stdout)
    assert doc["reachable"] is False and doc["error"]
    assert {"mode", "location", "search_index", "semantic_index", "exists"} <= set(doc)
    assert result.stderr == f"turnkeep: {doc['error']}\n"  # and the usual error line
    if where != "remote":
        assert (tmp_path / "notes.db").read_text() == "not a database\n"


def test_a_version_1_export_gets_session_token_totals_from_its_answers(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Review finding: `sessions list --json` showed 0 tokens for an imported version 1
    session while `turnkeep usage` counted its answers."""
    usage = {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}
    answer = {"role": "assistant", "content": "a", "usage": usage}
    doc = bundle(
        "s-v1",
        [
            ("user", {"role": "user", "content": "q"}),
            ("assistant", answer),
            ("user", {"role": "user", "content": "q2"}),
            ("assistant", {**answer, "usage": {**usage, "prompt_tokens": 200}}),
        ],
    )
    path = write_bundle_file(tmp_path / "v1.json", doc)
    assert run(capsys, "sessions", "import", str(path))[0] == 0
    code, out, _ = run(capsys, "sessions", "list", "--json")
    assert code == 0
    (row,) = [s for s in json.loads(out) if s["id"] == "s-v1"]
    assert (row["prompt_tokens"], row["completion_tokens"]) == (320, 60)
    code, out, _ = run(capsys, "usage", "--by", "session", "--json")
    (used,) = [r for r in json.loads(out)["rows"] if r["session"] == "s-v1"]
    assert (used["prompt_tokens"], used["completion_tokens"]) == (320, 60)
    # Exported again (version 2) and imported elsewhere: the totals travel as they are.
    code, out, _ = run(capsys, "sessions", "export", "s-v1")
    assert code == 0 and json.loads(out)["sessions"][0]["prompt_tokens"] == 320
