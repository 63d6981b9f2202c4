"""The judge against human labels: accuracy, sensitivity, specificity, and rates
corrected for the judge's errors by prediction-powered inference (PPI).

PPI (Angelopoulos et al. 2023; the maintained ``ppi-python`` package): in each stratum
(checkpoint, task, condition) the judge's rate over the samples nobody labelled is
corrected by the judge's average error on the samples a human labelled,
``theta = mean(judge, unlabelled) + mean(human - judge, labelled)``, with a normal
interval whose variance adds both parts. It is unbiased whatever the judge's error rates,
provided the labelled samples were drawn at random from the stratum's judged samples (as
``alignprobe gold template`` draws them). ``lam=None`` asks for PPI++ power tuning (never
wider than the human labels alone); the default ``lam=1`` is the classic estimator.
Samples sharing a question are treated as independent here (no clustering).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from ppi_py import ppi_mean_ci, ppi_mean_pointestimate
from scipy.stats import norm
from statsmodels.stats.proportion import proportion_confint

from alignprobe.judging.gold import HASH_COLUMN, GoldLabels, answer_hashes
from alignprobe.judging.pairs import SAMPLE_KEY
from alignprobe.measures import Measure, MeasureKind
from alignprobe.results.sample_rows import Measures

ALPHA = 0.05
#: fewest labelled samples in a stratum for a corrected rate
MIN_LABELLED = 2
STRATUM = ["checkpoint", "task", "condition"]


@dataclass
class Interval:
    value: float | None
    low: float | None
    high: float | None


def wilson(successes: int, total: int) -> Interval:
    if total == 0:
        return Interval(None, None, None)
    low, high = proportion_confint(successes, total, alpha=ALPHA, method="wilson")
    return Interval(successes / total, float(low), float(high))


@dataclass
class JudgeAccuracy:
    """The judge's labels against the human's, for one measure (and one checkpoint, or all)."""

    task: str
    measure: str
    checkpoint: str
    labelled: int
    judge_missing: int
    """Labelled rows the judge did not score (unscored or excluded): not in the counts."""
    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0
    accuracy: Interval | None = None
    sensitivity: Interval | None = None
    specificity: Interval | None = None
    mean_abs_error: float | None = None
    """Scores: mean |judge - human| on the measure's scale."""


@dataclass
class CorrectedRate:
    """One stratum's judge rate, human-only rate and PPI-corrected rate."""

    checkpoint: str
    task: str
    condition: str
    measure: str
    judged: int
    labelled: int
    judge_rate: float | None
    human_rate: Interval
    corrected: Interval
    note: str = ""


def labelled_rows(table: pd.DataFrame, gold: GoldLabels, measure: str) -> pd.DataFrame:
    """The table's rows with the human label of *their* answer (sample key and answer
    hash both match) in ``gold``; NaN where nobody labelled that answer."""
    labels = gold.labels[gold.labels["measure"] == measure]
    keyed = table.copy()
    for column in SAMPLE_KEY:
        keyed[column] = keyed[column].astype(str)
    keyed[HASH_COLUMN] = answer_hashes(keyed)
    on = [*SAMPLE_KEY, HASH_COLUMN]
    merged = keyed.merge(labels[[*on, "gold"]], on=on, how="left")
    merged["judge"] = pd.to_numeric(merged[measure], errors="coerce")
    return merged


def accuracy_of(rows: pd.DataFrame, task: str, measure: Measure, checkpoint: str) -> JudgeAccuracy:
    labelled = rows[rows["gold"].notna()]
    both = labelled[labelled["judge"].notna()]
    result = JudgeAccuracy(
        task, measure.name, checkpoint, len(labelled), int(labelled["judge"].isna().sum())
    )
    human, judge = both["gold"].to_numpy(float), both["judge"].to_numpy(float)
    if measure.kind is MeasureKind.SCORE:
        result.mean_abs_error = float(np.abs(human - judge).mean()) if len(both) else None
        return result
    h, j = human >= 0.5, judge >= 0.5
    result.tp, result.fn = int((h & j).sum()), int((h & ~j).sum())
    result.tn, result.fp = int((~h & ~j).sum()), int((~h & j).sum())
    result.accuracy = wilson(result.tp + result.tn, len(both))
    result.sensitivity = wilson(result.tp, result.tp + result.fn)
    result.specificity = wilson(result.tn, result.tn + result.fp)
    return result


@dataclass
class PpiEstimate:
    """A PPI mean with its 95% interval and standard error (unclipped)."""

    value: float
    low: float
    high: float
    se: float


