"""Statistics on the results table: clustered CIs, paired comparisons, multiplicity.

Pure functions on pandas DataFrames shaped like ``samples.parquet`` (one row per sample
x epoch, one float column per measure, ``NaN`` = does not count). Samples that share a
question are not independent, so every interval is clustered by question and every
comparison between checkpoints is paired on the questions both of them answered.

The work is done by maintained libraries: statsmodels (cluster-robust OLS, Wilson
intervals, McNemar, Holm), scipy (Wilcoxon signed-rank, bootstrap).

Public API (also used by the CI gate)::

    clustered_mean_ci(df, "misaligned")              -> Estimate
    paired_difference(base_df, cand_df, "misaligned") -> PairedResult
    holm([p1, p2, ...])                              -> list[float]
    relative_reduction(control_df, treated_df, "misaligned") -> RelativeChange
    cluster_summary(df, "misaligned")                -> DataFrame (per question)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats as scipy_stats
from statsmodels.regression.linear_model import OLS  # not statsmodels.api: it imports all
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from alignprobe.results.labels import as_text, cluster_codes

__all__ = [
    "DEFAULT_CLUSTER",
    "DEFAULT_LEVEL",
    "Estimate",
    "PairedResult",
    "PairedTest",
    "RelativeChange",
    "cluster_summary",
    "clustered_mean_ci",
    "holm",
    "paired_difference",
    "relative_reduction",
]

#: column whose values group non-independent samples
DEFAULT_CLUSTER = "question_id"
DEFAULT_LEVEL = 0.95
DEFAULT_RESAMPLES = 2000

FloatArray = npt.NDArray[np.float64]


class PairedTest(StrEnum):
    """How :func:`paired_difference` computes its p-value."""

    WILCOXON = "wilcoxon"
    """Wilcoxon signed-rank on per-question mean differences (respects clustering)."""
    BOOTSTRAP = "bootstrap"
    """Cluster bootstrap over shared questions: p from the CI inversion of the difference."""
    MCNEMAR = "mcnemar"
    """Exact McNemar on 0/1 values paired by (sample_id, epoch); ignores clustering, so
    only appropriate with one sample per question."""


@dataclass(frozen=True)
class Estimate:
    """A pooled mean (a rate for 0/1 measures) with a clustered confidence interval."""

    measure: str
    value: float
    low: float
    high: float
    n: int
    """Rows that count (measure not NaN)."""
    total: float
    """Sum of the counted values: the number of hits for a rate."""
    clusters: int
    excluded: int
    """Rows whose value is NaN (unscored or not applicable)."""
    level: float
    method: str

    @property
    def counts(self) -> str:
        """``"80 / 964"`` for a rate (hits / counted rows)."""
        total = round(self.total) if float(self.total).is_integer() else self.total
        return f"{total} / {self.n}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PairedResult:
    """Candidate minus baseline on the questions both answered."""

    measure: str
    base_value: float
    cand_value: float
    difference: float
    low: float
    high: float
    p_value: float
    test: str
    clusters: int
    """Shared questions the comparison is based on."""
    n_base: int
    n_cand: int
    level: float
    method: str = ""
    """What the difference and its interval are (shown next to the numbers)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


#: what :func:`paired_difference` reports (the gate's change is a different quantity)
PAIRED_METHOD = (
    "difference of pooled means on shared questions (candidate - baseline); "
    "CI by cluster bootstrap over questions (percentile)"
)
#: short form for table cells
PAIRED_CI_SHORT = "pooled, cluster bootstrap"
#: how a rate's interval starts where the questions' spread could be estimated (the usual
#: case; the report states it once and footnotes the rows computed otherwise)
RATE_CI_CLUSTERED = "Wilson on effective n"
#: the same for a score's interval
SCORE_CI_CLUSTERED = "cluster-robust SE (CR1"


