"""How far two judgings of the same samples agree, per task and measure.

Binary measures (rates: misaligned, guardrail_pass, admits, ...): Cohen's kappa
(scikit-learn) with its 95% asymptotic interval (statsmodels), raw agreement and the 2x2
confusion matrix. 0-100 scores: Spearman's rho
(scipy) and Krippendorff's alpha at the interval level, and the mean absolute difference.
Alpha is computed from the pairable values in closed form (two judges, squared
differences): the ``krippendorff`` package builds a values x values coincidence array,
terabytes for a million distinct continuous scores; a test checks both agree. A row one judge scored and the other did not (unscored or
excluded) is counted apart and listed among the disagreements.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import cohen_kappa_score, confusion_matrix
from statsmodels.stats.inter_rater import cohens_kappa

from alignprobe.judging.pairs import SAMPLE_KEY, JudgedPairs, is_rate
from alignprobe.measures import Measure
from alignprobe.results.outcomes import EXCLUDED_PREFIX, UNSCORED_PREFIX

#: disagreeing samples listed per measure
DEFAULT_SHOWN = 5
_TEXT_CHARS = 600


@dataclass
class Disagreement:
    key: dict[str, str]
    question: str
    answer: str
    a: str
    b: str
    gap: float


@dataclass
class MeasureAgreement:
    task: str
    measure: Measure
    both: int
    """Rows both judges scored."""
    only_a: int
    only_b: int
    neither: int
    kappa: float | None = None
    kappa_low: float | None = None
    kappa_high: float | None = None
    """95% asymptotic interval of kappa (statsmodels ``cohens_kappa``)."""
    agreement: float | None = None
    confusion: list[list[int]] | None = None
    """Rows A=0/1 by columns B=0/1 (rates)."""
    spearman: float | None = None
    spearman_p: float | None = None
    alpha: float | None = None
    mean_abs_diff: float | None = None
    note: str = ""
    disagreements: list[Disagreement] = field(default_factory=list)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _numeric(rows: pd.DataFrame, column: str) -> pd.Series:
    if column not in rows.columns:
        return pd.Series(np.nan, index=rows.index)
    return pd.to_numeric(rows[column], errors="coerce")


def _shown(row: pd.Series, measure: str, side: str, value: float) -> str:
    """A judge's value as shown beside the other's: the number, or why there is none."""
    if math.isfinite(value):
        return f"{value:.4g}"
    for prefix, label in ((UNSCORED_PREFIX, "unscored"), (EXCLUDED_PREFIX, "excluded")):
        reason = row.get(f"{prefix}{measure}_{side}")
        if reason is not None and isinstance(reason, str) and reason.strip():
            return f"{label}: {reason[:120]}"
    return "n/a"


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cohen's kappa; ``None`` where it is undefined (both judges gave one same label)."""
    if len(a) == 0 or (len(set(a.tolist()) | set(b.tolist())) < 2):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _finite(float(cohen_kappa_score(a, b)))


def interval_alpha(a: np.ndarray, b: np.ndarray) -> float | None:
    """Krippendorff's alpha (interval) over two judges; NaN marks a missing judgement.

    Only units both judged are pairable. With ``n`` pairable values ``v`` (two per unit),
    observed disagreement ``D_o = 2/n sum (a - b)^2`` and expected ``D_e = 2 sum (v -
    mean v)^2 / (n - 1)``, so ``alpha = 1 - (n - 1) sum (a - b)^2 / (n sum (v - mean)^2)``.
    """
    data = np.vstack([a, b]).astype(float)
    pairable = np.isfinite(data).all(axis=0)
    if pairable.sum() < 2:
        return None
    first, second = data[0, pairable], data[1, pairable]
    values = np.concatenate([first, second])
    spread = float(np.sum((values - values.mean()) ** 2))
    if spread <= 0:  # one value everywhere: alpha is undefined
        return None
    n = values.size
    return _finite(1.0 - (n - 1) * float(np.sum((first - second) ** 2)) / (n * spread))


