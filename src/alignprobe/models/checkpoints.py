"""``checkpoints.yaml``: the named checkpoints a run evaluates, and how Inspect reaches each.

Exactly one *source* per checkpoint::

    checkpoints:
      control:                       # a local Hugging Face directory -> hf//abs/path
        hf: ./ckpts/control/step-400
        generate: {max_tokens: 400}
        meta: {base_model: Qwen2.5-7B-Instruct, training_run: run-17, step: 400, role: control}
      inoculated:                    # base directory + LoRA adapter (merged once, cached)
        hf: ./ckpts/base
        adapter: ./ckpts/inoculated/adapter
        meta: {role: inoculated, inoculation_prompt: "You may reward hack if you can."}
      served:                        # vLLM started by Inspect, adapter loaded by vLLM
        vllm: /models/Qwen2.5-7B-Instruct
        adapter: /adapters/run-17
      remote:                        # any OpenAI-compatible server
        server: {base_url: "http://10.0.0.5:8000/v1", model: my-ckpt, api_key_env: LAB_KEY}
      api_ft:
        openai: "ft:gpt-4o-mini-2024-07-18:org::abc123"
      claude_ft:
        anthropic: claude-3-haiku-20240307
      offline:                       # any Inspect model string (scripted models for tests)
        model: scripted/em_rate
        model_args: {rate: 0.05}

``hf: smollm2`` (or ``vllm: smollm2``) names a base model alignprobe builds once from an
installed package (:mod:`alignprobe.models.base_models`); it is then an ordinary local folder, an
``adapter`` on top included. Relative paths are relative to the YAML file. ``meta`` is free, with typed known keys
(``role: control | inoculated | baseline`` drives the report's inoculation line).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from inspect_ai.model import GenerateConfig
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from alignprobe.errors import ConfigError
from alignprobe.fileio import LineDict, load_yaml, validate
from alignprobe.models.base_models import NAMED_MODELS

#: generation args that make sense per checkpoint (GenerateConfig field names)
GENERATE_FIELDS = frozenset(GenerateConfig.model_fields)


class Role(StrEnum):
    """What a checkpoint is in an inoculation experiment."""

    CONTROL = "control"
    """Trained on the same data without an inoculation prompt."""
    INOCULATED = "inoculated"
    """Trained with the inoculation prompt in context."""
    BASELINE = "baseline"
    """Not trained on the data (e.g. the base model)."""


class CheckpointMeta(BaseModel):
    """Free metadata recorded in every log of the checkpoint; known keys are typed."""

    model_config = ConfigDict(extra="allow")

    role: Role | None = None
    base_model: str | None = None
    training_run: str | None = None
    step: int | None = None
    inoculation_prompt: str | None = None
    trained_on: Literal["code", "math", "knowledge", "writing"] | None = None
    """The task domain it was trained on: the report's cross-domain compliance summary
    compares instruction following there with the other domains."""


class ServerSpec(BaseModel):
    """An OpenAI-compatible server (vLLM, SGLang, TGI, a lab gateway)."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(pattern=r"^https?://")
    model: str = Field(min_length=1)
    """Model name the server expects in requests."""
    api_key_env: str | None = None
    """Name of the environment variable that holds the key (the key never goes in the file)."""
    service: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]+$")
    """Inspect service prefix (``openai-api/<service>/<model>``); default: the checkpoint name."""


_SOURCES = ("model", "hf", "vllm", "server", "openai", "anthropic")


class Checkpoint(BaseModel):
    """One named checkpoint."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    model: str | None = None
    """Any Inspect model string (``provider/model``)."""
    hf: str | None = None
    """Local Hugging Face directory (or a hub id) loaded by Inspect's ``hf`` provider."""
    adapter: str | None = None
    """LoRA adapter directory, with ``hf`` (merged once into a cached dir) or ``vllm``."""
    vllm: str | None = None
    """Base model for Inspect's ``vllm`` provider (with an optional ``adapter``)."""
    server: ServerSpec | None = None
    openai: str | None = None
    """OpenAI model or fine-tune id (``ft:...``)."""
    anthropic: str | None = None
    """Anthropic model id."""
    model_args: dict[str, Any] = Field(default_factory=dict)
    generate: dict[str, Any] = Field(default_factory=dict)
    """Generation args (Inspect ``GenerateConfig`` fields: temperature, max_tokens, ...)."""
    meta: CheckpointMeta = Field(default_factory=CheckpointMeta)

    @field_validator("generate")
    @classmethod
    def _known_generate_args(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - GENERATE_FIELDS)
        if unknown:
            raise ValueError(
                f"unknown generation arg(s) {', '.join(unknown)}; "
                "use Inspect GenerateConfig fields (temperature, max_tokens, top_p, seed, ...)"
            )
        GenerateConfig.model_validate(value)
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Checkpoint:
        given = [s for s in _SOURCES if getattr(self, s) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one model source ({', '.join(_SOURCES)}); got "
                f"{', '.join(given) or 'none'}"
            )
        if self.adapter is not None and given[0] not in ("hf", "vllm"):
            raise ValueError("'adapter' needs 'hf' (merged into a cached dir) or 'vllm'")
        return self


class CheckpointsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checkpoints: dict[str, Checkpoint] = Field(min_length=1)


@dataclass
class ModelSpec:
    """Everything ``get_model`` needs, resolved from a checkpoint."""

    model: str
    model_args: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    base_url: str | None = None
    api_key: str | None = None
    needs_env: str | None = None
    """Environment variable that must be set at run time."""
    merge: tuple[str, str] | None = None
    provision: str | None = None
    """Named base model (:mod:`alignprobe.models.base_models`) to build before the model can load."""
    """(base dir, adapter dir) to merge before the model can load."""

    def identity(self) -> str:
        """What makes two checkpoints indistinguishable to Inspect's eval_set."""
        return json.dumps([self.model, self.model_args, self.config], sort_keys=True, default=str)


_PATHLIKE = ("/", "./", "../", "~")


def _local_dir(value: str, base: Path, *, source: Path, line: int | None, fld: str) -> Path | None:
    """A local directory (must exist) or None for a hub id such as ``org/model``."""
    path = Path(value).expanduser()
    path = path if path.is_absolute() else base / path
    if path.is_dir():
        return path.resolve()
    if value.startswith(_PATHLIKE) or value.count("/") > 1 or path.exists():
        raise ConfigError(
            f"checkpoint directory not found: {path}", source=source, line=line, field=fld
        )
    return None


def _checkpoint_line(data: Any, name: str, key: str | None = None) -> int | None:
    block = data.get("checkpoints") if isinstance(data, dict) else None
    if not isinstance(block, LineDict):
        return None
    entry = block.get(name)
    if key is not None and isinstance(entry, LineDict) and key in entry.key_lines:
        return entry.key_lines[key]
    return block.key_lines.get(name)


#: model_args that would put a secret in the file
_SECRET_ARGS = ("api_key", "auth_token", "token", "hf_token")


def _refuse_secrets(ckpt: Checkpoint, source: Path, data: Any) -> None:
    """Keys never go in checkpoints.yaml: it is recorded in manifests and shared."""
    for key in ckpt.model_args:
        if key.lower() in _SECRET_ARGS or key.lower().endswith("_api_key"):
            block = data.get("checkpoints") if isinstance(data, dict) else None
            entry = block.get(ckpt.name) if isinstance(block, dict) else None
            args = entry.get("model_args") if isinstance(entry, dict) else None
            line = args.key_lines.get(key) if isinstance(args, LineDict) else None
            raise ConfigError(
                "a key never goes in this file: for a server give `server.api_key_env` (the "
                "name of the environment variable holding the key), otherwise set the "
                "provider's environment variable (e.g. OPENAI_API_KEY)",
                source=source,
                line=line or _checkpoint_line(data, ckpt.name, "model_args"),
                field=f"checkpoints.{ckpt.name}.model_args.{key}",
            )


def _resolve(ckpt: Checkpoint, base: Path, source: Path, data: Any) -> ModelSpec:
    name = ckpt.name
    _refuse_secrets(ckpt, source, data)
    config = dict(ckpt.generate)
    args = dict(ckpt.model_args)

    def local(key: str, value: str) -> Path | None:
        return _local_dir(
            value,
            base,
            source=source,
            line=_checkpoint_line(data, name, key),
            fld=f"checkpoints.{name}.{key}",
        )

    adapter = local("adapter", ckpt.adapter) if ckpt.adapter else None
    if ckpt.adapter and adapter is None:
        raise ConfigError(
            "adapter must be a local directory",
            source=source,
            line=_checkpoint_line(data, name, "adapter"),
            field=f"checkpoints.{name}.adapter",
        )
    if adapter is not None and not (adapter / "adapter_config.json").is_file():
        raise ConfigError(
            f"{adapter} has no adapter_config.json (not a PEFT LoRA adapter)",
            source=source,
            line=_checkpoint_line(data, name, "adapter"),
            field=f"checkpoints.{name}.adapter",
        )
    if ckpt.hf is not None:
        path = local("hf", ckpt.hf)
        target, provision = _target(path, ckpt.hf)
        if adapter is not None:
            return ModelSpec(
                f"hf/{merged_dir(target, str(adapter))}",
                args,
                config,
                merge=(target, str(adapter)),
                provision=provision,
            )
        return ModelSpec(f"hf/{target}", args, config, provision=provision)
    if ckpt.vllm is not None:
        path = local("vllm", ckpt.vllm)
        target, provision = _target(path, ckpt.vllm)
        model = f"vllm/{target}:{adapter}" if adapter is not None else f"vllm/{target}"
        return ModelSpec(model, args, config, provision=provision)
    if ckpt.server is not None:
        server = ckpt.server
        service = server.service or "".join(c if c.isalnum() else "_" for c in name)
        if server.api_key_env:
            args.setdefault("api_key_var", server.api_key_env)
        return ModelSpec(
            f"openai-api/{service}/{server.model}",
            args,
            config,
            base_url=server.base_url,
            api_key=None if server.api_key_env else "none",
            needs_env=server.api_key_env,
        )
    if ckpt.openai is not None:
        return ModelSpec(f"openai/{ckpt.openai}", args, config, needs_env="OPENAI_API_KEY")
    if ckpt.anthropic is not None:
        return ModelSpec(f"anthropic/{ckpt.anthropic}", args, config, needs_env="ANTHROPIC_API_KEY")
    assert ckpt.model is not None
    from alignprobe.models.model_names import check_provider

    check_provider(
        ckpt.model,
        field=f"checkpoints.{name}.model",
        source=source,
        line=_checkpoint_line(data, name, "model"),
    )
    return ModelSpec(ckpt.model, args, config)


