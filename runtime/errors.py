"""The runtime's error tree.

::

    RuntimeLayerError                 base of everything the runtime raises
    ├── SettingsError                 a setting is invalid or the config file is unreadable
    │   └── ProviderConfigError       a provider cannot be set up (also a ProviderError)
    │       ├── ProviderNotInstalledError   the provider's optional package is missing
    │       ├── ModelNotFoundError          the model file / model name does not exist
    │       └── ScriptError                 the scripted provider's script is unreadable or invalid
    ├── ProviderError                 a model provider failed; the turn ends with an ``error`` event
    │   ├── ProviderConnectionError   the server is down, unreachable, or did not answer in time
    │   ├── ProviderAuthError         the server refused the API key
    │   ├── ContextOverflowError      the prompt does not fit the model's context window
    │   └── ProviderResponseError     the provider answered something unusable
    ├── ToolError                     a tool call could not be run (becomes a tool_result error)
    │   ├── UnknownToolError          no tool of that name is registered
    │   └── ToolArgumentsError        the arguments do not match the tool's schema
    ├── PersistenceError              the persistence worker cannot take the events
    │   └── WorkerStoppedError        events were submitted after the worker stopped
    ├── NothingToRetryError           regenerate / edit found no earlier question to redo
    └── ImportWorkerError             an import's parsing process stopped without saying why

Memory errors (:mod:`memory.errors`) pass through the runtime unchanged. Every error
carries a short ``title`` and a ``hint`` saying what a person can do; ``str(error)`` is
the message. Messages never contain an API key.
"""

from __future__ import annotations

from typing import ClassVar

from memory.errors import TitledError

__all__ = [
    "ContextOverflowError",
    "ImportWorkerError",
    "ModelNotFoundError",
    "NothingToRetryError",
    "PersistenceError",
    "ProviderAuthError",
    "ProviderConfigError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderNotInstalledError",
    "ProviderResponseError",
    "RuntimeLayerError",
    "ScriptError",
    "SettingsError",
    "ToolArgumentsError",
    "ToolError",
    "UnknownToolError",
    "WorkerStoppedError",
]


class RuntimeLayerError(TitledError):
    """Base class of every error the runtime raises."""

    title: ClassVar[str] = "turnkeep error"
    default_hint: ClassVar[str] = "Run with --debug for details."


class SettingsError(RuntimeLayerError):
    """A setting is invalid, or the config file cannot be read or parsed."""

    title = "Invalid settings"
    default_hint = "Fix the TURNKEEP_* variables, .env or the config file, then retry."


class ProviderError(RuntimeLayerError):
    """A model provider failed. Within a turn it becomes an ``error`` event."""

    title = "Model provider failed"
    default_hint = "Check the provider settings (TURNKEEP_AGENT__*) and try again."


class ProviderConfigError(ProviderError, SettingsError):
    """A provider cannot be set up as configured (a settings problem, exit code 2)."""

    title = "Model provider is not set up"
    default_hint = "Fix TURNKEEP_AGENT__PROVIDER / TURNKEEP_AGENT__MODEL or the config file."


class ProviderNotInstalledError(ProviderConfigError):
    """The optional package a provider needs is not installed."""

    title = "Model provider not installed"


class ModelNotFoundError(ProviderConfigError):
    """The configured model does not exist (no such file, or unknown to the server)."""

    title = "Model not found"
    default_hint = "Set TURNKEEP_AGENT__MODEL (or --model) to a model the provider has."


class ScriptError(ProviderConfigError):
    """The scripted provider's script cannot be read, parsed, or is used up."""

    title = "Invalid provider script"
    default_hint = "Fix the script file given by --script / TURNKEEP_AGENT__SCRIPT."


class ProviderConnectionError(ProviderError):
    """The provider's server is down, unreachable, or did not answer in time."""

    title = "Cannot reach the model server"
    default_hint = "Start the server, or fix TURNKEEP_AGENT__BASE_URL / OPENAI_BASE_URL."


class ProviderAuthError(ProviderError):
    """The provider refused the API key."""

    title = "Model server refused the API key"
    default_hint = "Check TURNKEEP_AGENT__API_KEY or OPENAI_API_KEY."


class ContextOverflowError(ProviderError):
    """The prompt does not fit the model's context window."""

    title = "Message too long for the model"
    default_hint = (
        "Send a shorter message, or raise TURNKEEP_AGENT__CONTEXT_WINDOW if the model allows."
    )


class ProviderResponseError(ProviderError):
    """The provider answered something that cannot be used."""

    title = "Unusable answer from the model"


class ToolError(RuntimeLayerError):
    """A tool call could not be run; recorded as the tool result's error."""

    title = "Tool failed"
    default_hint = "The model can retry with other arguments."


class UnknownToolError(ToolError):
    """The model asked for a tool that is not registered."""

    title = "Unknown tool"


class ToolArgumentsError(ToolError):
    """The arguments do not match the tool's JSON schema."""

    title = "Invalid tool arguments"


class PersistenceError(RuntimeLayerError):
    """The persistence worker cannot take or keep events."""

    title = "Cannot save the conversation"
    default_hint = "Run `turnkeep db status` to check the database."


class WorkerStoppedError(PersistenceError):
    """Events were submitted after the persistence worker was stopped."""

    title = "Persistence worker stopped"
    default_hint = "Start a new worker before submitting more events."


class NothingToRetryError(RuntimeLayerError):
    """Regenerate or edit found no question to ask again (or a turn is still saving)."""

    title = "Nothing to regenerate"
    default_hint = "Send a message first; regenerate and edit work on the last question."


class ImportWorkerError(RuntimeLayerError):
    """The child process parsing an import stopped without reporting an error (it was
    killed, or crashed); what was written before it stopped is whole."""

    title = "Import stopped"
    default_hint = (
        "Run the same import again: it keeps what was imported and resumes where it "
        "stopped. If it stops again, run it with --debug and report the output."
    )