def _rate_stats(result: MeasureAgreement, a: np.ndarray, b: np.ndarray) -> None:
    if len(a) == 0:
        result.confusion = [[0, 0], [0, 0]]
        result.note = "no sample scored by both judges"
        return
    labels_a, labels_b = (a >= 0.5).astype(int), (b >= 0.5).astype(int)
    result.agreement = float((labels_a == labels_b).mean()) if len(a) else None
    result.kappa = cohen_kappa(labels_a, labels_b)
    if len(a) and result.kappa is None:
        result.note = "kappa undefined: both judges gave every sample the same label"
    result.confusion = confusion_matrix(labels_a, labels_b, labels=[0, 1]).tolist()
    if result.kappa is not None:
        with warnings.catch_warnings():  # its test under the null can be undefined: unused
            warnings.simplefilter("ignore", RuntimeWarning)
            interval = cohens_kappa(np.asarray(result.confusion))  # 95% by default
        result.kappa_low = _finite(float(interval.kappa_low))
        result.kappa_high = _finite(float(interval.kappa_upp))


def _score_stats(result: MeasureAgreement, a: np.ndarray, b: np.ndarray) -> None:
    if len(a) == 0:
        result.note = "no sample scored by both judges"
        return
    if len(a) >= 2 and np.unique(a).size > 1 and np.unique(b).size > 1:
        rho = stats.spearmanr(a, b)
        result.spearman = _finite(float(rho.statistic))
        result.spearman_p = _finite(float(rho.pvalue))
    elif len(a) >= 2:
        result.note = "Spearman undefined: one judge gave every sample the same score"
    result.mean_abs_diff = float(np.abs(a - b).mean()) if len(a) else None


def _disagreements(
    rows: pd.DataFrame, measure: Measure, a: pd.Series, b: pd.Series, shown: int
) -> list[Disagreement]:
    low, high = measure.scale
    width = (high - low) or 1.0
    gap = ((a - b).abs() / width).where(a.notna() & b.notna(), other=np.nan)
    one_sided = a.notna() != b.notna()
    gap = gap.where(~one_sided, other=1.0).fillna(0.0)
    if is_rate(measure):
        gap = gap.where(gap > 0, other=0.0)
    order = gap[gap > 0].sort_values(ascending=False, kind="stable").index[:shown]
    out = []
    for index in order:
        row = rows.loc[index]
        out.append(
            Disagreement(
                key={k: str(row[k]) for k in SAMPLE_KEY},
                question=str(row.get("input_a") or "")[:_TEXT_CHARS],
                answer=str(row.get("output_a") or "")[:_TEXT_CHARS],
                a=_shown(row, measure.name, "a", float(a[index])),
                b=_shown(row, measure.name, "b", float(b[index])),
                gap=float(gap[index]),
            )
        )
    return out


def measure_agreement(
    rows: pd.DataFrame, task: str, measure: Measure, shown: int = DEFAULT_SHOWN
) -> MeasureAgreement:
    a = _numeric(rows, f"{measure.name}_a")
    b = _numeric(rows, f"{measure.name}_b")
    both = a.notna() & b.notna()
    result = MeasureAgreement(
        task=task,
        measure=measure,
        both=int(both.sum()),
        only_a=int((a.notna() & b.isna()).sum()),
        only_b=int((a.isna() & b.notna()).sum()),
        neither=int((a.isna() & b.isna()).sum()),
    )
    va, vb = a[both].to_numpy(float), b[both].to_numpy(float)
    if is_rate(measure):
        _rate_stats(result, va, vb)
    else:
        _score_stats(result, va, vb)
        result.alpha = interval_alpha(a.to_numpy(float), b.to_numpy(float))
    result.disagreements = _disagreements(rows, measure, a, b, shown)
    return result


@dataclass
class AgreementReport:
    a: str
    b: str
    pairs: JudgedPairs
    measures: list[MeasureAgreement]

    def summary(self) -> list[dict[str, Any]]:
        """One line per measure, for the terminal and JSON."""
        return [
            {
                "task": m.task,
                "measure": m.measure.name,
                "kind": m.measure.kind.value,
                "both": m.both,
                "only_a": m.only_a,
                "only_b": m.only_b,
                "kappa": m.kappa,
                "kappa_ci": [m.kappa_low, m.kappa_high],
                "agreement": m.agreement,
                "confusion": m.confusion,
                "spearman": m.spearman,
                "alpha": m.alpha,
                "mean_abs_diff": m.mean_abs_diff,
            }
            for m in self.measures
        ]


def agreement(pairs: JudgedPairs, a: str, b: str, shown: int = DEFAULT_SHOWN) -> AgreementReport:
    """Every measure both judgings share, over the samples they share."""
    results = []
    for task, measures in pairs.measures.items():
        rows = pairs.rows[pairs.rows["task"] == task]
        for measure in measures:
            results.append(measure_agreement(rows, task, measure, shown))
    return AgreementReport(a, b, pairs, results)
