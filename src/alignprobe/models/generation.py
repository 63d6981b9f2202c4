"""Which generation settings reach the model under test, when several places set one.

For each (checkpoint, task) of a run, from lowest to highest precedence:

1. alignprobe's run defaults (:data:`alignprobe.run.defaults.LARGE_RUN_GENERATE`: bounded
   retries and timeouts);
2. the task: the probe family's defaults and the suite's task ``params`` (``max_tokens``,
   ``temperature``, ...), i.e. ``Task.config``;
3. the checkpoint's ``generate:`` block in ``checkpoints.yaml``;
4. ``alignprobe run --generate KEY=VALUE`` on the command line (every checkpoint).

The one exception: fields a task's scoring method needs (listed by the task in its metadata
as ``generate_pinned``, e.g. ``logprobs`` for letter-probability answers) keep the task's
value; a checkpoint or CLI value for them is *not applied to that task*, and the run's
manifest and terminal say so. ``max_retries`` and ``timeout`` also reach the judge's calls
of that task (Inspect passes them to role models); the judge's own sampling settings
(``max_tokens``, ``temperature``, logprobs) are the judge's and never change.

Last, a setting the model's provider cannot take as written is expressed in a form it can
(:func:`for_provider`): greedy decoding (``temperature=0``) reaches Inspect's ``hf/``
provider as ``top_k=1``, since transformers raises on a temperature of 0; the manifest
records it per task (``adapted``).

Everything is decided before the run starts and written to ``manifest.json`` per task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inspect_ai import Task
from inspect_ai.model import GenerateConfig

from alignprobe.errors import ConfigError
from alignprobe.measures import TASK_METADATA_KEY

#: Task-metadata key (inside the ``alignprobe_task`` block) listing fields a task's method fixes
PINNED_KEY = "generate_pinned"


@dataclass
class Generation:
    """The settings one (checkpoint, task) runs with, and what was set but not applied."""

    config: GenerateConfig
    not_applied: dict[str, str] = field(default_factory=dict)
    """``{field: why}`` for user settings the task's method overrides."""
    adapted: dict[str, str] = field(default_factory=dict)
    """``{field: how}`` for settings rewritten for the model's provider (:func:`for_provider`)."""

    def manifest(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "config": self.config.model_dump(mode="json", exclude_none=True),
            "not_applied": self.not_applied,
        }
        if self.adapted:
            record["adapted"] = self.adapted
        return record


#: Inspect's Hugging Face transformers provider (``hf/<path or hub id>``)
HF_PREFIX = "hf/"
#: alignprobe's reproducible local provider (``local/<folder>``)
LOCAL_PREFIX = "local/"
#: run-default bounds a ``local/`` call does not get: a call there waits for its eval's
#: round (every waiting sample's request, generated batch by batch), minutes for a large
#: eval on a CPU, and cutting it short would only start the round again. Set in a
#: checkpoint's ``generate:`` or with ``--generate``, they apply as written.
LOCAL_UNBOUNDED = ("attempt_timeout", "timeout")


def for_provider(model: str, config: GenerateConfig) -> tuple[GenerateConfig, dict[str, str]]:
    """``config`` in a form ``model``'s provider accepts, and ``{field: how}`` it was changed.

    Inspect's ``hf/`` provider samples (``do_sample=True``) unless the model was created
    with ``do_sample=False``, and transformers raises on ``temperature=0`` when sampling;
    sampling from the single most likely token (``top_k=1``) is greedy decoding, per call,
    whatever the model was created with.
    """
    if not model.startswith(HF_PREFIX) or config.temperature != 0:
        return config, {}
    greedy = config.model_copy(update={"temperature": None, "top_k": 1})
    return greedy, {"temperature": "temperature=0 sent to hf/ as top_k=1 (greedy decoding)"}


def pinned_fields(task: Task) -> set[str]:
    block = (task.metadata or {}).get(TASK_METADATA_KEY) or {}
    return set(block.get(PINNED_KEY) or [])


def resolve_generation(
    task: Task,
    run_defaults: GenerateConfig,
    checkpoint: dict[str, Any],
    cli: dict[str, Any],
    model: str = "",
) -> Generation:
    """Merge the four layers (see the module docstring) for one task run on ``model``."""
    pinned = pinned_fields(task)
    adapted: dict[str, str] = {}
    if model.startswith(LOCAL_PREFIX):
        run_defaults = run_defaults.model_copy(update=dict.fromkeys(LOCAL_UNBOUNDED))
        for key in LOCAL_UNBOUNDED:
            adapted[key] = (
                f"run default {key} not applied to local/: a call waits for its eval's "
                "round of batches"
            )
    config = run_defaults.merge(task.config)
    not_applied: dict[str, str] = {}
    for where, layer in (("checkpoint generate", checkpoint), ("--generate", cli)):
        applied = {}
        for key, value in layer.items():
            if key in pinned and getattr(task.config, key) != value:
                not_applied[key] = f"{where} {key}={value!r}: the task's answer method needs " + (
                    f"{key}={getattr(task.config, key)!r}"
                )
            else:
                applied[key] = value
        config = config.merge(GenerateConfig.model_validate(applied))
    config, provider_changes = for_provider(model, config)
    for key in LOCAL_UNBOUNDED:  # the user's own bound is applied as written
        if key in adapted and getattr(config, key) is not None:
            del adapted[key]
    return Generation(config, not_applied, {**adapted, **provider_changes})


def parse_generate_args(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``--generate KEY=VALUE`` pairs, values parsed as YAML scalars and validated."""
    from alignprobe.task_params import parse_key_values

    args = parse_key_values(pairs, "--generate", empty=None)
    for key in args:
        if key not in GenerateConfig.model_fields:
            raise ConfigError(
                f"unknown generation setting '{key}'; use Inspect GenerateConfig fields "
                "(max_tokens, temperature, top_p, seed, max_retries, timeout, attempt_timeout, ...)",
                field="--generate",
            )
    try:
        GenerateConfig.model_validate(args)
    except ValueError as exc:
        first = str(exc).splitlines()
        raise ConfigError(
            f"invalid value: {' '.join(first[1:3]).strip()}", field="--generate"
        ) from None
    return args
