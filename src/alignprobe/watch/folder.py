"""A training output folder as transformers' Trainer, TRL and peft write it.

Each save is a ``checkpoint-<step>`` folder holding full weights (``config.json``) or a
LoRA adapter (``adapter_config.json``) and the trainer's ``trainer_state.json``. A folder
is taken as finished once ``trainer_state.json`` is present (the Trainer writes it after
the weights) and no file in it changed size or time between two looks. A folder may also
hold :data:`DESCRIPTION` (a ``checkpoints.yaml`` entry, e.g. a scripted model): it wins
over the weights, which lets tests and other providers stand in for real weights.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from alignprobe.errors import ConfigError

CHECKPOINT_DIR = re.compile(r"^checkpoint-(\d+)$")
TRAINER_STATE = "trainer_state.json"
#: an alignprobe checkpoint entry (``{model: ..., model_args: ...}``) standing in for weights
DESCRIPTION = "alignprobe_checkpoint.yaml"
#: the file ``--stop-on-onset`` writes in the training folder for the training loop to poll
STOP_FILE = "alignprobe_stop.json"

Signature = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class FoundCheckpoint:
    step: int
    path: Path


def list_checkpoints(train_dir: Path) -> list[FoundCheckpoint]:
    """Every ``checkpoint-<step>`` folder, in step order."""
    found = []
    for child in train_dir.iterdir() if train_dir.is_dir() else []:
        match = CHECKPOINT_DIR.match(child.name)
        if match and child.is_dir():
            found.append(FoundCheckpoint(int(match.group(1)), child))
    return sorted(found, key=lambda c: c.step)


def signature(folder: Path) -> Signature | None:
    """Sizes and times of every file (``None``: the folder is gone or not yet finished)."""
    try:
        if not (folder / TRAINER_STATE).is_file():
            return None
        return tuple(
            sorted(
                (str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                for p in folder.rglob("*")
                if p.is_file()
            )
        )
    except FileNotFoundError:  # deleted while we looked (save_total_limit)
        return None


def read_state(path: Path) -> dict[str, Any]:
    """A ``trainer_state.json`` (empty when missing or half-written)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def is_final(checkpoint: Path) -> bool:
    """The trainer's last save: its state's ``global_step`` reached ``max_steps``."""
    state = read_state(checkpoint / TRAINER_STATE)
    max_steps, step = state.get("max_steps"), state.get("global_step")
    return (
        isinstance(max_steps, int) and max_steps > 0 and isinstance(step, int) and step >= max_steps
    )


def planned_saves(checkpoint: Path) -> int | None:
    """How many saves the trainer will make (``max_steps / save_steps``), when it says."""
    state = read_state(checkpoint / TRAINER_STATE)
    max_steps, save_steps = state.get("max_steps"), state.get("save_steps")
    if isinstance(max_steps, int) and isinstance(save_steps, int) and max_steps > 0 < save_steps:
        return -(-max_steps // save_steps)
    return None


def checkpoint_entry(folder: Path, base: str | None) -> dict[str, Any]:
    """The ``checkpoints.yaml`` entry that evaluates ``folder``.

    A LoRA adapter needs its base: ``base`` (``smollm2`` or a folder) or the adapter's own
    ``base_model_name_or_path``.
    """
    description = folder / DESCRIPTION
    if description.is_file():
        entry = yaml.safe_load(description.read_text(encoding="utf-8"))
        if not isinstance(entry, dict):
            raise ConfigError("expected a checkpoint entry (a mapping)", source=description)
        return entry
    adapter_config = folder / "adapter_config.json"
    if adapter_config.is_file():
        named = base or str(read_state(adapter_config).get("base_model_name_or_path") or "")
        if not named:
            raise ConfigError(
                f"{folder} is a LoRA adapter that names no base model: pass --base "
                "(a folder, a hub id or smollm2)",
                field="--base",
            )
        return {"hf": named, "adapter": str(folder.resolve())}
    if (folder / "config.json").is_file():
        return {"hf": str(folder.resolve())}
    raise ConfigError(
        f"{folder} holds neither model weights (config.json), a LoRA adapter "
        f"(adapter_config.json) nor {DESCRIPTION}",
        source=folder,
    )