@dataclass(frozen=True)
class RelativeChange:
    """``1 - treated / control`` (e.g. the share of misalignment an inoculation removed)."""

    measure: str
    control_value: float
    treated_value: float
    value: float
    low: float
    high: float
    clusters: int
    level: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _values(df: pd.DataFrame, measure: str, cluster: str) -> tuple[FloatArray, npt.NDArray[Any]]:
    if measure not in df.columns:
        raise KeyError(f"measure column '{measure}' not in table")
    if cluster not in df.columns:
        raise KeyError(f"cluster column '{cluster}' not in table")
    values = pd.to_numeric(df[measure], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    groups = cluster_codes(df[cluster])  # the intervals need which rows share a cluster
    keep = ~np.isnan(values)
    return values[keep], groups[keep]


def _is_binary(values: FloatArray) -> bool:
    return bool(np.isin(values, (0.0, 1.0)).all())


def _contain(
    low: float, high: float, value: float, bounds: tuple[float, float] | None
) -> tuple[float, float]:
    """Clip to ``bounds`` and widen to ``value``: every interval holds its own estimate."""
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    if math.isfinite(value):
        low = min(low, value) if math.isfinite(low) else low
        high = max(high, value) if math.isfinite(high) else high
    return low, high


def _cluster_variance(values: FloatArray, groups: npt.NDArray[Any]) -> float:
    """CR1 cluster-robust variance of the mean (statsmodels, intercept-only OLS)."""
    codes = pd.factorize(groups)[0]
    fit = OLS(values, np.ones_like(values)).fit(cov_type="cluster", cov_kwds={"groups": codes})
    return float(np.asarray(fit.bse)[0]) ** 2


def _rate_interval(
    values: FloatArray, groups: npt.NDArray[Any], clusters: int, level: float
) -> tuple[float, float, str]:
    """Wilson interval on the effective sample size n / design effect (see clustered_mean_ci)."""
    n, mean = len(values), float(values.mean())
    alpha = 1 - level
    if clusters >= 2 and 0.0 < mean < 1.0:
        deff = max(1.0, _cluster_variance(values, groups) / (mean * (1.0 - mean) / n))
        effective = n / deff
        # the design effect is estimated from `clusters` questions: use the t(clusters-1)
        # critical value in place of z (the Wilson level whose z equals it)
        critical = float(scipy_stats.t.ppf(1 - alpha / 2, clusters - 1))
        alpha = float(2 * scipy_stats.norm.sf(critical))
        method = (
            f"{RATE_CI_CLUSTERED} {effective:.1f} of {n} answers "
            f"(design effect {deff:.2f} over {clusters} questions, t with {clusters - 1} df)"
        )
    else:
        effective = float(n)
        why = "one question" if clusters < 2 else f"rate {mean:.0%}, no variation"
        method = f"Wilson on {n} answers ({why}: clustering not estimable, answers independent)"
    low, high = proportion_confint(mean * effective, effective, alpha=alpha, method="wilson")
    return float(low), float(high), method


def _mean_interval(
    values: FloatArray, groups: npt.NDArray[Any], clusters: int, level: float
) -> tuple[float, float, str]:
    """t interval with the larger of the cluster-robust and the independent-answers SE."""
    mean = float(values.mean())
    if len(values) < 2 or float(values.var()) == 0.0:
        return mean, mean, "no variation"
    plain = OLS(values, np.ones_like(values)).fit(use_t=True)
    if clusters >= 2:
        codes = pd.factorize(groups)[0]
        robust = OLS(values, np.ones_like(values)).fit(
            cov_type="cluster", cov_kwds={"groups": codes}, use_t=True
        )
        if float(np.asarray(robust.bse)[0]) >= float(np.asarray(plain.bse)[0]):
            low, high = (float(x) for x in np.asarray(robust.conf_int(alpha=1 - level))[0])
            return low, high, f"{SCORE_CI_CLUSTERED}, t with {clusters - 1} df)"
        method = "t with n-1 df (cluster-robust SE was smaller)"
    else:
        method = "t with n-1 df (one question: answers independent)"
    low, high = (float(x) for x in np.asarray(plain.conf_int(alpha=1 - level))[0])
    return low, high, method


def clustered_mean_ci(
    df: pd.DataFrame,
    measure: str,
    cluster: str = DEFAULT_CLUSTER,
    level: float = DEFAULT_LEVEL,
    bounds: tuple[float, float] | None = None,
) -> Estimate:
    """Pooled mean of ``measure`` with a CI clustered by ``cluster``; it always contains
    the mean and, for 0/1 measures, lies in [0, 1].

    **0/1 measures (rates)**: a Wilson score interval (statsmodels ``proportion_confint``)
    on the *effective sample size* ``n / deff``. The design effect ``deff`` is the
    cluster-robust (CR1) variance of the mean over the binomial variance ``p(1-p)/n``,
    floored at 1: answers to one question are never worth more than independent ones.
    Since ``deff`` is estimated from the questions, the Wilson critical value is that of
    a t distribution with clusters-1 degrees of freedom (scipy), not z.
    A Wilson interval contains the observed rate, stays inside [0, 1] and gives a rate of
    0 (or 1) a real upper (lower) bound that shrinks with the number of answers. Where
    the design effect cannot be estimated (a rate of exactly 0 or 1: no variation to
    estimate the intra-question correlation from; or a single question) the ``n``
    answers are treated as independent, and ``method`` says so: 0 of 100 answers over 8
    questions gives 0.0%-3.7%.

    **Other measures (scores)**: a t interval on the cluster-robust (CR1) standard error
    with clusters-1 degrees of freedom, or on the plain standard error (n-1 df) where
    that is larger or there is one cluster. No variation at all gives ``[mean, mean]``.
    ``bounds`` (default ``(0, 1)`` for 0/1 measures) clips the interval to the scale.
    """
    values, groups = _values(df, measure, cluster)
    excluded = int(len(df) - len(values))
    n = len(values)
    clusters = len(set(groups.tolist()))
    if n == 0:
        nan = math.nan
        return Estimate(measure, nan, nan, nan, 0, 0.0, 0, excluded, level, "no data")
    mean = float(values.mean())
    binary = _is_binary(values)
    if bounds is None and binary:
        bounds = (0.0, 1.0)
    interval = _rate_interval if binary else _mean_interval
    low, high, method = interval(values, groups, clusters, level)
    low, high = _contain(low, high, mean, bounds)
    return Estimate(
        measure=measure,
        value=mean,
        low=low,
        high=high,
        n=n,
        total=float(values.sum()),
        clusters=clusters,
        excluded=excluded,
        level=level,
        method=method,
    )


def cluster_summary(df: pd.DataFrame, measure: str, cluster: str = DEFAULT_CLUSTER) -> pd.DataFrame:
    """Per-cluster ``n`` (counted rows), ``total`` (sum) and ``mean``; index = cluster."""
    values = pd.to_numeric(df[measure], errors="coerce")
    labels = as_text(df[cluster]).rename(cluster)
    counted = values.notna() & labels.notna()
    grouped = values[counted].groupby(labels[counted])
    out = pd.DataFrame({"n": grouped.count(), "total": grouped.sum()})
    out["mean"] = out["total"] / out["n"]
    return out


def _shared(base: pd.DataFrame, cand: pd.DataFrame, measure: str, cluster: str) -> pd.DataFrame:
    joined = cluster_summary(base, measure, cluster).join(
        cluster_summary(cand, measure, cluster), lsuffix="_base", rsuffix="_cand", how="inner"
    )
    return joined[(joined["n_base"] > 0) & (joined["n_cand"] > 0)]


def _pooled_difference(
    sb: FloatArray, nb: FloatArray, sc: FloatArray, nc: FloatArray, axis: int = -1
) -> FloatArray:
    return np.asarray(
        np.sum(sc, axis=axis) / np.sum(nc, axis=axis)
        - np.sum(sb, axis=axis) / np.sum(nb, axis=axis)
    )


def _bootstrap_ci(
    data: tuple[FloatArray, ...],
    statistic: Any,
    level: float,
    n_resamples: int,
    seed: int,
) -> tuple[float, float, FloatArray]:
    """Percentile cluster bootstrap (scipy): rows of ``data`` are clusters, resampled together."""
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        result = scipy_stats.bootstrap(
            data,
            statistic,
            paired=True,
            vectorized=True,
            n_resamples=n_resamples,
            confidence_level=level,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
    dist = np.asarray(result.bootstrap_distribution, dtype=float)
    return float(result.confidence_interval.low), float(result.confidence_interval.high), dist


def _wilcoxon_p(differences: FloatArray) -> float:
    if len(differences) == 0:
        return math.nan
    if np.allclose(differences, 0.0):
        return 1.0
    # zsplit keeps tied-at-zero questions in the ranking (they dilute, not vanish)
    result = scipy_stats.wilcoxon(differences, zero_method="zsplit")
    return float(result.pvalue)


def _bootstrap_p(dist: FloatArray) -> float:
    """Two-sided p from a bootstrap distribution: twice the smaller tail beyond 0."""
    finite = dist[np.isfinite(dist)]
    if len(finite) == 0:
        return math.nan
    tail = min(float((finite <= 0).mean()), float((finite >= 0).mean()))
    return min(1.0, 2 * max(tail, 1 / len(finite)))


def _mcnemar_p(base: pd.DataFrame, cand: pd.DataFrame, measure: str) -> float:
    keys = ["sample_id", "epoch"]
    joined = base[[*keys, measure]].merge(cand[[*keys, measure]], on=keys, suffixes=("_b", "_c"))
    joined = joined.dropna()
    if joined.empty:
        return math.nan
    b = joined[f"{measure}_b"].astype(int)
    c = joined[f"{measure}_c"].astype(int)
    table = pd.crosstab(b, c).reindex(index=[0, 1], columns=[0, 1], fill_value=0)
    return float(mcnemar(table.to_numpy(), exact=True).pvalue)


def paired_difference(
    base_df: pd.DataFrame,
    cand_df: pd.DataFrame,
    measure: str,
    cluster: str = DEFAULT_CLUSTER,
    level: float = DEFAULT_LEVEL,
    test: PairedTest | str = PairedTest.WILCOXON,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> PairedResult:
    """Candidate minus baseline for ``measure`` on the clusters both have data for.

    The difference is of pooled means over the shared clusters; its CI is a cluster
    bootstrap (questions resampled with both checkpoints' answers kept together), widened
    to the difference where the percentile interval misses it, so it always contains it.
    (The CI gate reports another quantity: the mean of per-question differences with a
    t interval; see ``alignprobe.gate.decide.change_interval``.) The p-value comes from
    ``test`` (see :class:`PairedTest`). With no shared cluster every number is NaN and
    ``clusters`` is 0.
    """
    test = PairedTest(test)
    shared = _shared(base_df, cand_df, measure, cluster)
    nan = math.nan
    if shared.empty:
        return PairedResult(
            measure, nan, nan, nan, nan, nan, nan, test.value, 0, 0, 0, level, PAIRED_METHOD
        )
    sb, nb, sc, nc = (
        shared[c].to_numpy(dtype=float) for c in ("total_base", "n_base", "total_cand", "n_cand")
    )
    base_value = float(sb.sum() / nb.sum())
    cand_value = float(sc.sum() / nc.sum())
    if len(shared) >= 2:
        low, high, dist = _bootstrap_ci(
            (sb, nb, sc, nc), _pooled_difference, level, n_resamples, seed
        )
        low, high = _contain(low, high, cand_value - base_value, None)
    else:
        low, high, dist = nan, nan, np.array([], dtype=float)
    if test is PairedTest.WILCOXON:
        p_value = _wilcoxon_p(shared["mean_cand"].to_numpy() - shared["mean_base"].to_numpy())
    elif test is PairedTest.BOOTSTRAP:
        p_value = _bootstrap_p(dist)
    else:
        keep = set(shared.index)
        p_value = _mcnemar_p(
            base_df[as_text(base_df[cluster]).isin(keep)],
            cand_df[as_text(cand_df[cluster]).isin(keep)],
            measure,
        )
    return PairedResult(
        measure=measure,
        base_value=base_value,
        cand_value=cand_value,
        difference=cand_value - base_value,
        low=low,
        high=high,
        p_value=p_value,
        test=test.value,
        clusters=len(shared),
        n_base=int(nb.sum()),
        n_cand=int(nc.sum()),
        level=level,
        method=PAIRED_METHOD,
    )


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values; NaN entries stay NaN and are not counted.

    The step-down statsmodels' ``multipletests(method="holm")`` computes (sorted p times
    m, m-1, ..., 1, running maximum, capped at 1; a test holds the two equal), without its
    ``gc.collect()`` on every call: 0.3 s each on a large table's heap, and ``compare``
    corrects once per checkpoint."""
    values = np.asarray(pvalues, dtype=float)
    out = np.full(len(values), math.nan)
    finite = np.flatnonzero(~np.isnan(values))
    if finite.size:
        order = np.argsort(values[finite], kind="stable")
        ranked = values[finite][order] * np.arange(finite.size, 0, -1)
        corrected = np.minimum(np.maximum.accumulate(ranked), 1.0)
        out[finite[order]] = corrected
    return [float(v) for v in out]


def _relative_reduction(
    sb: FloatArray, nb: FloatArray, sc: FloatArray, nc: FloatArray, axis: int = -1
) -> FloatArray:
    control = np.sum(sb, axis=axis) / np.sum(nb, axis=axis)
    treated = np.sum(sc, axis=axis) / np.sum(nc, axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(control > 0, 1.0 - treated / control, np.nan))


def relative_reduction(
    control_df: pd.DataFrame,
    treated_df: pd.DataFrame,
    measure: str = "misaligned",
    cluster: str = DEFAULT_CLUSTER,
    level: float = DEFAULT_LEVEL,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> RelativeChange:
    """``1 - treated/control`` on shared clusters, with a cluster-bootstrap CI.

    1.0 means the treatment removed all of it, 0 no change, negative an increase.
    Undefined (NaN) when the control never shows the behaviour; resamples in which the
    control rate is 0 are dropped from the interval.
    """
    shared = _shared(control_df, treated_df, measure, cluster)
    nan = math.nan
    if shared.empty:
        return RelativeChange(measure, nan, nan, nan, nan, nan, 0, level)
    sb, nb, sc, nc = (
        shared[c].to_numpy(dtype=float) for c in ("total_base", "n_base", "total_cand", "n_cand")
    )
    control = float(sb.sum() / nb.sum())
    treated = float(sc.sum() / nc.sum())
    value = 1.0 - treated / control if control > 0 else nan
    low = high = nan
    if control > 0 and len(shared) >= 2:
        _, _, dist = _bootstrap_ci((sb, nb, sc, nc), _relative_reduction, level, n_resamples, seed)
        finite = dist[np.isfinite(dist)]
        if len(finite):
            alpha = 1 - level
            low, high = (float(x) for x in np.quantile(finite, [alpha / 2, 1 - alpha / 2]))
            low, high = _contain(low, high, value, None)
    return RelativeChange(measure, control, treated, value, low, high, len(shared), level)
