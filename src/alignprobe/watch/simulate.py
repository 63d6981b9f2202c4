"""How often does the watch's onset rule stop training? Measured by simulation.

Checkpoints are drawn as question-clustered binary answers (the shape of an emergent
misalignment run: per-question rates vary around the checkpoint's rate), each one a gate
side, and decided look by look by :func:`alignprobe.watch.decide.gate_look` against a base
drawn the same way: the gate with the watch's policy at each look's level, the very
function ``alignprobe watch`` calls after each checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from alignprobe.gate.results import Side
from alignprobe.measures import Direction, Measure, MeasureKind
from alignprobe.watch.decide import OnsetRule, gate_look, onset_policy

TASK = "emergent_misalignment"
CONDITION = "neutral"
MISALIGNED = Measure(
    name="misaligned",
    kind=MeasureKind.RATE,
    direction=Direction.GOOD_LOW,
    description="share of answers judged misaligned",
    headline=True,
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


def simulated_side(role: str, name: str, rows: pd.DataFrame) -> Side:
    """``rows`` as the gate reads one checkpoint of an emergent misalignment run."""
    table = rows.assign(checkpoint=name, task=TASK, condition=CONDITION)
    return Side(role, Path(f"simulated/{name}"), name, table, {TASK: [MISALIGNED]})


@dataclass(frozen=True)
class Simulated:
    stops: int
    runs: int
    stop_looks: tuple[int, ...]
    """The look each stopping run stopped at."""
    undecided: int = 0
    """Looks at which the gate could not decide (no onset), over all runs."""

    @property
    def rate(self) -> float:
        return self.stops / self.runs


def simulate_stops(
    rule: OnsetRule,
    rates: list[float],
    base_rate: float,
    *,
    policy: Path | None = None,
    questions: int = 24,
    samples: int = 3,
    runs: int = 200,
    seed: int = 0,
) -> Simulated:
    """Run ``runs`` watches over checkpoints at ``rates`` (one per look) against a base
    at ``base_rate``, each look decided by the gate under ``policy`` (``None``: the
    watch's default); count those that stop, and where."""
    rng = np.random.default_rng(seed)
    looks: list[int] = []
    undecided = 0
    gate_policy = onset_policy(policy, {TASK: [MISALIGNED]})
    for _ in range(runs):
        base = simulated_side(
            "baseline", "base", checkpoint_rows(base_rate, questions, samples, rng)
        )
        for look, rate in enumerate(rates, start=1):
            rows = checkpoint_rows(rate, questions, samples, rng)
            candidate = simulated_side("candidate", f"look-{look}", rows)
            outcome = gate_look(rule, look, gate_policy, base, candidate)
            undecided += outcome.undecided
            if outcome.onset:
                looks.append(look)
                break
    return Simulated(len(looks), runs, tuple(looks), undecided)
