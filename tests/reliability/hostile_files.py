"""Scenario 7, part two: malformed import files and malformed settings.

* Import files: a real export, mutated by hypothesis (truncated, a byte changed, a line
  dropped or doubled, any value replaced by any JSON value). Each is either refused
  with a :class:`BundleFormatError` that names the line or field, or imported exactly;
  a refused import (or a conflict) leaves the database exactly as it was. A few go
  through ``turnkeep sessions import`` too: one line, the documented exit code.
* Settings: any config file text, any value for each ``TURNKEEP_*`` variable, any
  remote URL. Loading either works or raises :class:`SettingsError` /
  :class:`StoreConfigError` (one line, never echoing a secret); through the command
  line that is exit 2 with one line, and no database file is created.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from memory import (
    BundleFormatError,
    EventDraft,
    MemoryLayerError,
    StoreConfigError,
    open_embedded,
    parse_bundle,
)
from memory.bundle import dumps_bundle
from memory.drivers.remote_url import parse_remote_url
from runtime.errors import SettingsError
from runtime.settings import load_settings
from tests.reliability.procs import child_env, run_cli
from tests.reliability.report import Outcome, Scale

__all__ = ["run_into"]

CANARY = "tk-canary-5e77ings-0f0f"
ENV_KEYS = (
    "TURNKEEP_DB__TIMEOUT",
    "TURNKEEP_DB__SYNCHRONOUS",
    "TURNKEEP_DB__BUSY_TIMEOUT",
    "TURNKEEP_DB__PATH",
    "TURNKEEP_MEMORY__ENABLED",
    "TURNKEEP_AGENT__PROVIDER",
    "TURNKEEP_AGENT__CONTEXT_WINDOW",
    "TURNKEEP_AGENT__TEMPERATURE",
    "TURNKEEP_AGENT__TOOL_CHOICE",
)
_any = st.characters(exclude_categories=("Cs",))
toml_values = st.one_of(
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.booleans().map(lambda b: "true" if b else "false"),
    st.text(_any, max_size=20).map(json.dumps),
    st.sampled_from(["[1, 2]", "{ a = 1 }", '"full"', '"normal"', "-1", "1e400", "nan"]),
)


async def _source_bundle(path: Path) -> str:
    memory = await open_embedded(path)
    try:
        for n in range(3):
            sid = f"src-{n}"
            await memory.create_session(sid, title=f"sëssion {n} 🎉", provider="scripted")
            await memory.store(
                sid,
                [
                    EventDraft("user", {"role": "user", "content": f"question {n} \x00 ünï"}, 1),
                    EventDraft("tool_call", {"call_id": f"c{n}", "name": "calc", "arguments": {}}),
                    EventDraft("tool_result", {"call_id": f"c{n}", "result": [1, 2.5, None]}),
                    EventDraft("assistant", {"role": "assistant", "content": "answer"}, 1),
                ],
            )
            await memory.save_state(sid, {"model": "demo", "n": n})
        return dumps_bundle([s async for s in memory.export_sessions()])
    finally:
        await memory.close()


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from _paths(value, (*prefix, i))


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[head] = _replace(doc[head], rest, value)
    return copy


def _mutate(base: str, mutation: tuple[Any, ...]) -> bytes:
    data = base.encode("utf-8")
    lines = base.splitlines(keepends=True)
    kind = mutation[0]
    if kind == "truncate":
        return data[: mutation[1] % len(data)]
    if kind == "byte":
        at = mutation[1] % len(data)
        return data[:at] + bytes([mutation[2]]) + data[at + 1 :]
    if kind == "drop-line":
        at = mutation[1] % len(lines)
        return "".join(lines[:at] + lines[at + 1 :]).encode("utf-8")
    if kind == "double-line":
        at = mutation[1] % len(lines)
        return "".join(lines[: at + 1] + lines[at:]).encode("utf-8")
    doc = json.loads(base)
    paths = list(_paths(doc))
    return json.dumps(_replace(doc, paths[mutation[1] % len(paths)], mutation[2])).encode()


mutations = st.one_of(
    st.tuples(st.just("truncate"), st.integers(min_value=0)),
    st.tuples(st.just("byte"), st.integers(min_value=0), st.integers(0, 255)),
    st.tuples(st.just("drop-line"), st.integers(min_value=0)),
    st.tuples(st.just("double-line"), st.integers(min_value=0)),
    st.tuples(
        st.just("value"),
        st.integers(min_value=0),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
            max_leaves=6,
        ),
    ),
)


def _dump(path: Path) -> list[Any]:
    with sqlite3.connect(path, timeout=30) as conn:
        return [
            conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in ("sessions", "conversation_events", "session_state")
        ]


def _import_property(scale: Scale, workdir: Path, outcome: Outcome) -> int:
    loop = asyncio.new_event_loop()
    base = loop.run_until_complete(_source_bundle(workdir / "import-source.db"))
    target = workdir / "import-target.db"
    memory = loop.run_until_complete(open_embedded(target))
    loop.run_until_complete(memory.store("keep", [EventDraft("user", {"content": "mine"})]))
    tried = 0

    @seed(scale.seed)
    @settings(
        max_examples=scale.examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(mutation=mutations)
    def prop(mutation: tuple[Any, ...]) -> None:
        nonlocal tried
        tried += 1
        data = _mutate(base, mutation)
        before = _dump(target)
        try:
            sessions = parse_bundle(data)
        except BundleFormatError as exc:
            if not exc.where or "\n" in str(exc):
                outcome.problem(f"import refusal does not name where: {exc} ({mutation!r:.80})")
            if _dump(target) != before:
                outcome.corrupted += 1
                outcome.problem("a refused import file changed the database")
            return
        except Exception as exc:
            outcome.problem(f"parse_bundle raised {type(exc).__name__}: {exc} ({mutation!r:.80})")
            return
        try:
            loop.run_until_complete(memory.import_sessions(sessions))
        except MemoryLayerError:
            if _dump(target) != before:
                outcome.corrupted += 1
                outcome.problem(f"a refused import was half-written ({mutation!r:.80})")
            return
        except Exception as exc:
            outcome.problem(f"import raised {type(exc).__name__}: {exc} ({mutation!r:.80})")
            return
        again = loop.run_until_complete(_export(memory, [s.id for s in sessions]))
        if dumps_bundle(again) != dumps_bundle(sorted(sessions, key=lambda s: s.id)):
            outcome.corrupted += 1
            outcome.problem(f"an accepted import file did not round-trip ({mutation!r:.80})")
        for session in sessions:
            loop.run_until_complete(memory.forget(session.id))

    try:
        prop()
    except Exception as exc:
        outcome.problem(f"import property failed: {type(exc).__name__}: {str(exc)[:400]}")
    finally:
        loop.run_until_complete(memory.close())
        loop.close()
    return tried + _import_cli(base, workdir, outcome) + _unstorable_message(workdir, outcome)


async def _export(memory: Any, ids: list[str]) -> list[Any]:
    return [s async for s in memory.export_sessions(ids)]


def _unstorable_message(workdir: Path, outcome: Outcome) -> int:
    """``turnkeep ask`` given bytes that are not UTF-8 (a lone surrogate once decoded):
    refused in one line before anything is created."""
    db = workdir / "argv.db"
    env = child_env(workdir / "home", {"TURNKEEP_DB__PATH": str(db)})
    argv = [sys.executable.encode(), b"-m", b"tui", b"ask", b"--provider", b"scripted"]
    done = subprocess.run(
        [*argv, b"not \xff UTF-8"], env=env, cwd=workdir, capture_output=True, check=False
    )
    err = done.stderr.decode("utf-8", "replace")
    lines = err.strip().splitlines()
    outcome.expect(
        done.returncode == 1 and len(lines) == 1 and "lone surrogate" in err,
        f"ask with a message that is not UTF-8: exit {done.returncode}, {lines[:3]}",
    )
    outcome.expect(not db.exists(), "a refused message still created the database/a session")
    return 1


def _import_cli(base: str, workdir: Path, outcome: Outcome) -> int:
    db = workdir / "cli-import.db"
    env = child_env(workdir / "home", {"TURNKEEP_DB__PATH": str(db)})
    seeded = run_cli(["ask", "--provider", "scripted", "keep me"], env=env, cwd=workdir)
    outcome.expect(seeded.returncode == 0, f"seeding the import target: {seeded.stderr}")
    cases = {
        "truncated": (base[: len(base) // 2].encode(), 1),
        "not UTF-8": (base.encode()[:40] + b"\xff\xfe" + base.encode()[42:], 1),
        "wrong version": (base.replace('"version": 2', '"version": 99', 1).encode(), 1),
        "a bad seq": (base.replace('{"seq": 2,', '{"seq": -2,', 1).encode(), 1),
        "empty": (b"", 1),
    }
    for label, (data, code) in cases.items():
        path = workdir / f"bad-{label.replace(' ', '-')}.json"
        path.write_bytes(data)
        before = _dump(db)
        done = run_cli(["sessions", "import", str(path)], env=env, cwd=workdir)
        lines = done.stderr.strip().splitlines()
        outcome.expect(
            done.returncode == code and len(lines) == 1 and lines[0].startswith("turnkeep: "),
            f"import of a {label} file: exit {done.returncode}, {lines[:3]}",
        )
        if _dump(db) != before:
            outcome.corrupted += 1
            outcome.problem(f"import of a {label} file changed the database")
    return len(cases)


@contextlib.contextmanager
def _environment(values: dict[str, str], cwd: Path) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in [*values, "TURNKEEP_CONFIG"]}
    old_cwd = Path.cwd()
    os.environ.update(values)
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(old_cwd)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _settings_property(scale: Scale, workdir: Path, outcome: Outcome) -> int:
    home = workdir / "settings-home"
    config = home / "config.toml"
    home.mkdir(exist_ok=True)
    tried = 0

    def check_load(what: str) -> None:
        try:
            load_settings()
        except SettingsError as exc:
            if "\n" in str(exc) or CANARY in str(exc):
                outcome.problem(f"{what}: the settings error is not one safe line: {exc!r:.200}")
        except Exception as exc:
            outcome.problem(f"{what}: load_settings raised {type(exc).__name__}: {exc}")

    @seed(scale.seed)
    @settings(
        max_examples=scale.examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        raw=st.one_of(st.binary(max_size=200), st.text(_any, max_size=200).map(str.encode)),
        section=st.sampled_from(["db", "agent", "memory", "nope"]),
        key=st.sampled_from(["timeout", "synchronous", "url", "path", "enabled", "tools", "x"]),
        value=toml_values,
        env_key=st.sampled_from(ENV_KEYS),
        env_value=st.text(_any.filter(lambda c: c != "\x00"), max_size=30),
        url=st.one_of(
            st.text(_any, max_size=40),
            st.sampled_from(
                [
                    "ftp://h",
                    "libsql://",
                    "ws://example.com",
                    f"libsql://u:{CANARY}@h.io",
                    "http://[::1",
                ]
            ),
        ),
    )
    def prop(
        raw: bytes, section: str, key: str, value: str, env_key: str, env_value: str, url: str
    ) -> None:
        nonlocal tried
        tried += 1
        with _environment({"TURNKEEP_CONFIG": str(config)}, home):
            config.write_bytes(raw)
            check_load(f"config file {raw!r:.60}")
            config.write_text(f'[db]\nauth_token = "{CANARY}"\n[{section}]\n{key} = {value}\n')
            check_load(f"config [{section}] {key} = {value}")
            config.write_text("")
            with _environment({env_key: env_value}, home):
                check_load(f"{env_key}={env_value!r}")
        try:
            parse_remote_url(url, has_token=True)
        except StoreConfigError as exc:
            if CANARY in str(exc) or "\n" in str(exc):
                outcome.problem(f"a refused URL is echoed unsafely: {exc!r:.200}")
        except Exception as exc:
            outcome.problem(f"parse_remote_url({url!r}) raised {type(exc).__name__}: {exc}")

    try:
        prop()
    except Exception as exc:
        outcome.problem(f"settings property failed: {type(exc).__name__}: {str(exc)[:400]}")
    return tried + _settings_cli(workdir, outcome)


def _settings_cli(workdir: Path, outcome: Outcome) -> int:
    cases: dict[str, tuple[dict[str, str], bytes | None]] = {
        "timeout abc": ({"TURNKEEP_DB__TIMEOUT": "abc"}, None),
        "synchronous sometimes": ({"TURNKEEP_DB__SYNCHRONOUS": "sometimes"}, None),
        "negative busy timeout": ({"TURNKEEP_DB__BUSY_TIMEOUT": "-1"}, None),
        "bad TOML": ({}, b"[db\ntimeout = ="),
        "TOML not UTF-8": ({}, b'[db]\ntimeout = "\xff"\n'),
        "wrong TOML type": ({}, f'[db]\nauth_token = "{CANARY}"\ntimeout = "soon"\n'.encode()),
        "missing config file": ({"TURNKEEP_CONFIG": str(workdir / "nope.toml")}, None),
        "ftp URL": ({"TURNKEEP_DB__URL": "ftp://example.com/db"}, None),
        "password in URL": ({"TURNKEEP_DB__URL": f"libsql://me:{CANARY}@example.com"}, None),
        "clear text to a remote host": (
            {"TURNKEEP_DB__URL": "ws://example.com", "TURNKEEP_DB__AUTH_TOKEN": CANARY},
            None,
        ),
    }
    for label, (extra, toml) in cases.items():
        home = workdir / f"settings-{label.replace(' ', '-')}"
        env = child_env(home, extra)
        if toml is not None:
            (home / "config" / "turnkeep").mkdir(parents=True, exist_ok=True)
            (home / "config" / "turnkeep" / "config.toml").write_bytes(toml)
        done = run_cli(["sessions", "list"], env=env, cwd=home)
        lines = done.stderr.strip().splitlines()
        outcome.expect(
            done.returncode == 2 and len(lines) == 1 and lines[0].startswith("turnkeep: "),
            f"settings '{label}': exit {done.returncode}, {lines[:3]}",
        )
        outcome.expect(
            CANARY not in done.stderr + done.stdout, f"settings '{label}' echoed a secret"
        )
        created = [p for p in (home / "data").rglob("*") if p.is_file()]
        outcome.expect(not created, f"settings '{label}': files were created: {created}")
    return len(cases)


def run_into(scale: Scale, workdir: Path, outcome: Outcome) -> int:
    """Run both properties, recording into ``outcome``; return the inputs tried."""
    return _import_property(scale, workdir, outcome) + _settings_property(scale, workdir, outcome)