def ppi_rate(
    human: np.ndarray, judge_labelled: np.ndarray, judge_unlabelled: np.ndarray, lam: float | None
) -> PpiEstimate:
    """PPI point estimate and 95% interval of a mean (``ppi_py``); the standard error is the
    interval's half-width over the normal quantile (``ppi_py`` intervals are normal)."""
    if lam is None and np.unique(np.concatenate([judge_labelled, judge_unlabelled])).size < 2:
        lam = 1.0  # power tuning divides by the judge's variance: none to tune on
    value = float(
        np.ravel(ppi_mean_pointestimate(human, judge_labelled, judge_unlabelled, lam=lam))[0]
    )
    low, high = ppi_mean_ci(human, judge_labelled, judge_unlabelled, alpha=ALPHA, lam=lam)
    low_f, high_f = float(np.ravel(low)[0]), float(np.ravel(high)[0])
    se = (high_f - low_f) / (2 * float(norm.ppf(1 - ALPHA / 2)))
    return PpiEstimate(value, low_f, high_f, se)


def stratum_ppi(stratum: pd.DataFrame, lam: float | None) -> PpiEstimate | str:
    """PPI over one stratum's rows (``judge``, ``gold`` columns), or why it cannot be had."""
    judged = stratum[stratum["judge"].notna()]
    labelled = judged[judged["gold"].notna()]
    unlabelled = judged[judged["gold"].isna()]
    if len(labelled) < MIN_LABELLED or len(unlabelled) == 0:
        return (
            f"needs at least {MIN_LABELLED} labelled and 1 unlabelled judged sample "
            f"(has {len(labelled)} and {len(unlabelled)})"
        )
    return ppi_rate(
        labelled["gold"].to_numpy(float),
        labelled["judge"].to_numpy(float),
        unlabelled["judge"].to_numpy(float),
        lam,
    )


def clip_to_scale(interval: Interval, scale: tuple[float, float]) -> Interval:
    """An estimate and its interval as shown: within the measure's scale (PPI's normal
    interval can cross 0 or 1; a rate below 0% is not a rate). Tests use the unclipped
    standard error."""
    low, high = scale

    def bound(x: float | None) -> float | None:
        return None if x is None or not math.isfinite(x) else min(max(x, low), high)

    return Interval(bound(interval.value), bound(interval.low), bound(interval.high))


def corrected_rate(
    stratum: pd.DataFrame, key: tuple[str, str, str], measure: Measure, lam: float | None
) -> CorrectedRate:
    judged = stratum[stratum["judge"].notna()]
    labelled = judged[judged["gold"].notna()]
    human = labelled["gold"].to_numpy(float)
    human_rate = (
        wilson(int(human.sum()), len(human))
        if measure.kind is MeasureKind.RATE
        else Interval(float(human.mean()) if len(human) else None, None, None)
    )
    result = CorrectedRate(
        *key,
        measure.name,
        len(judged),
        len(labelled),
        float(judged["judge"].mean()) if len(judged) else None,
        human_rate,
        Interval(None, None, None),
    )
    estimate = stratum_ppi(stratum, lam)
    if isinstance(estimate, str):
        result.note = estimate
        return result
    raw = Interval(estimate.value, estimate.low, estimate.high)
    if estimate.se == 0:
        result.note = "zero-width interval: too few samples for the normal approximation"
    result.corrected = clip_to_scale(raw, measure.scale)
    return result


@dataclass
class GoldReport:
    gold: GoldLabels
    accuracy: list[JudgeAccuracy]
    rates: list[CorrectedRate]
    lam: float | None

    @property
    def method(self) -> str:
        return "PPI++ (power-tuned)" if self.lam is None else "classic PPI (lambda = 1)"

    def skipped_lines(self) -> list[str]:
        """One line naming the file and the skipped rows' lines, if any were skipped."""
        skipped = self.gold.skipped_summary()
        return [f"{self.gold.source}: {skipped}"] if skipped else []

    def as_dict(self) -> dict[str, Any]:
        return {
            "labels": str(self.gold.source),
            "method": self.method,
            "skipped": [asdict(s) for s in self.gold.skipped],
            "accuracy": [asdict(a) for a in self.accuracy],
            "rates": [asdict(r) for r in self.rates],
        }


def gold_report(
    table: pd.DataFrame, measures: Measures, gold: GoldLabels, lam: float | None = 1.0
) -> GoldReport:
    """Accuracy per measure (all checkpoints, then each) and corrected rates per stratum."""
    accuracy: list[JudgeAccuracy] = []
    rates: list[CorrectedRate] = []
    labelled_measures = set(gold.labels["measure"].astype(str))
    for task, task_measures in measures.items():
        for measure in task_measures:
            if measure.name not in labelled_measures:
                continue
            rows = labelled_rows(table[table["task"] == task], gold, measure.name)
            if rows["gold"].notna().sum() == 0:
                continue
            accuracy.append(accuracy_of(rows, task, measure, "all"))
            for checkpoint, part in rows.groupby("checkpoint", sort=True):
                accuracy.append(accuracy_of(part, task, measure, str(checkpoint)))
            for key, stratum in rows.groupby(STRATUM, sort=True):
                rates.append(corrected_rate(stratum, tuple(map(str, key)), measure, lam))  # type: ignore[arg-type]
    return GoldReport(gold, accuracy, rates, lam)
