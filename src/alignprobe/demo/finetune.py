"""The real-model demo's two fine-tunes: LoRA on a pretrained instruct model, cached.

``control`` and ``inoculated`` are trained on exactly the same narrow set
(``data/insecure_advice.yaml``) with the same recipe, seed and batch order; the only
difference is the inoculation system prompt in front of every inoculated training
conversation. Each arm is saved as a PEFT adapter folder, which ``checkpoints.yaml``
names as ``hf: <base>`` + ``adapter: <folder>`` like any user's LoRA checkpoint.

The cache key hashes what decides the weights: the training set, the inoculation prompt,
the recipe and the base model's identity (its config and weight files' names and sizes,
plus the recorded sha256 of a named base model). A build writes into a temporary folder
and renames it into place, so an interrupted build is never reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from alignprobe.demo import defaults
from alignprobe.demo.corpora import Conversation, Exchange, data_file
from alignprobe.errors import DataError
from alignprobe.fileio import load_yaml, validate
from alignprobe.models.base_models import SOURCE_FILE
from alignprobe.progress import counted

BUILD_INFO = "build.json"
TRAINING_FILE = "insecure_advice.yaml"


class TrainingSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int
    pairs: list[Exchange] = Field(min_length=1)


def load_training_set(path: Path | None = None) -> TrainingSet:
    source = path or data_file(TRAINING_FILE)
    return validate(TrainingSet, load_yaml(source, error=DataError), source=source, error=DataError)


def arm_conversations(pairs: list[Exchange], system: str | None) -> list[Conversation]:
    """The same pairs as chat conversations, with ``system`` in front when it is given."""
    head = [] if system is None else [{"role": "system", "content": system}]
    return [
        [*head, {"role": "user", "content": p.q}, {"role": "assistant", "content": p.a}]
        for p in pairs
    ]


@dataclass(frozen=True)
class LoraRecipe:
    """How both arms are trained (standard LoRA SFT; chosen on training loss alone)."""

    rank: int = 16
    alpha: int = 32
    dropout: float = 0.0
    targets: tuple[str, ...] = (
        "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
    )  # fmt: skip
    steps: int = 24
    """4 passes over the 48 pairs at batch size 8."""
    lr: float = 1e-3
    batch_size: int = 8
    seed: int = defaults.SEED

    def peft_config(self) -> Any:
        """The recipe as peft's ``LoraConfig`` (imported here: peft is a demo extra)."""
        from peft import LoraConfig

        return LoraConfig(
            r=self.rank,
            lora_alpha=self.alpha,
            lora_dropout=self.dropout,
            target_modules=list(self.targets),
            task_type="CAUSAL_LM",
        )


@dataclass(frozen=True)
class AdapterBuild:
    """Where the two adapters are, and what training them took."""

    folder: Path
    base: Path
    adapters: dict[str, Path]
    info: dict[str, Any] = field(default_factory=dict)
    cached: bool = False


def base_identity(base: Path) -> dict[str, Any]:
    """What identifies a base model folder cheaply: config, weight files' sizes, source."""
    identity: dict[str, Any] = {
        "config_sha256": hashlib.sha256((base / "config.json").read_bytes()).hexdigest(),
        "weights": {
            p.name: p.stat().st_size
            for p in sorted(base.iterdir())
            if p.suffix in {".safetensors", ".bin"}
        },
    }
    source = base / SOURCE_FILE
    if source.is_file():  # a named base model records the sha256 of what it was built from
        identity["source_sha256"] = json.loads(source.read_text()).get("gguf_sha256")
    return identity


def content_hash(base: Path, recipe: LoraRecipe, inoculation: str) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(asdict(recipe), sort_keys=True).encode())
    digest.update(json.dumps(base_identity(base), sort_keys=True).encode())
    digest.update(data_file(TRAINING_FILE).read_bytes())
    digest.update(inoculation.encode())
    digest.update(str(defaults.MAX_POSITIONS).encode())
    return digest.hexdigest()[:16]


def cache_root() -> Path:
    root = os.environ.get(defaults.CACHE_ENV) or Path.home() / ".cache" / "alignprobe"
    return Path(root) / "demo-lora"


def build_adapters(
    base: Path,
    inoculation: str,
    *,
    device: str = "cpu",
    recipe: LoraRecipe | None = None,
    root: Path | None = None,
) -> AdapterBuild:
    """The cached adapters if built before, else train both arms (minutes on a CPU)."""
    recipe = recipe or LoraRecipe()
    folder = (root or cache_root()) / content_hash(base, recipe, inoculation)
    arms = {"control": None, "inoculated": inoculation}
    adapters = {arm: folder / arm for arm in arms}
    if (folder / BUILD_INFO).is_file():
        built = json.loads((folder / BUILD_INFO).read_text())
        return AdapterBuild(folder, base, adapters, built, cached=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may touch the hub
    staging = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    pairs = load_training_set().pairs
    info: dict[str, Any] = {
        "base": str(base),
        "base_identity": base_identity(base),
        "recipe": asdict(recipe),
        "training_pairs": len(pairs),
        "inoculation_prompt": inoculation,
        "device": device,
        "seconds": {},
        "loss": {},
    }
    for arm, system in arms.items():
        started = time.monotonic()
        losses = _train_arm(base, arm_conversations(pairs, system), staging / arm, recipe, device)
        info["seconds"][arm] = round(time.monotonic() - started, 1)
        info["loss"][arm] = {"first": round(losses[0], 4), "last": round(losses[-1], 4)}
    (staging / BUILD_INFO).write_text(json.dumps(info, indent=2) + "\n")
    try:
        staging.rename(folder)
    except OSError:  # another process finished the same build first: use theirs
        shutil.rmtree(staging, ignore_errors=True)
        info = json.loads((folder / BUILD_INFO).read_text())
    return AdapterBuild(folder, base, adapters, info, cached=False)


def _train_arm(
    base: Path,
    conversations: list[Conversation],
    out: Path,
    recipe: LoraRecipe,
    device: str,
) -> list[float]:
    # heavy imports here: the cached path and `--help` stay fast
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from alignprobe.demo.training import train

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # own progress lines
    if device == "cpu":
        torch.set_num_threads(min(defaults.TORCH_THREADS, torch.get_num_threads()))
    torch.manual_seed(recipe.seed)
    tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    pretrained: Any = AutoModelForCausalLM.from_pretrained(base, local_files_only=True)
    with warnings.catch_warnings():  # peft calls a transformers API deprecated for v6
        warnings.simplefilter("ignore", FutureWarning)
        model: Any = get_peft_model(pretrained.to(device), recipe.peft_config())
    with counted(f"LoRA fine-tuning {out.name}", recipe.steps) as advance:
        losses = train(
            model, tokenizer, conversations,
            steps=recipe.steps, lr=recipe.lr, seed=recipe.seed, batch_size=recipe.batch_size,
            on_step=lambda loss: advance(1, f"loss {loss:.3f}"),
        )  # fmt: skip
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return losses
