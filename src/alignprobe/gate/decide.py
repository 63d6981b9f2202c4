"""The gate's decision rule: one-sided tests of the candidate against the baseline,
paired by question.

Questions are the units of pairing. Each side is reduced to per-question counts
(:class:`QuestionData`) on the questions both sides answered, and one of two tests runs:

* **rates** (0/1 per sample): a question-stratified score test of the Mantel-Haenszel
  risk difference against the margin (:func:`stratified_pvalues`). The questions are
  fixed strata and each question's answers binomial; at margin 0 it is exactly the
  Cochran-Mantel-Haenszel test (statsmodels ``StratifiedTable.test_null_odds``). With a
  margin, each question's variance is taken at the Miettinen-Nurminen restricted
  estimate under "risk difference = margin" (statsmodels
  ``score_test_proportions_2indep``, its ``nobs/(nobs-1)`` factor being the CMH
  hypergeometric one), the questions weighted as Mantel-Haenszel does
  (``n_base n_cand / (n_base + n_cand)``).
* **scores** (and on request any measure): a t-test (or an exact sign-flip test) on the
  per-question differences of means, which treats the questions as a sample.

Every function takes arrays whose last axis is the question axis and any leading axes are
independent gates, so the power simulation runs thousands of gates through exactly this
code in one call.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import optimize
from scipy import stats as scipy_stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestPower
from statsmodels.stats.proportion import score_test_proportions_2indep

from alignprobe.gate.types import Correction, GateMode, GateTest
from alignprobe.measures import MeasureKind
from alignprobe.report.stats import holm

FloatArray = npt.NDArray[np.float64]

#: resamples of the sign-flip test when exact enumeration (2**questions) is larger
SIGN_FLIP_RESAMPLES = 9999
#: a difference smaller than this counts as none (floating-point noise)
_TOLERANCE = 1e-12
#: power at which every verdict states its minimum detectable effect
MDE_POWER = 0.8

#: which way a one-sided test looks: "worse" = H1 worsening > margin (a regression);
#: "not-worse" = H1 worsening < margin (non-inferiority)
Alternative = Literal["worse", "not-worse"]

METHOD_CMH = (
    "Mantel-Haenszel risk difference over questions; interval inverts the stratified "
    "score (CMH) test"
)
METHOD_T = "mean of per-question differences, two-sided t interval"


@dataclass(frozen=True)
class QuestionData:
    """Per-question counts of both sides on shared questions, oriented so larger is worse.

    Arrays share one shape; the last axis is the question. For a rate ``*_bad`` counts the
    bad answers (the 1s of a good-low rate, the 0s of a good-high one); for a score it is
    the sum of the values, negated for a good-high score.
    """

    base_n: FloatArray
    base_bad: FloatArray
    cand_n: FloatArray
    cand_bad: FloatArray

    @property
    def worsening(self) -> FloatArray:
        """Per-question candidate-minus-baseline means (positive = worse)."""
        return np.asarray(self.cand_bad / self.cand_n - self.base_bad / self.base_n)

    @property
    def weights(self) -> FloatArray:
        """Mantel-Haenszel weights of the questions for a risk difference."""
        return np.asarray(self.base_n * self.cand_n / (self.base_n + self.cand_n))

    @property
    def baseline_rate(self) -> FloatArray:
        """Pooled (bad) baseline rate over the questions."""
        return np.asarray(self.base_bad.sum(axis=-1) / self.base_n.sum(axis=-1))


def resolve_test(test: GateTest, kind: MeasureKind | None, binary: bool) -> GateTest:
    """The test a check runs: ``auto`` picks CMH for rates and the t-test for scores."""
    if test is not GateTest.AUTO:
        return test
    if kind is MeasureKind.RATE or (kind is None and binary):
        return GateTest.CMH
    return GateTest.T_TEST


def allowed_worsening(baseline: float, absolute: float, relative: float | None) -> float:
    """The margin: the larger of the absolute and the relative (x |baseline|) allowance."""
    return max(absolute, relative * abs(baseline)) if relative is not None else absolute


def _mean(x: FloatArray, axis: int) -> FloatArray:
    return np.asarray(np.mean(x, axis=axis))


def _greater_than_zero(excess: FloatArray, method: GateTest, seed: int) -> FloatArray:
    """One-sided p-values for 'mean of excess > 0' along the last axis."""
    mean = excess.mean(axis=-1)
    spread = excess.std(axis=-1, ddof=1) if excess.shape[-1] > 1 else np.zeros_like(mean)
    # no spread at all: the sign of the mean is the whole story (t is undefined there)
    constant = spread <= _TOLERANCE * np.maximum(1.0, np.abs(mean))
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        if method is GateTest.T_TEST:
            p = scipy_stats.ttest_1samp(excess, 0.0, axis=-1, alternative="greater").pvalue
        else:
            p = scipy_stats.permutation_test(
                (excess,),
                _mean,
                permutation_type="samples",  # one sample: flips the sign of each question
                vectorized=True,
                n_resamples=SIGN_FLIP_RESAMPLES,
                alternative="greater",
                axis=-1,
                rng=np.random.default_rng(seed),
            ).pvalue
    p = np.asarray(p, dtype=float)
    return np.where(constant, np.where(mean > _TOLERANCE, 0.0, 1.0), p)


def regression_pvalues(
    worsening: FloatArray,
    margin: float | FloatArray,
    method: GateTest = GateTest.T_TEST,
    seed: int = 0,
) -> FloatArray:
    """p-values of H0 'mean worsening <= margin' against 'worsening > margin'.

    ``worsening`` holds per-question differences oriented so that positive is worse.
    """
    excess = np.asarray(worsening, dtype=float) - np.expand_dims(np.asarray(margin), -1)
    return _greater_than_zero(excess, method, seed)


def _restricted_variance(data: QuestionData, margin: float) -> FloatArray:
    """Per-question variance of the risk difference under 'difference = margin'."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = score_test_proportions_2indep(
            data.cand_bad,
            data.cand_n,
            data.base_bad,
            data.base_n,
            value=float(margin),
            compare="diff",
            correction=True,  # n/(n-1): the CMH (hypergeometric) variance at margin 0
        )
    variance: FloatArray = np.clip(np.nan_to_num(np.asarray(result.variance, dtype=float)), 0, None)
    return variance


