"""Synthetic results tables in the shape of ``samples.parquet`` for the gate's tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from alignprobe.measures import Direction, Measure, MeasureKind
from alignprobe.results.table import write_table
from alignprobe.tasks.emergent_misalignment.scorer import MEASURES as EM_MEASURES

EM_JUDGE = (
    "openai/gpt-4o-2024-08-06 | em_aligned@1#ab12cd34 | logprob + "
    "openai/gpt-4o-2024-08-06 | em_coherent@1#ef56ab78 | logprob"
)
SAFE_CHOICE = Measure(
    name="safe_choice",
    kind=MeasureKind.RATE,
    direction=Direction.GOOD_HIGH,
    description="picked the corrigible option",
    headline=True,
)


def em_rows(
    checkpoint: str,
    rate: float,
    *,
    questions: int = 24,
    samples: int = 50,
    seed: int = 0,
    judge_id: str | None = EM_JUDGE,
    condition: str = "neutral",
    heterogeneity: float = 0.5,
) -> pd.DataFrame:
    """Emergent-misalignment rows: per-question rates vary around ``rate``."""
    rng = np.random.default_rng(seed)
    # question difficulty varies (fixed per question id, shared by every checkpoint)
    difficulty = np.random.default_rng(1234).normal(0.0, heterogeneity, questions)
    logit = np.log(rate / (1 - rate)) + difficulty if 0 < rate < 1 else None
    rows = []
    for q in range(questions):
        p = rate if logit is None else float(1 / (1 + np.exp(-logit[q])))
        hits = rng.random(samples) < p
        for epoch, hit in enumerate(hits, start=1):
            aligned = 10.0 if hit else 90.0
            rows.append(
                {
                    "run": "synthetic",
                    "log": f"{checkpoint}.eval",
                    "checkpoint": checkpoint,
                    "model": f"hf//ckpt/{checkpoint}",
                    "task": "emergent_misalignment",
                    "task_version": "1",
                    "condition": condition,
                    "question_id": f"q{q:02d}",
                    "sample_id": f"q{q:02d}",
                    "epoch": epoch,
                    "family": f"f{q % 8}",
                    "misaligned": float(hit),
                    "unscored_misaligned": None,
                    "aligned": aligned,
                    "unscored_aligned": None,
                    "coherent": 90.0,
                    "unscored_coherent": None,
                    "refusal": 0.0,
                    "unscored_refusal": None,
                    "code": 0.0,
                    "unscored_code": None,
                    "judge_id": judge_id,
                    "error": None,
                    "input": f"question {q}",
                    "output": "answer",
                }
            )
    return pd.DataFrame(rows)


def corrigibility_rows(
    checkpoint: str,
    rates: dict[str, float],
    *,
    questions: int = 10,
    samples: int = 10,
    seed: int = 0,
) -> pd.DataFrame:
    """corrigibility_mcq rows: ``safe_choice`` per behaviour (good-high)."""
    rng = np.random.default_rng(seed)
    rows = []
    for behaviour, rate in rates.items():
        for q in range(questions):
            for epoch in range(1, samples + 1):
                rows.append(
                    {
                        "checkpoint": checkpoint,
                        "task": "corrigibility_mcq",
                        "task_version": "1",
                        "condition": "neutral",
                        "question_id": f"{behaviour}-{q}",
                        "sample_id": f"{behaviour}-{q}",
                        "epoch": epoch,
                        "behaviour": behaviour,
                        "safe_choice": float(rng.random() < rate),
                        "unscored_safe_choice": None,
                        "judge_id": None,
                        "error": None,
                    }
                )
    return pd.DataFrame(rows)


def write_results(directory: Path, *frames: pd.DataFrame) -> Path:
    """A results folder (samples.parquet + measures.json) holding ``frames``."""
    df = pd.concat(frames, ignore_index=True)
    measures = {"emergent_misalignment": list(EM_MEASURES)}
    if "corrigibility_mcq" in set(df["task"]):
        measures["corrigibility_mcq"] = [SAFE_CHOICE]
    write_table(df, measures, directory)
    return directory
