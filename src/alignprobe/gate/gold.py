"""``alignprobe gate --gold LABELS``: decide judged rate checks on bias-corrected rates.

A check on a rate measure that human labels cover (in both the baseline's and the
candidate's stratum) is decided on the difference of the two PPI-corrected rates
(:mod:`alignprobe.judging.gold_stats`) instead of the judge's own rates: a judge that
misses or invents misalignment at different rates for the two checkpoints can no longer
fake or hide a regression. The two estimates are independent (different samples), so the
difference has variance ``se_b^2 + se_c^2`` and a normal one-sided test against the
check's allowed worsening replaces the check's regression (and non-inferiority)
p-values; the check then reports the corrected rates as its baseline and candidate values
and ``ppi-difference`` as its test, so every number on the line belongs to one decision.
The correction across checks and every other rule of the gate stay as they are.
Limit hypotheses (ceiling, floor) keep the judge's rates.

A labelled measure whose labels cannot support the correction (fewer than two labelled
samples on a side) makes that check *cannot decide*: the user asked for corrected
decisions. Checks on measures nobody labelled are decided as usual.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from scipy.stats import norm

from alignprobe.errors import UserInputError
from alignprobe.gate.results import Side
from alignprobe.gate.types import CheckStatus, GateTest, HypothesisKind
from alignprobe.gate.verdict import CheckResult
from alignprobe.judging.gold import GoldLabels, load_gold
from alignprobe.judging.gold_stats import (
    Interval,
    PpiEstimate,
    clip_to_scale,
    labelled_rows,
    stratum_ppi,
)
from alignprobe.measures import Direction, MeasureKind
from alignprobe.units import fmt

_CORRECTED = {HypothesisKind.REGRESSION, HypothesisKind.NON_INFERIORITY}
RATE_SCALE = (0.0, 1.0)


@dataclass(frozen=True)
class GoldCorrection:
    labels: GoldLabels
    lam: float | None = 1.0

    def covers(self, task: str, measure: str) -> bool:
        rows = self.labels.labels
        return bool(((rows["task"] == task) & (rows["measure"] == measure)).any())


def load_gold_correction(path: Path, base: Side, cand: Side) -> GoldCorrection:
    """Labels read against both sides' rows (a file may label either or both)."""
    table = pd.concat([base.table, cand.table], ignore_index=True)
    measures = {**base.measures, **cand.measures}
    labels = load_gold(path, table, measures)
    if labels.labels.empty:
        raise UserInputError(
            "no usable gold label for the baseline or the candidate"
            + (f" ({labels.skipped_summary()})" if labels.skipped else ""),
            source=path,
        )
    return GoldCorrection(labels)


def _side_rows(side: Side, result: CheckResult) -> pd.DataFrame:
    from alignprobe.gate.checks import _rows

    rows = _rows(side, result.task, result.condition)
    if result.slice:
        column, _, value = result.slice.partition("=")
        rows = rows[rows[column].astype(str) == value]
    return rows


def _estimate(side: Side, result: CheckResult, gold: GoldCorrection) -> PpiEstimate | str:
    rows = labelled_rows(_side_rows(side, result), gold.labels, result.measure)
    return stratum_ppi(rows, gold.lam)


def _fmt(rate: Interval) -> str:
    return f"{fmt(rate.value)} [{fmt(rate.low)}, {fmt(rate.high)}]"


def _p(worsening: float, margin: float, se: float, kind: HypothesisKind) -> float:
    if se <= 0 or not math.isfinite(se):
        worse = worsening > margin
        return 0.0 if worse == (kind is HypothesisKind.REGRESSION) else 1.0
    z = (worsening - margin) / se
    return float(norm.sf(z) if kind is HypothesisKind.REGRESSION else norm.cdf(z))


def apply_gold(result: CheckResult, base: Side, cand: Side, gold: GoldCorrection) -> bool:
    """Re-decide ``result`` on PPI-corrected rates if labels cover it; True if they did."""
    if result.kind is not MeasureKind.RATE or not gold.covers(result.task, result.measure):
        return False
    if result.status is not CheckStatus.PASS or result.allowed_worsening is None:
        return True  # already cannot decide (too few samples, judge mismatch, ...)
    estimates = {
        "baseline": _estimate(base, result, gold),
        "candidate": _estimate(cand, result, gold),
    }
    missing = [f"{role}: {why}" for role, why in estimates.items() if isinstance(why, str)]
    if missing:
        result.status = CheckStatus.CANNOT_DECIDE
        result.reasons = [f"gold labels cannot correct this check ({'; '.join(missing)})"]
        result.hypotheses = []
        # no judge-only number stays on a line whose decision the labels could not make
        result.test = GateTest.PPI
        result.change = result.ci_low = result.ci_high = result.p_better = None
        result.ci_method = None
        for summary in (result.baseline, result.candidate):
            if summary is not None:
                summary.value = summary.low = summary.high = None
        result._data = None
        return True
    b, c = estimates["baseline"], estimates["candidate"]
    assert isinstance(b, PpiEstimate) and isinstance(c, PpiEstimate)
    # one story: the values, change, interval and test name all describe this decision
    result.test = GateTest.PPI
    # each rate shown as `gold report` shows it, within [0, 1]; the test uses the raw se
    shown_b, shown_c = (clip_to_scale(Interval(e.value, e.low, e.high), RATE_SCALE) for e in (b, c))
    for summary, shown in ((result.baseline, shown_b), (result.candidate, shown_c)):
        if summary is not None:
            summary.value, summary.low, summary.high = shown.value, shown.low, shown.high
    sign = 1.0 if (result.direction or Direction.GOOD_LOW) is Direction.GOOD_LOW else -1.0
    change = c.value - b.value
    se = math.hypot(b.se, c.se)
    half = float(norm.ppf(0.5 + result.ci_level / 2)) * se
    result.change, result.ci_low, result.ci_high = change, change - half, change + half
    result.ci_method = (
        f"difference of PPI-corrected rates ({'PPI++' if gold.lam is None else 'classic PPI'}, "
        f"gold labels): baseline {_fmt(shown_b)}, candidate {_fmt(shown_c)}; normal interval"
    )
    for hypothesis in result.hypotheses:
        if hypothesis.kind in _CORRECTED:
            hypothesis.p_value = _p(sign * change, hypothesis.threshold, se, hypothesis.kind)
    result.p_better = float(norm.cdf(sign * change / se)) if se > 0 else None
    result._data = None  # the MDE of the judge-only test does not describe this decision
    return True