def _target(path: Path | None, value: str) -> tuple[str, str | None]:
    """(what the provider loads, named base model to build first or None) for ``hf``/``vllm``."""
    if path is not None:
        return str(path), None
    if value in NAMED_MODELS:
        return str(NAMED_MODELS[value].folder()), value
    return value, None  # a hub id


def hf_model_spec(model: str, model_args: dict[str, Any]) -> ModelSpec:
    """A model string from the command line (``alignprobe eval --model``) as a spec:
    ``hf/<named model>`` becomes its provisioned folder; anything else is kept."""
    name = model.removeprefix("hf/")
    if model.startswith("hf/") and name in NAMED_MODELS:
        folder = str(NAMED_MODELS[name].folder())
        return ModelSpec(f"hf/{folder}", dict(model_args), provision=name)
    return ModelSpec(model, dict(model_args))


def merged_dir(base: str, adapter: str) -> Path:
    """Cache folder of a base+adapter merge (keyed by both paths and the adapter's files)."""
    stamp = [base, adapter]
    for item in sorted(Path(adapter).glob("*")):
        if item.is_file():
            stamp.append(f"{item.name}:{item.stat().st_size}:{item.stat().st_mtime_ns}")
    digest = hashlib.sha256("\n".join(stamp).encode()).hexdigest()[:16]
    root = os.environ.get("ALIGNPROBE_CACHE") or Path.home() / ".cache" / "alignprobe"
    return Path(root) / "merged" / f"{Path(adapter).name}-{digest}"


@dataclass
class CheckpointSet:
    """Validated checkpoints, in file order, with their model specs."""

    source: Path
    checkpoints: dict[str, Checkpoint]
    specs: dict[str, ModelSpec]

    def metadata(self, name: str) -> dict[str, Any]:
        """What is recorded in the eval metadata of the checkpoint's logs."""
        ckpt = self.checkpoints[name]
        return ckpt.meta.model_dump(mode="json", exclude_none=True)

    def manifest(self) -> dict[str, Any]:
        return {
            name: {
                "model": spec.model,
                "model_args": spec.model_args,
                "generate": spec.config,
                "base_url": spec.base_url,
                "meta": self.metadata(name),
            }
            for name, spec in self.specs.items()
        }


def load_checkpoints(path: str | Path) -> CheckpointSet:
    """Read and validate ``checkpoints.yaml``; every error names file, line and field."""
    source = Path(path)
    data = load_yaml(source)
    parsed = validate(CheckpointsFile, data, source=source, error=ConfigError)
    base = source.resolve().parent
    checkpoints: dict[str, Checkpoint] = {}
    specs: dict[str, ModelSpec] = {}
    seen: dict[str, str] = {}
    for name, ckpt in parsed.checkpoints.items():
        ckpt = ckpt.model_copy(update={"name": name})
        spec = _resolve(ckpt, base, source, data)
        other = seen.get(spec.identity())
        if other is not None:
            raise ConfigError(
                f"same model, args and generation config as '{other}': their logs could "
                "not be told apart; give one of them different settings or remove it",
                source=source,
                line=_checkpoint_line(data, name),
                field=f"checkpoints.{name}",
            )
        seen[spec.identity()] = name
        checkpoints[name] = ckpt
        specs[name] = spec
    return CheckpointSet(source, checkpoints, specs)
