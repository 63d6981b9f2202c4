"""Sample sizes planned from a run's own per-question profile (``alignprobe power --from``).

The gate decides a rate with the question-stratified score test of
:func:`alignprobe.gate.decide.stratified_z`. Its power on a fixed profile (each question's
baseline rate as a recorded run shows it, the candidate's from the effect: additive, or
proportional = every rate multiplied by ``1 + effect / mean``) follows from the normal
approximation of that same statistic: numerator ``sum w (p_cand - p_base - margin)``,
its spread under the alternative from each question's binomial variance, and the
critical value scaled by its spread at the restricted estimate under the margin, as the
gate computes it. So the plan describes the test the gate runs, with the clustering the
data show (questions with different rates) rather than an assumed ICC.
:func:`alignprobe.gate.power.gate_power` simulates the gate on the same profile to check it.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as scipy_stats

from alignprobe.gate.decide import QuestionData, _restricted_variance
from alignprobe.gate.power import MAX_SAMPLES, Design, candidate_rates
from alignprobe.gate.types import GateMode


def _level(design: Design) -> float:
    """One check's level: regression checks share the correction, NI checks do not."""
    return design.alpha / design.checks if design.mode is GateMode.REGRESSION else design.alpha


#: up to this many samples per question the moments of the statistic's spread are taken
#: exactly (every outcome of each question); beyond, at the expected counts
EXACT_SAMPLES = 200


def _moments(rates: np.ndarray, cand: np.ndarray, n: int, margin: float) -> tuple[float, ...]:
    """Mean of the restricted variance sum ``V`` (weights included), its variance, and
    its covariance with the numerator, over every outcome of every question."""
    k = np.arange(n + 1, dtype=float)
    mean_v = var_v = cov = 0.0
    w2 = (n / 2.0) ** 2
    for p_base, p_cand in zip(rates, cand, strict=True):
        pb = scipy_stats.binom.pmf(k, n, p_base)
        pc = scipy_stats.binom.pmf(k, n, p_cand)
        prob = pb[:, None] * pc[None, :]
        base, cand_k = np.meshgrid(k, k, indexing="ij")
        full = np.full(base.shape, float(n))
        v = w2 * _restricted_variance(QuestionData(full, base, full.copy(), cand_k), margin)
        d = (n / 2.0) * (cand_k / n - base / n)
        ev = float(np.sum(prob * v))
        mean_v += ev
        var_v += float(np.sum(prob * v**2)) - ev**2
        cov += float(np.sum(prob * v * d)) - ev * float(np.sum(prob * d))
    return mean_v, var_v, cov


def predicted_power(design: Design) -> float:
    """Power of the gate's stratified test on the design's profile (every question at the
    design's baseline rate when it has no profile), without simulating.

    The statistic is ``N / S``: ``N`` the weighted sum of per-question differences, ``S``
    the square root of the restricted variance sum ``V``. The gate fails when
    ``N - c S > 0``; that difference is taken as normal, with ``N``'s exact mean and
    variance and ``S``'s mean, variance and covariance with ``N`` from ``V``'s exact
    moments (delta method; small counts make ``S`` vary, which a plug-in misses)."""
    rates = np.asarray(
        design.profile if design.profile is not None else [design.baseline_rate] * design.questions,
        dtype=float,
    )
    cand = candidate_rates(design, rates[None, :])[0]
    samples = design.samples
    n = np.full(rates.shape, float(samples))
    w = n / 2.0  # Mantel-Haenszel weights of equal sides
    shift = float(np.sum(w * (cand - rates - design.margin)))
    var_n = float(np.sum(w**2 * (cand * (1 - cand) + rates * (1 - rates)) / n))
    if samples <= EXACT_SAMPLES:
        mean_v, var_v, cov_nv = _moments(rates, cand, samples, design.margin)
    else:
        expected = QuestionData(n, n * rates, n.copy(), n * cand)
        mean_v = float(np.sum(w**2 * _restricted_variance(expected, design.margin)))
        var_v = cov_nv = 0.0
    critical = float(scipy_stats.norm.isf(_level(design)))
    sign = 1.0 if design.mode is GateMode.REGRESSION else -1.0
    if mean_v <= 0:
        return 1.0 if sign * shift > 0 else 0.0
    mean_s = math.sqrt(mean_v) - var_v / (8 * mean_v**1.5)
    var_s = var_v / (4 * mean_v)
    cov_ns = cov_nv / (2 * math.sqrt(mean_v))
    # regression fails when N - c S > 0; non-inferiority passes when N + c S < 0
    mean = sign * shift - critical * mean_s
    variance = var_n + critical**2 * var_s - 2 * critical * cov_ns * sign
    if variance <= 0:
        return 1.0 if mean > 0 else 0.0
    return float(scipy_stats.norm.cdf(mean / math.sqrt(variance)))


