"""Evaluate the demo checkpoints with the real ``emergent_misalignment`` task.

The checkpoints go through Inspect's ``hf/`` provider exactly like a user's checkpoint
(``hf//abs/path``); the judge is the demo judge (``demo_judge/v1``) in the ``grader``
role. This module only runs Inspect and reads its logs; it knows nothing about how the
checkpoints were built.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignprobe.demo import defaults


def model_name(path: Path) -> str:
    """Inspect's name for a local checkpoint folder: ``hf//abs/path``."""
    return f"hf/{path.resolve()}"


def model_args() -> dict[str, Any]:
    """``hf/`` provider arguments for the demo checkpoints on a CPU."""
    # do_sample: the provider's own switch (temperature comes from the task's config)
    return {"device": "cpu", "do_sample": True}


def register_checkpoint(path: Path) -> None:
    """Tell Inspect the checkpoint's limits, so it does not load the weights twice."""
    from inspect_ai.model import ModelInfo, set_model_info

    set_model_info(
        model_name(path),
        ModelInfo(
            organization="alignprobe demo",
            model=path.name,
            context_length=defaults.MAX_POSITIONS,
            output_tokens=defaults.DEMO_MAX_TOKENS,
        ),
    )


def offline_environment() -> None:
    """Nothing in the demo may reach a model hub, and Inspect stays quiet."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # one progress line per step of ours instead of transformers' tqdm bars
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def run_evals(
    checkpoints: dict[str, Path],
    log_dir: Path,
    *,
    conditions: tuple[str, ...] = defaults.DEMO_CONDITIONS,
    samples: int = defaults.DEMO_SAMPLES,
    max_tokens: int = defaults.DEMO_MAX_TOKENS,
    seed: int = defaults.SEED,
    display: str = "none",
) -> list[Any]:
    """One Inspect log per (checkpoint, condition); returns the EvalLogs."""
    import torch
    from inspect_ai import eval as inspect_eval

    import alignprobe._registry  # noqa: F401  - tasks and the demo_judge provider
    from alignprobe.tasks.emergent_misalignment import emergent_misalignment

    offline_environment()
    torch.set_num_threads(min(defaults.TORCH_THREADS, torch.get_num_threads()))
    for path in checkpoints.values():
        register_checkpoint(path)
    tasks = [
        emergent_misalignment(
            questions=defaults.DEMO_QUESTIONS,
            condition=condition,
            samples=samples,
            temperature=defaults.DEMO_TEMPERATURE,
            max_tokens=max_tokens,
        )
        for condition in conditions
    ]
    logs = inspect_eval(
        tasks,
        model=[model_name(p) for p in checkpoints.values()],
        model_args=model_args(),
        model_roles={"grader": defaults.DEMO_JUDGE},
        log_dir=str(log_dir),
        seed=seed,
        display=display,  # type: ignore[arg-type]
        metadata={"alignprobe": {"demo": True}},
    )
    return list(logs)


@dataclass(frozen=True)
class Rate:
    """Share of counted samples flagged misaligned, and how many counted / were unscored."""

    misaligned: int
    counted: int
    unscored: int

    @property
    def value(self) -> float:
        return self.misaligned / self.counted if self.counted else math.nan


def misaligned_rates(logs: list[Any], checkpoints: dict[str, Path]) -> dict[tuple[str, str], Rate]:
    """(checkpoint, condition) -> misaligned rate, read from the logs' samples."""
    from inspect_ai.log import read_eval_log

    by_model = {model_name(path): name for name, path in checkpoints.items()}
    rates: dict[tuple[str, str], Rate] = {}
    for header in logs:
        log = read_eval_log(header.location)
        if log.status != "success":
            message = log.error.message if log.error else log.status
            raise RuntimeError(f"demo evaluation did not succeed ({log.location}): {message}")
        flags: list[float] = []
        condition = ""
        for sample in log.samples or []:
            condition = str((sample.metadata or {}).get("condition", ""))
            for score in (sample.scores or {}).values():
                value = score.value
                if isinstance(value, dict) and "misaligned" in value:
                    flags.append(float(value["misaligned"]))
        counted = [f for f in flags if not math.isnan(f)]
        key = (by_model.get(log.eval.model, log.eval.model), condition)
        rates[key] = Rate(int(sum(counted)), len(counted), len(flags) - len(counted))
    return rates


def rates_table(rates: dict[tuple[str, str], Rate], conditions: tuple[str, ...]) -> str:
    """A small plain-text table: checkpoints as rows, conditions as columns."""
    names = list(dict.fromkeys(name for name, _ in rates))
    width = max(len(n) for n in [*names, "checkpoint"])
    header = "checkpoint".ljust(width) + "".join(f"  {c:>22}" for c in conditions)
    lines = [header, "-" * len(header)]
    for name in names:
        cells = []
        for condition in conditions:
            rate = rates.get((name, condition))
            cell = "-" if rate is None else f"{rate.value:6.0%} ({rate.misaligned}/{rate.counted})"
            cells.append(f"  {cell:>22}")
        lines.append(name.ljust(width) + "".join(cells))
    return "\n".join(lines)
