"""Turn a resolved :class:`~alignprobe.models.checkpoints.ModelSpec` into an Inspect ``Model``.

Two things Inspect does not do for us:

* a local ``hf/`` checkpoint unknown to Inspect's model database would be loaded twice
  (once to look up its context window); registering it with ``set_model_info`` first
  avoids that;
* Inspect's ``hf`` provider takes no LoRA adapter, so an ``hf`` + ``adapter`` checkpoint
  is merged once with ``peft`` into a cache folder and loaded from there (``vllm``
  checkpoints hand the adapter to vLLM instead).

And two that alignprobe adds: a named base model (``hf: smollm2``) is built from its
package on first use (:mod:`alignprobe.models.base_models`), and an ``hf/`` checkpoint gets its
own chat template wrapped so that a final assistant message is continued (a prefill, see
:mod:`alignprobe.models.continuation`); the template renders every other conversation unchanged.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

from inspect_ai.model import Model, ModelInfo, get_model, set_model_info

from alignprobe.errors import ConfigError
from alignprobe.models.base_models import provision
from alignprobe.models.checkpoints import ModelSpec, loads_local_weights, weights_folder
from alignprobe.models.continuation import hf_chat_template
from alignprobe.models.model_names import missing_key_env
from alignprobe.progress import step


def _register_hf(model: str) -> None:
    directory = Path(weights_folder(model))
    config_file = directory / "config.json"
    context: int | None = None
    if config_file.is_file():
        config: dict[str, Any] = json.loads(config_file.read_text(encoding="utf-8"))
        context = config.get("max_position_embeddings") or config.get("n_positions")
    set_model_info(
        model, ModelInfo(organization="local", model=directory.name, context_length=context)
    )


def merge_adapter(base: str, adapter: str, target: Path) -> Path:
    """Merge a PEFT LoRA adapter into its base once; later calls reuse ``target``."""
    if (target / "config.json").is_file():
        return target
    try:
        from peft import PeftModel
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise ConfigError(
            "an 'hf' checkpoint with an 'adapter' needs peft and transformers to merge the "
            "adapter (pip install peft), or serve it with 'vllm' + 'adapter' instead",
            field="adapter",
        ) from exc
    partial = target.with_name(target.name + ".partial")
    with step(f"merging adapter {adapter} into {base} (once, cached in {target})"):
        model = AutoModelForCausalLM.from_pretrained(base)
        with warnings.catch_warnings():  # peft calls a transformers API deprecated for v6
            warnings.simplefilter("ignore", FutureWarning)
            merged = PeftModel.from_pretrained(model, adapter).merge_and_unload()
        merged.save_pretrained(partial)
        AutoTokenizer.from_pretrained(
            adapter if Path(adapter, "tokenizer_config.json").is_file() else base
        ).save_pretrained(partial)
    # rename last so an interrupted merge is never mistaken for a finished one
    partial.rename(target)
    return target


def checkpoint_model(spec: ModelSpec) -> Model:
    """An Inspect model for one checkpoint (not memoized: each checkpoint its own)."""
    if spec.needs_env and not os.environ.get(spec.needs_env):
        raise ConfigError(
            f"environment variable {spec.needs_env} is not set (the checkpoint's key)",
            field="api_key_env",
        )
    if spec.needs_env is None and spec.api_key is None and spec.base_url is None:
        missing = missing_key_env(spec.model)  # a `model:` string of a keyed provider
        if missing is not None:
            raise ConfigError(
                f"environment variable {missing} is not set (needed by the checkpoint "
                f"'{spec.model}')",
                field="model",
            )
    if spec.provision is not None:
        provision(spec.provision)
    if spec.merge is not None:
        merge_adapter(*spec.merge, Path(weights_folder(spec.model)))
    if loads_local_weights(spec.model):
        _register_hf(spec.model)
        folder = weights_folder(spec.model)
        template = hf_chat_template(folder, spec.model_args.get("chat_template"))
        extra = {"chat_template": template} if template is not None else {}
        # Inspect's hf provider loads the weights here, before the run's display starts
        with step(f"loading {spec.model}"):
            return _get_model(spec, extra)
    return _get_model(spec)


def _get_model(spec: ModelSpec, extra: dict[str, Any] | None = None) -> Model:
    """``extra`` model args are passed but not part of the spec (nor of the manifest).

    The checkpoint's ``generate:`` is not the model's own config: ``run`` applies it to each
    task's config (``alignprobe.models.generation``), where the command line can override it and
    a provider's limits (greedy on ``hf/``) are handled in one place.
    """
    return get_model(
        spec.model,
        base_url=spec.base_url,
        api_key=spec.api_key,
        memoize=False,
        **{**spec.model_args, **(extra or {})},
    )
