"""Model strings a user writes (``--judge``, ``--grader``, ``--model``, ``model:``), checked early.

Inspect only looks a model string up when a run builds the model, i.e. after a run folder
and its manifest are written, and a missing key then shows up as an error log. These
checks run while planning, without building a model and without any network call:

* :func:`check_provider`: the ``provider/`` part names a model API registered with
  Inspect (its own, alignprobe's, or an installed package's);
* :func:`missing_key_env`: for the providers whose key comes from a fixed environment
  variable (``openai``, ``anthropic``, ``openai-api/<service>``), that variable is set.
"""

from __future__ import annotations

import os
from pathlib import Path

from alignprobe.errors import ConfigError


def _registered(provider: str) -> bool:
    from inspect_ai._util.registry import RegistryInfo, registry_find, registry_unqualified_name

    import alignprobe._registry  # noqa: F401  - registers alignprobe's providers

    def match(info: RegistryInfo) -> bool:  # Inspect's own lookup in get_model()
        return info.type == "modelapi" and registry_unqualified_name(info) == provider

    return bool(registry_find(match))


def check_provider(
    model: str, *, field: str, source: str | Path | None = None, line: int | None = None
) -> None:
    """``model`` is ``provider/name`` with a provider Inspect knows, else a ConfigError."""
    provider, slash, name = model.partition("/")
    if not slash or not provider or not name:
        raise ConfigError(
            f"expected a model as provider/name (e.g. openai/gpt-4o-2024-08-06), got '{model}'",
            source=source,
            line=line,
            field=field,
        )
    if not _registered(provider):
        raise ConfigError(
            f"unknown model provider '{provider}' in '{model}' (not an Inspect model API: "
            "e.g. openai, anthropic, google, hf, vllm, openai-api/<service>)",
            source=source,
            line=line,
            field=field,
        )


def _key_env(model: str) -> list[list[str]]:
    """Environment variables ``model`` needs: each inner list is satisfied by any of its
    names. Empty where the provider's key is not a fixed variable (local models, cloud
    services with their own credentials)."""
    provider, _, rest = model.partition("/")
    service = rest.split("/")[0]
    if provider == "openai" and service not in ("azure", "bedrock"):
        return [["OPENAI_API_KEY"]]
    if provider == "anthropic" and service not in ("azure", "bedrock", "vertex"):
        return [["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"]]
    if provider == "openai-api" and "/" in rest:
        prefix = service.upper().replace("-", "_")
        return [[f"{prefix}_API_KEY"], [f"{prefix}_BASE_URL"]]
    return []


def missing_key_env(model: str) -> str | None:
    """The environment variable ``model`` needs that is not set (``None``: nothing missing).

    Reads a ``.env`` file first, as Inspect does when a run starts.
    """
    from inspect_ai._util.dotenv import init_dotenv

    init_dotenv()
    for names in _key_env(model):
        if not any(os.environ.get(name) for name in names):
            return " or ".join(names)
    return None


def check_model(model: str, *, field: str, role: str) -> None:
    """Provider known and key set for a model given on the command line."""
    check_provider(model, field=field)
    missing = missing_key_env(model)
    if missing is not None:
        raise ConfigError(
            f"environment variable {missing} is not set (needed by the {role} '{model}')",
            field=field,
        )
