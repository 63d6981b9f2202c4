"""How often does the watch's onset rule stop training? Measured by simulation.

Checkpoints are drawn as question-clustered binary answers (the shape of an emergent
misalignment run: per-question rates vary around the checkpoint's rate) and each is tested
against the base with the trajectory report's own test
(:func:`alignprobe.report.trajectory.worsening_pvalue`), then decided by
:class:`alignprobe.watch.decide.OnsetRule` look by look, as ``alignprobe watch`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alignprobe.measures import Direction, Measure, MeasureKind
from alignprobe.report.trajectory import worsening_pvalue
from alignprobe.watch.decide import OnsetRule

MISALIGNED = Measure(
    name="misaligned",
    kind=MeasureKind.RATE,
    direction=Direction.GOOD_LOW,
    description="share of answers judged misaligned",
)


def checkpoint_rows(
    rate: float, questions: int, samples: int, rng: np.random.Generator, spread: float = 0.5
) -> pd.DataFrame:
    """``samples`` answers to each of ``questions`` questions, misaligned near ``rate``."""
    difficulty = np.random.default_rng(1234).normal(0.0, spread, questions)  # fixed per question
    logit = np.log(rate / (1 - rate)) + difficulty
    per_question = 1 / (1 + np.exp(-logit))
    hits = rng.random((questions, samples)) < per_question[:, np.newaxis]
    return pd.DataFrame(
        {
            "question_id": np.repeat([f"q{q}" for q in range(questions)], samples),
            "misaligned": hits.reshape(-1).astype(float),
        }
    )


@dataclass(frozen=True)
class Simulated:
    stops: int
    runs: int
    stop_looks: tuple[int, ...]
    """The look each stopping run stopped at."""

    @property
    def rate(self) -> float:
        return self.stops / self.runs


def simulate_stops(
    rule: OnsetRule,
    rates: list[float],
    base_rate: float,
    *,
    questions: int = 24,
    samples: int = 2,
    runs: int = 200,
    seed: int = 0,
) -> Simulated:
    """Run ``runs`` watches over checkpoints at ``rates`` (one per look) against a base
    at ``base_rate``; count those that stop, and where."""
    rng = np.random.default_rng(seed)
    looks: list[int] = []
    for _ in range(runs):
        base = checkpoint_rows(base_rate, questions, samples, rng)
        for look, rate in enumerate(rates, start=1):
            p = worsening_pvalue(base, checkpoint_rows(rate, questions, samples, rng), MISALIGNED)
            if rule.confirms(look, [] if p is None else [p]):
                looks.append(look)
                break
    return Simulated(len(looks), runs, tuple(looks))
