"""The ``agent`` settings section: defaults, OPENAI_* conventions, precedence, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime import SettingsError, load_settings
from runtime.providers import make_provider
from runtime.providers.openai import OpenAIProvider

SECRET = "sk-tk-canary-SECRET-51d2"


def test_defaults_select_the_local_provider() -> None:
    agent = load_settings().agent
    assert agent.provider == "local"
    assert (agent.model, agent.base_url, agent.api_key, agent.model_path) == (
        None,
        None,
        None,
        None,
    )
    assert agent.context_window == 2048
    assert agent.max_tokens == 256
    assert agent.tools is True
    assert agent.tool_choice == "auto"


def test_openai_conventions_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    agent = load_settings().agent
    assert agent.api_key is not None
    assert agent.api_key.get_secret_value() == SECRET
    assert agent.base_url == "http://127.0.0.1:9/v1"
    provider = make_provider(agent, "openai", model="m")
    assert isinstance(provider, OpenAIProvider)
    assert provider.where == "http://127.0.0.1:9/v1"


def test_turnkeep_variables_beat_openai_ones_and_toml(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = isolated_env / "config" / "turnkeep" / "config.toml"
    toml.parent.mkdir(parents=True)
    toml.write_text(
        '[agent]\nprovider = "openai"\nmodel = "from-toml"\nbase_url = "http://toml/v1"\n'
    )
    assert load_settings().agent.base_url == "http://toml/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://openai-env/v1")
    assert load_settings().agent.base_url == "http://openai-env/v1"
    monkeypatch.setenv("TURNKEEP_AGENT__BASE_URL", "http://turnkeep-env/v1")
    monkeypatch.setenv("TURNKEEP_AGENT__MAX_TOKENS", "32")
    agent = load_settings().agent
    assert (agent.provider, agent.model, agent.base_url, agent.max_tokens) == (
        "openai",
        "from-toml",
        "http://turnkeep-env/v1",
        32,
    )
    assert load_settings(agent={"provider": "scripted"}).agent.provider == "scripted"


def test_the_api_key_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TURNKEEP_AGENT__API_KEY", SECRET)
    settings = load_settings()
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings.model_dump())
    assert SECRET not in settings.model_dump_json()


def test_invalid_agent_settings_are_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TURNKEEP_AGENT__PROVIDER", "gpt")
    with pytest.raises(SettingsError, match="TURNKEEP_AGENT__PROVIDER") as caught:
        load_settings()
    assert "\n" not in str(caught.value)
    monkeypatch.setenv("TURNKEEP_AGENT__PROVIDER", "local")
    monkeypatch.setenv("TURNKEEP_AGENT__CONTEXT_WINDOW", "10")
    with pytest.raises(SettingsError, match="TURNKEEP_AGENT__CONTEXT_WINDOW"):
        load_settings()
