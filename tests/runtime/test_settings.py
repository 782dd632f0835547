"""Settings: defaults, every source and their precedence, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory import EphemeralMemory, EventDraft, LibsqlMemory
from runtime import SettingsError, load_settings, open_memory
from runtime.settings import config_path, default_db_path

CANARY = "tk-canary-SECRET-7f3a9"


def write_toml(home: Path, text: str) -> Path:
    path = home / "config" / "turnkeep" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_need_no_configuration(isolated_env: Path) -> None:
    settings = load_settings()
    assert settings.mode == "embedded"
    assert settings.db.url is None
    assert settings.db.resolved_path() == isolated_env / "data" / "turnkeep" / "turnkeep.db"
    assert default_db_path() == settings.db.resolved_path()
    assert config_path() == isolated_env / "config" / "turnkeep" / "config.toml"


async def test_embedded_default_works_without_configuration(isolated_env: Path) -> None:
    memory = await open_memory(load_settings())
    try:
        assert isinstance(memory, LibsqlMemory)
        assert await memory.store("s", [EventDraft("user", {"content": "hi"})]) == [1]
    finally:
        await memory.close()
    data_dir = isolated_env / "data" / "turnkeep"
    assert (data_dir / "turnkeep.db").is_file()
    assert data_dir.stat().st_mode & 0o777 == 0o700


def test_precedence_env_over_dotenv_over_turso_over_toml(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_toml(isolated_env, '[db]\nurl = "https://toml.example"\ntimeout = 3\nbusy_timeout = 7\n')
    settings = load_settings()
    assert (settings.db.url, settings.db.timeout, settings.db.busy_timeout) == (
        "https://toml.example",
        3.0,
        7.0,
    )
    monkeypatch.setenv("TURSO_DATABASE_URL", "libsql://turso.example")
    monkeypatch.setenv("TURSO_AUTH_TOKEN", "turso-token")
    settings = load_settings()
    assert settings.db.url == "libsql://turso.example"
    assert settings.db.auth_token is not None
    assert settings.db.auth_token.get_secret_value() == "turso-token"
    assert settings.db.timeout == 3.0  # untouched fields still come from TOML
    Path(".env").write_text("TURNKEEP_DB__URL=wss://dotenv.example\nTURNKEEP_DB__TIMEOUT=4\n")
    settings = load_settings()
    assert settings.db.url == "wss://dotenv.example"
    assert settings.db.timeout == 4.0
    assert settings.db.auth_token is not None  # still from TURSO_AUTH_TOKEN
    monkeypatch.setenv("TURNKEEP_DB__URL", "https://env.example")
    monkeypatch.setenv("TURNKEEP_DB__AUTH_TOKEN", "env-token")
    settings = load_settings()
    assert settings.db.url == "https://env.example"
    assert settings.db.auth_token is not None
    assert settings.db.auth_token.get_secret_value() == "env-token"
    assert settings.mode == "remote"


def test_turnkeep_config_overrides_the_toml_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "elsewhere.toml"
    other.write_text(f'[db]\npath = "{tmp_path / "x.db"}"\n[memory]\nenabled = false\n')
    monkeypatch.setenv("TURNKEEP_CONFIG", str(other))
    settings = load_settings()
    assert settings.db.path == tmp_path / "x.db"
    assert settings.mode == "disabled"


def test_missing_explicit_config_file_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TURNKEEP_CONFIG", "/nonexistent/turnkeep.toml")
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings()


async def test_memory_disabled_uses_the_ephemeral_backend(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TURNKEEP_MEMORY__ENABLED", "false")
    settings = load_settings()
    memory = await open_memory(settings)
    assert isinstance(memory, EphemeralMemory)
    assert (await memory.health()).mode == "disabled"
    assert not (isolated_env / "data" / "turnkeep").exists()


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("TURNKEEP_DB__TIMEOUT", "soon", "db.timeout (TURNKEEP_DB__TIMEOUT)"),
        ("TURNKEEP_DB__TIMEOUT", "-1", "greater than 0"),
        ("TURNKEEP_MEMORY__ENABLED", "perhaps", "memory.enabled (TURNKEEP_MEMORY__ENABLED)"),
        ("TURNKEEP_DB__SYNCHRONOUS", "sometimes", "db.synchronous"),
    ],
)
def test_invalid_setting_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert expected in message
    assert "\n" not in message
    assert "errors.pydantic.dev" not in message


def test_malformed_toml_is_one_clear_line(isolated_env: Path) -> None:
    path = write_toml(isolated_env, "[db\nurl = ")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(path) in str(info.value)


def test_token_never_appears_in_repr_or_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TURNKEEP_DB__AUTH_TOKEN", CANARY)
    settings = load_settings()
    assert CANARY not in repr(settings)
    assert CANARY not in str(settings.model_dump())
    assert CANARY not in settings.model_dump_json()
    monkeypatch.setenv("TURNKEEP_DB__TIMEOUT", "nope")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert CANARY not in str(info.value)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[agnet]\nprovider = "openai"\n', "'agnet'"),
        ('[db]\nmode = "embedded"\n[serach]\nenabled = true\n[price]\n', "'price', 'serach'"),
        ('db_url = "https://example"\n', "'db_url'"),
    ],
)
def test_an_unknown_toml_section_is_refused_by_name(
    isolated_env: Path, text: str, named: str
) -> None:
    path = write_toml(isolated_env, text)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    message = str(refused.value)
    assert str(path) in message and named in message
    assert "[agent]" in message  # what it could have meant
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[db]\nurll = "https://example"\n', "db.urll (in "),
        ('[db]\ntimeout = "abc"\n', "db.timeout (in "),
        ('[prices."m"]\nprompt = "abc"\n', "prices.m.prompt (in "),
    ],
)
def test_a_bad_key_or_value_in_the_file_names_the_file(
    isolated_env: Path, text: str, named: str
) -> None:
    path = write_toml(isolated_env, text)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert f"{named}{path})" in str(refused.value)


def test_a_bad_value_from_the_environment_names_its_variable(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TURNKEEP_DB__TIMEOUT", "abc")
    with pytest.raises(SettingsError, match=r"db\.timeout \(TURNKEEP_DB__TIMEOUT\)"):
        load_settings()
