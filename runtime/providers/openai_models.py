"""The models an OpenAI-compatible server serves (``GET {base_url}/models``).

Used by the model picker and by the ``openai`` provider when no model is named: a
server that serves exactly one model (llama.cpp's does) needs no ``agent.model``; one
that serves several asks for a choice, naming them. aiohttp errors and HTTP error
answers are translated here into :class:`~runtime.errors.ProviderError` subclasses; the
API key travels only in the ``Authorization`` header.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

import aiohttp
from pydantic import SecretStr

from runtime.errors import (
    ProviderAuthError,
    ProviderConfigError,
    ProviderConnectionError,
    ProviderResponseError,
)

__all__ = ["fetch_models", "only_model", "parse_models"]

#: The most models read from one answer (an aggregator may list thousands).
MAX_MODELS: Final = 2000
_MAX_BODY: Final = 4 * 1024 * 1024


def parse_models(body: str, where: str) -> list[str]:
    """The model ids of a ``/models`` answer (``{"data": [{"id": ...}, ...]}``), sorted.

    Raises:
        ProviderResponseError: the answer is not that shape.
    """
    try:
        data: Any = json.loads(body)
    except ValueError as exc:
        raise ProviderResponseError(f"{where}/models answered something that is not JSON") from exc
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ProviderResponseError(f"{where}/models answered JSON without a 'data' list")
    ids = {
        item["id"] for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)
    }
    return sorted(ids)[:MAX_MODELS]


async def fetch_models(
    base_url: str, api_key: SecretStr | None, *, where: str, seconds: float = 30.0
) -> list[str]:
    """Ask the server which models it serves.

    Raises:
        ProviderAuthError: the server refused the key.
        ProviderConnectionError: the server is down, unreachable or too slow.
        ProviderResponseError: any other answer than a model list.
    """
    headers = {"Accept": "application/json"}
    if api_key is not None:
        headers["Authorization"] = f"Bearer {api_key.get_secret_value()}"
    limits = aiohttp.ClientTimeout(total=seconds)
    try:
        async with (
            aiohttp.ClientSession(timeout=limits) as session,
            session.get(f"{base_url}/models", headers=headers) as response,
        ):
            raw = (await response.content.read(_MAX_BODY)).decode("utf-8", "replace")
            status = response.status
    except TimeoutError as exc:
        raise ProviderConnectionError(
            f"{where} did not list its models within {seconds:g} s"
        ) from exc
    except aiohttp.ClientConnectorError as exc:
        reason = getattr(exc.os_error, "strerror", None) or type(exc.os_error).__name__
        raise ProviderConnectionError(f"cannot connect to {where}: {reason}") from exc
    except aiohttp.ClientError as exc:
        raise ProviderConnectionError(
            f"lost the connection to {where}: {type(exc).__name__}"
        ) from exc
    if status in (401, 403):
        raise ProviderAuthError(f"{where} refused the API key when listing models (HTTP {status})")
    if status >= 400:
        raise ProviderResponseError(
            f"{where} did not list its models (HTTP {status})",
            hint="Check TURNKEEP_AGENT__BASE_URL (it usually ends in /v1), or name the model "
            "with TURNKEEP_AGENT__MODEL.",
        )
    return parse_models(raw, where)


def only_model(models: Sequence[str], where: str) -> str:
    """The one model of a single-model server.

    Raises:
        ProviderConfigError: the server serves none, or several (they are named).
    """
    if len(models) == 1:
        return models[0]
    if not models:
        raise ProviderConfigError(
            f"{where} serves no model",
            hint="Load a model in the server, or name one: TURNKEEP_AGENT__MODEL=NAME "
            "(`turnkeep ask --model NAME` for one command).",
        )
    shown = ", ".join(models[:8]) + (", …" if len(models) > 8 else "")
    raise ProviderConfigError(
        f"{where} serves {len(models)} models ({shown}); choose one",
        hint="Press F2 in a session to pick one, or set TURNKEEP_AGENT__MODEL=NAME "
        "(`turnkeep ask --model NAME` for one command).",
    )