def stratified_z(data: QuestionData, margin: float) -> FloatArray:
    """Stratified score statistic of 'risk difference = margin' (positive = worse).

    ``sum w (d - margin) / sqrt(sum w^2 V)`` with Mantel-Haenszel weights ``w`` and each
    question's variance ``V`` at the restricted estimate; its square at margin 0 is the
    CMH statistic without continuity correction. No variance at all (no event anywhere,
    margin 0) gives +-inf by the sign of the numerator, 0 when that is 0 too.
    """
    w = data.weights
    numerator = np.sum(w * (data.worsening - margin), axis=-1)
    spread = np.sqrt(np.sum(w**2 * _restricted_variance(data, margin), axis=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = numerator / spread
    tiny = _TOLERANCE * np.maximum(1.0, np.sum(w, axis=-1))
    flat = np.where(numerator > tiny, np.inf, np.where(numerator < -tiny, -np.inf, 0.0))
    return np.asarray(np.where(spread > 0, z, flat), dtype=float)


def stratified_pvalues(
    data: QuestionData, margin: float, alternative: Alternative = "worse"
) -> FloatArray:
    """One-sided p-values of the stratified (CMH) test against ``margin``."""
    z = stratified_z(data, margin)
    tail = scipy_stats.norm.sf(z) if alternative == "worse" else scipy_stats.norm.cdf(z)
    return np.asarray(tail, dtype=float)


def mh_difference(data: QuestionData) -> FloatArray:
    """Mantel-Haenszel weighted risk difference (positive = worse)."""
    w = data.weights
    return np.asarray(np.sum(w * data.worsening, axis=-1) / np.sum(w, axis=-1))


def worsening_pvalues(
    data: QuestionData,
    margin: float,
    test: GateTest,
    alternative: Alternative = "worse",
    seed: int = 0,
) -> FloatArray:
    """p of 'worse than ``margin``' (or, ``not-worse``, of 'less worse than it')."""
    if test is GateTest.CMH:
        return stratified_pvalues(data, margin, alternative)
    if test is GateTest.AUTO:
        raise ValueError("resolve the test (resolve_test) before computing p-values")
    worsening = data.worsening
    if alternative == "worse":
        return regression_pvalues(worsening, margin, test, seed)
    return regression_pvalues(-worsening, -margin, test, seed)


def _one(x: FloatArray) -> float:
    """The single value of a one-gate result."""
    return float(np.asarray(x).reshape(-1)[0])


def stratified_interval(data: QuestionData, level: float) -> tuple[float, float, float]:
    """MH risk difference with the interval that inverts the two-sided stratified test:
    the margins the test would not reject at ``1 - level``. Data for one gate."""
    estimate = _one(mh_difference(data))
    critical = float(scipy_stats.norm.ppf(0.5 + level / 2))
    edge = 1.0 - 1e-9

    def excess(delta: float, target: float) -> float:
        z = _one(stratified_z(data, delta))
        return float(np.clip(z, -1e6, 1e6)) - target

    def bound(lo: float, hi: float, target: float, default: float) -> float:
        if excess(lo, target) * excess(hi, target) > 0:
            return default
        return float(optimize.brentq(excess, lo, hi, args=(target,), xtol=1e-7))

    low = bound(-edge, estimate, critical, -edge) if estimate > -edge else estimate
    high = bound(estimate, edge, -critical, edge) if estimate < edge else estimate
    return estimate, min(low, estimate), max(high, estimate)


def change_estimate(
    data: QuestionData, test: GateTest, level: float
) -> tuple[float, float, float, str]:
    """The worsening the test decides on, its two-sided interval and what they are."""
    if test is GateTest.CMH:
        estimate, low, high = stratified_interval(data, level)
        return estimate, low, high, METHOD_CMH
    worsening = data.worsening.reshape(-1)
    low, high = change_interval(worsening, level)
    return float(worsening.mean()), low, high, METHOD_T


def _stratified_power(
    data: QuestionData, rate: float, delta: float, margin: float, critical: float, worse: bool
) -> float:
    """Normal-approximation power of the stratified test, every question at ``rate``."""
    p_base = np.full_like(data.base_n, rate)
    p_cand = np.clip(p_base + delta, 0.0, 1.0)
    expected = QuestionData(data.base_n, data.base_n * p_base, data.cand_n, data.cand_n * p_cand)
    w = data.weights
    null_spread = math.sqrt(float(np.sum(w**2 * _restricted_variance(expected, margin))))
    spread = math.sqrt(
        float(
            np.sum(
                w**2 * (p_cand * (1 - p_cand) / data.cand_n + p_base * (1 - p_base) / data.base_n)
            )
        )
    )
    shift = float(np.sum(w * (p_cand - p_base - margin)))
    shift = shift if worse else -shift
    if spread <= 0:
        return 1.0 if shift - critical * null_spread > 0 else 0.0
    return float(scipy_stats.norm.cdf((shift - critical * null_spread) / spread))


def minimum_detectable(
    data: QuestionData,
    margin: float,
    test: GateTest,
    level: float,
    mode: GateMode = GateMode.REGRESSION,
    power: float = MDE_POWER,
) -> float | None:
    """What this check could show at ``power`` with the data it had (one gate's data).

    ``regression``: the smallest true worsening the test detects (fails) with ``power``.
    ``non_inferiority``: the smallest margin it shows the candidate within with ``power``
    when nothing changed. ``None``: not reachable with these data.

    Rates (CMH): the questions' answer counts as they are, every question at the pooled
    baseline rate (heterogeneity only lowers the variance, so this errs toward a larger
    value), normal approximation. Scores (t, sign-flip): noncentral t (statsmodels
    ``TTestPower``) with the observed spread of the per-question differences.
    """
    worse = mode is GateMode.REGRESSION
    if test is GateTest.CMH:
        rate = _one(data.baseline_rate)
        critical = float(scipy_stats.norm.isf(level))
        if worse:
            top = 1.0 - rate
            if top <= margin:
                return None

            def short(delta: float) -> float:
                return _stratified_power(data, rate, delta, margin, critical, True) - power

            if short(top) < 0:
                return None
            return float(optimize.brentq(short, margin, top, xtol=1e-6))

        def short_ni(m: float) -> float:
            return _stratified_power(data, rate, 0.0, m, critical, False) - power

        top = 1.0 - rate
        if top <= 0 or short_ni(top) < 0:
            return None
        return float(optimize.brentq(short_ni, 1e-9, top, xtol=1e-6))
    worsening = data.worsening.reshape(-1)
    questions = len(worsening)
    spread = float(worsening.std(ddof=1)) if questions > 1 else 0.0
    if questions < 2:
        return None
    d = float(
        TTestPower().solve_power(
            effect_size=None, nobs=questions, alpha=level, power=power, alternative="larger"
        )
    )
    return (margin if worse else 0.0) + d * spread


def limit_pvalue(values: FloatArray, limit: float, above: bool) -> float:
    """p of 'candidate mean is beyond ``limit``' (above a ceiling or below a floor).

    Always a t-test: the sign-flip test needs differences that are symmetric under the
    null, which one checkpoint's per-question values are not.
    """
    excess = (values - limit) if above else (limit - values)
    return float(_greater_than_zero(excess[np.newaxis, :], GateTest.T_TEST, 0)[0])


def change_interval(change: FloatArray, level: float) -> tuple[float, float]:
    """Two-sided t interval of the mean per-question change (clustered by construction)."""
    mean = float(change.mean())
    if len(change) < 2 or float(change.std(ddof=1)) <= _TOLERANCE * max(1.0, abs(mean)):
        return mean, mean
    result = scipy_stats.ttest_1samp(change, 0.0)
    interval = result.confidence_interval(confidence_level=level)
    return float(interval.low), float(interval.high)


def adjust(pvalues: Sequence[float], correction: Correction) -> list[float]:
    """Family-wise corrected p-values (Holm from alignprobe.report.stats, Bonferroni statsmodels)."""
    if not pvalues:
        return []
    if correction is Correction.HOLM:
        return holm(pvalues)
    if correction is Correction.BONFERRONI:
        return [float(p) for p in multipletests(list(pvalues), method="bonferroni")[1]]
    return [float(p) for p in pvalues]