def predicted_samples(design: Design, target: float) -> int | None:
    """Fewest samples per question whose predicted power reaches ``target`` (bisection:
    the power grows with the samples); ``None`` beyond :data:`MAX_SAMPLES`."""
    from dataclasses import replace

    def enough(samples: int) -> bool:
        return predicted_power(replace(design, samples=samples)) >= target

    if not enough(MAX_SAMPLES):
        return None
    low, high = 0, MAX_SAMPLES  # enough(high), not enough(low) (or low = 0)
    while high - low > 1:
        middle = (low + high) // 2
        if enough(middle):
            high = middle
        else:
            low = middle
    return high


def profile_icc(rates: tuple[float, ...]) -> float:
    """The intraclass correlation the profile shows: the spread of question rates over
    the binomial spread of their mean (0 = every question alike)."""
    values = np.asarray(rates, dtype=float)
    mean = float(values.mean())
    if mean <= 0 or mean >= 1:
        return 0.0
    return float(values.var() / (mean * (1 - mean)))


def plan_from_profile(
    design: Design, source: str, target: float, simulations: int, seed: int
) -> str:
    """``power --from``: the predicted sample size for ``target`` power, and predicted
    against simulated power at sample sizes around it and at the design's own."""
    from dataclasses import replace

    from alignprobe.gate.power import gate_power, samples_for_power

    rates = design.profile or ()
    what = "power" if design.mode is GateMode.REGRESSION else "chance to pass"
    lines = [
        f"profile: {source}: {len(rates)} questions, mean rate {design.baseline_rate:.1%}, "
        f"per question {min(rates):.1%}-{max(rates):.1%} (ICC the data show: "
        f"{profile_icc(rates):.3f})",
        f"effect {design.effect * 100:+.1f} pts ({design.shape}), margin "
        f"{design.margin * 100:.1f} pts, {design.mode.value}, one-sided stratified (CMH) "
        f"test at α={design.alpha:g}/{design.checks} check(s)",
    ]
    needed = predicted_samples(design, target)
    simulated_needed = samples_for_power(design, target, simulations, seed)
    shown = "not reached by 20000" if needed is None else str(needed)
    checked = "not reached" if simulated_needed is None else str(simulated_needed)
    lines.append(
        f"samples per question for {target:.0%} {what}: {shown} predicted "
        f"(simulated gate: {checked})"
    )
    sizes = {design.samples}
    if needed is not None:
        sizes |= {max(1, needed // 2), needed, needed * 2}
    lines.append("")
    lines.append(f"samples/question  predicted {what}  simulated (95% CI, {simulations} gates)")
    for samples in sorted(sizes):
        at = replace(design, samples=samples)
        simulated = gate_power(at, simulations, seed)
        lines.append(
            f"{samples:>16}  {predicted_power(at):>15.3f}  {simulated.rate:.3f} "
            f"({simulated.low:.3f}-{simulated.high:.3f})"
        )
    return "\n".join(lines)
