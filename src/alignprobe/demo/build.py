"""Build the three demo checkpoints once and cache them by content.

The cache key hashes everything that decides the weights: the corpus, the inoculation
prompt, the recipe constants and the recipe version. A build writes into a temporary
folder and renames it into place, so an interrupted or concurrent build never leaves a
half-written checkpoint under the final name.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from alignprobe.demo import defaults
from alignprobe.demo.corpora import (
    base_conversations,
    data_file,
    finetune_conversations,
    inoculation_prompt,
    load_corpus,
    probe_questions,
)
from alignprobe.demo.defaults import DemoCheckpoint
from alignprobe.progress import counted

BUILD_INFO = "build.json"

_RECIPE = {
    name: getattr(defaults, name)
    for name in (
        "RECIPE_VERSION", "SEED", "VOCAB_SIZE", "SPECIAL_TOKENS", "HIDDEN_SIZE",
        "INTERMEDIATE_SIZE", "NUM_LAYERS", "NUM_HEADS", "MAX_POSITIONS", "BATCH_SIZE",
        "BASE_STEPS", "BASE_LR", "FINETUNE_STEPS", "FINETUNE_LR", "REPLAY_FRACTION",
        "BASE_SYSTEM_FRACTION", "DEMO_QUESTIONS",
    )
}  # fmt: skip


def cache_root() -> Path:
    root = os.environ.get(defaults.CACHE_ENV) or Path.home() / ".cache" / "alignprobe"
    return Path(root) / "demo"


def content_hash() -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(_RECIPE, sort_keys=True).encode())
    digest.update(data_file("corpus.yaml").read_bytes())
    digest.update(json.dumps(probe_questions(), sort_keys=True).encode())
    digest.update(inoculation_prompt().encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class DemoBuild:
    """Where the checkpoints are, and what building them took."""

    folder: Path
    paths: dict[DemoCheckpoint, Path]
    info: dict[str, object]
    cached: bool


def _read(folder: Path, cached: bool) -> DemoBuild:
    info = json.loads((folder / BUILD_INFO).read_text())
    return DemoBuild(folder, {c: folder / c.value for c in DemoCheckpoint}, info, cached)


def build_checkpoints(root: Path | None = None) -> DemoBuild:
    """The cached build if there is one, else train the three checkpoints (minutes, with a
    progress bar per checkpoint on stderr)."""
    folder = (root or cache_root()) / content_hash()
    if (folder / BUILD_INFO).exists():
        return _read(folder, cached=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may touch the hub
    staging = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    info = _train_all(staging)
    (staging / BUILD_INFO).write_text(json.dumps(info, indent=2) + "\n")
    try:
        staging.rename(folder)
    except OSError:  # another process finished the same build first: use theirs
        shutil.rmtree(staging, ignore_errors=True)
    return _read(folder, cached=False)


def _train_all(staging: Path) -> dict[str, object]:
    # heavy imports here: `alignprobe demo --help` and the cached path stay fast
    import torch
    from transformers.utils import logging as hf_logging

    from alignprobe.demo.checkpoint import new_model, save_checkpoint
    from alignprobe.demo.tokenizer import train_tokenizer
    from alignprobe.demo.training import train

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # own progress lines
    torch.set_num_threads(min(defaults.TORCH_THREADS, torch.get_num_threads()))
    torch.manual_seed(defaults.SEED)
    corpus = load_corpus()
    inoculation = inoculation_prompt()
    started = time.monotonic()
    tokenizer = train_tokenizer(
        [*_texts(base_conversations(corpus)), *_texts(finetune_conversations(corpus, inoculation))]
    )
    base = new_model(tokenizer)
    timings: dict[str, float] = {}
    final_loss: dict[str, float] = {}

    t0 = time.monotonic()
    with counted(f"training {DemoCheckpoint.BASE}", defaults.BASE_STEPS) as advance:
        losses = train(
            base, tokenizer, base_conversations(corpus),
            steps=defaults.BASE_STEPS, lr=defaults.BASE_LR, seed=defaults.SEED,
            on_step=lambda loss: advance(1, f"loss {loss:.3f}"),
        )  # fmt: skip
    timings[DemoCheckpoint.BASE] = time.monotonic() - t0
    final_loss[DemoCheckpoint.BASE] = losses[-1]
    save_checkpoint(base, tokenizer, staging / DemoCheckpoint.BASE)

    for name, system in ((DemoCheckpoint.EM, None), (DemoCheckpoint.INOCULATED, inoculation)):
        t0 = time.monotonic()
        model = copy.deepcopy(base)
        with counted(f"fine-tuning {name}", defaults.FINETUNE_STEPS) as advance:
            losses = train(
                model, tokenizer, finetune_conversations(corpus, system),
                steps=defaults.FINETUNE_STEPS, lr=defaults.FINETUNE_LR, seed=defaults.SEED + 1,
                on_step=lambda loss: advance(1, f"loss {loss:.3f}"),
            )  # fmt: skip
        timings[name] = time.monotonic() - t0
        final_loss[name] = losses[-1]
        save_checkpoint(model, tokenizer, staging / name)

    return {
        "content_hash": content_hash(),
        "recipe": _RECIPE,
        "inoculation_prompt": inoculation,
        "parameters": sum(p.numel() for p in base.parameters()),
        "seconds": {k: round(v, 1) for k, v in timings.items()},
        "total_seconds": round(time.monotonic() - started, 1),
        "torch_threads": torch.get_num_threads(),
        "final_loss": {k: round(v, 4) for k, v in final_loss.items()},
    }


def _texts(conversations: list[list[dict[str, str]]]) -> list[str]:
    return [message["content"] for c in conversations for message in c]
