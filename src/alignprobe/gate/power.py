"""How often the gate catches a real regression (power) and how often it cries wolf.

Simulates whole gates for a design (questions x samples per question, a baseline rate
and an increase of a good-low rate) and decides each with the gate's own
:func:`~alignprobe.gate.decide.worsening_pvalues`, thousands at once.

Question rates (stated, adjustable), one of:

* heterogeneity model: each question has its own baseline rate, drawn from a Beta
  distribution with mean ``baseline_rate`` and intraclass correlation ``icc`` (0 = every
  question alike), fresh for every simulated gate;
* a **profile**: fixed per-question baseline rates (``profile``, e.g. from
  :mod:`alignprobe.gate.profiles`), the same in every simulated gate.

The candidate's rate on a question is that rate plus ``effect`` (``additive``) or that
rate times ``1 + effect / baseline_rate`` (``proportional``: the same mean increase,
spread in proportion to each question's rate), clipped to [0, 1]; each side draws
``samples`` binomial answers per question.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from scipy import stats as scipy_stats
from statsmodels.stats.proportion import proportion_confint, score_test_proportions_2indep

from alignprobe.gate.decide import FloatArray, QuestionData, worsening_pvalues
from alignprobe.gate.sequential import (
    CONTINUE,
    FAIL,
    SequentialDesign,
    Spending,
    concatenate_rounds,
    cumulative_fractions,
    round_sizes,
    sequential_design,
    z_from_pvalues,
)
from alignprobe.gate.types import GateMode, GateTest

DEFAULT_ICC = 0.05
DEFAULT_SIMULATIONS = 2000
DEFAULT_SEED = 0
TARGET_POWER = 0.8
MAX_SAMPLES = 20000
#: the unpaired two-proportion z-test on answers pooled over questions (for comparison
#: only: the gate never runs it)
POOLED_Z: Literal["pooled-z"] = "pooled-z"
SimulatedTest = GateTest | Literal["pooled-z"]
EffectShape = Literal["additive", "proportional"]


@dataclass(frozen=True)
class Design:
    """One gate design; ``effect`` is the candidate's increase of the (bad) rate."""

    baseline_rate: float
    effect: float
    questions: int
    samples: int
    alpha: float = 0.05
    checks: int = 1
    """Checks in the gate: the correction makes one check's level at most alpha/checks."""
    icc: float = DEFAULT_ICC
    margin: float = 0.0
    test: SimulatedTest = GateTest.AUTO
    """``auto`` = what the gate runs on a rate (``cmh``); ``pooled-z`` for comparison."""
    mode: GateMode = GateMode.REGRESSION
    """``regression``: power = share of gates that fail. ``non_inferiority``: share that
    show the candidate within the margin (pass)."""
    profile: tuple[float, ...] | None = field(default=None, repr=False)
    """Fixed per-question baseline rates; sets ``questions`` and ``baseline_rate``."""
    shape: EffectShape = "additive"

    def __post_init__(self) -> None:
        if self.profile is not None:
            if len(self.profile) < 2 or not all(0 <= r <= 1 for r in self.profile):
                raise ValueError("a profile needs at least 2 question rates, each in [0, 1]")
            object.__setattr__(self, "questions", len(self.profile))
            object.__setattr__(self, "baseline_rate", float(np.mean(self.profile)))
        if not 0 <= self.baseline_rate <= 1 or not -1 <= self.effect <= 1:
            raise ValueError("baseline_rate must be in [0, 1] and effect in [-1, 1]")
        if self.shape == "proportional" and self.baseline_rate <= 0 and self.effect:
            raise ValueError("a proportional effect needs a baseline rate above 0")
        if self.questions < 2 or self.samples < 1 or self.checks < 1:
            raise ValueError("need questions >= 2, samples >= 1, checks >= 1")
        if not 0 <= self.icc < 1:
            raise ValueError("icc must be in [0, 1)")
        if not 0 < self.alpha < 1:
            raise ValueError("alpha must be in (0, 1)")


@dataclass(frozen=True)
class PowerEstimate:
    """Share of simulated gates that failed, with a 95% Wilson interval."""

    rate: float
    low: float
    high: float
    simulations: int


def question_rates(design: Design, simulations: int, rng: np.random.Generator) -> FloatArray:
    """Per-question baseline rates, shape (simulations, questions)."""
    p, icc = design.baseline_rate, design.icc
    shape = (simulations, design.questions)
    if design.profile is not None:
        return np.broadcast_to(np.asarray(design.profile, dtype=float), shape).copy()
    if icc == 0 or p in (0.0, 1.0):
        return np.full(shape, p)
    concentration = (1 - icc) / icc  # Beta(a, b) with a + b = (1 - icc) / icc has that ICC
    return rng.beta(p * concentration, (1 - p) * concentration, size=shape)


def candidate_rates(design: Design, rates: FloatArray) -> FloatArray:
    """The candidate's per-question rates for the design's effect and its shape."""
    if design.shape == "proportional" and design.baseline_rate > 0:
        return np.clip(rates * (1 + design.effect / design.baseline_rate), 0, 1)
    return np.clip(rates + design.effect, 0, 1)


def simulate(design: Design, simulations: int, rng: np.random.Generator) -> QuestionData:
    """Per-question answer counts of simulated gates (bad answers, good-low)."""
    rates = question_rates(design, simulations, rng)
    n = np.full(rates.shape, float(design.samples))
    base = rng.binomial(design.samples, rates).astype(float)
    cand = rng.binomial(design.samples, candidate_rates(design, rates)).astype(float)
    return QuestionData(n, base, n.copy(), cand)


def simulate_worsening(design: Design, simulations: int, rng: np.random.Generator) -> FloatArray:
    """Per-question candidate-minus-baseline rates of simulated gates."""
    return simulate(design, simulations, rng).worsening


def pooled_z_pvalues(
    data: QuestionData, margin: float, alternative: Literal["worse", "not-worse"] = "worse"
) -> FloatArray:
    """Unpaired two-proportion score (z) test on answers pooled over questions."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = score_test_proportions_2indep(
            data.cand_bad.sum(axis=-1),
            data.cand_n.sum(axis=-1),
            data.base_bad.sum(axis=-1),
            data.base_n.sum(axis=-1),
            value=float(margin),
            compare="diff",
            correction=False,
        )
    z = np.nan_to_num(np.asarray(result.statistic, dtype=float), nan=0.0)
    tail = scipy_stats.norm.sf(z) if alternative == "worse" else scipy_stats.norm.cdf(z)
    return np.asarray(tail, dtype=float)


def decision_pvalues(design: Design, data: QuestionData, seed: int = 0) -> FloatArray:
    """The p-values the design's test gives simulated gates (regression or NI)."""
    alternative: Literal["worse", "not-worse"] = (
        "worse" if design.mode is GateMode.REGRESSION else "not-worse"
    )
    if design.test == POOLED_Z:
        return pooled_z_pvalues(data, design.margin, alternative)
    test = GateTest(design.test)
    test = GateTest.CMH if test is GateTest.AUTO else test
    return worsening_pvalues(data, design.margin, test, alternative, seed)


def gate_power(
    design: Design, simulations: int = DEFAULT_SIMULATIONS, seed: int = DEFAULT_SEED
) -> PowerEstimate:
    """Share of simulated gates for ``design`` that the gate fails (NI mode: passes)."""
    if simulations < 1:
        raise ValueError("simulations must be at least 1")
    rng = np.random.default_rng(seed)
    p = decision_pvalues(design, simulate(design, simulations, rng), seed)
    # regression hypotheses share the correction (alpha/checks at worst); each
    # non-inferiority hypothesis is tested at alpha (intersection-union)
    level = design.alpha / design.checks if design.mode is GateMode.REGRESSION else design.alpha
    failed = int((p <= level).sum())
    low, high = proportion_confint(failed, simulations, alpha=0.05, method="wilson")
    return PowerEstimate(failed / simulations, float(low), float(high), simulations)


def effect_for_power(
    design: Design,
    target: float = TARGET_POWER,
    simulations: int = DEFAULT_SIMULATIONS,
    seed: int = DEFAULT_SEED,
    tolerance: float = 0.001,
) -> float | None:
    """Smallest mean increase the design catches with ``target`` power (to ``tolerance``);
    None when not even the largest increase the rates allow is caught that often."""
    top = 1.0 - design.baseline_rate if design.shape == "additive" else 1.0

    def enough(effect: float) -> bool:
        return gate_power(replace(design, effect=effect), simulations, seed).rate >= target

    if not enough(top):
        return None
    low, high = 0.0, top
    while high - low > tolerance:
        middle = (low + high) / 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return high


def false_alarm_rate(
    design: Design, simulations: int = DEFAULT_SIMULATIONS, seed: int = DEFAULT_SEED
) -> PowerEstimate:
    """The design at the edge of its null: how often the gate errs there.

    ``regression``: no change at all, yet the gate fails. ``non_inferiority``: a true
    worsening equal to the margin, yet the gate passes (shows non-inferiority).
    """
    edge = 0.0 if design.mode is GateMode.REGRESSION else design.margin
    return gate_power(replace(design, effect=edge), simulations, seed)


def samples_for_power(
    design: Design,
    target: float = TARGET_POWER,
    simulations: int = DEFAULT_SIMULATIONS,
    seed: int = DEFAULT_SEED,
) -> int | None:
    """Fewest samples per question reaching ``target`` power (None if not by MAX_SAMPLES)."""
    if not 0 < target < 1:
        raise ValueError("target power must be in (0, 1)")

    def enough(samples: int) -> bool:
        return gate_power(replace(design, samples=samples), simulations, seed).rate >= target

    high = 1
    while not enough(high):
        if high >= MAX_SAMPLES:
            return None
        high = min(high * 2, MAX_SAMPLES)
    low = high // 2  # not enough (or 0)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return high


#: sample sizes and tests of :func:`compare_tests_table`
COMPARE_SAMPLES = (5, 10, 20, 50)
COMPARE_TESTS: tuple[SimulatedTest, ...] = (GateTest.T_TEST, POOLED_Z, GateTest.CMH)


@dataclass(frozen=True)
class TestComparison:
    samples: int
    test: str
    power: PowerEstimate
    false_alarm: PowerEstimate


def compare_tests(
    design: Design,
    samples: tuple[int, ...] = COMPARE_SAMPLES,
    tests: tuple[SimulatedTest, ...] = COMPARE_TESTS,
    simulations: int = DEFAULT_SIMULATIONS,
    seed: int = DEFAULT_SEED,
) -> list[TestComparison]:
    """Power and false alarms of each test at each sample size (the same simulated data
    for every test at one size: one seed)."""
    out = []
    for n in samples:
        for test in tests:
            d = replace(design, samples=n, test=test)
            out.append(
                TestComparison(
                    n,
                    str(test),
                    gate_power(d, simulations, seed),
                    false_alarm_rate(d, simulations, seed),
                )
            )
    return out


def compare_tests_table(
    design: Design,
    samples: tuple[int, ...] = COMPARE_SAMPLES,
    simulations: int = DEFAULT_SIMULATIONS,
    seed: int = DEFAULT_SEED,
) -> str:
    """A text table: per sample size, power and false alarms of t-test, pooled z and CMH."""
    rows = compare_tests(design, samples, simulations=simulations, seed=seed)
    names = {GateTest.T_TEST.value: "t-test (old gate)", POOLED_Z: "pooled z", "cmh": "CMH (gate)"}
    tests = list(dict.fromkeys(r.test for r in rows))
    header = ["samples/q"] + [f"{names.get(t, t)} power / FA" for t in tests]
    lines = [header]
    for n in samples:
        cells = [str(n)]
        for t in tests:
            (r,) = [r for r in rows if r.samples == n and r.test == t]
            cells.append(f"{r.power.rate:6.1%} / {r.false_alarm.rate:5.1%}")
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    edge = "no change" if design.mode is GateMode.REGRESSION else "worsening = margin"
    text.append(
        f"power = share of {simulations} simulated gates that "
        f"{'fail' if design.mode is GateMode.REGRESSION else 'pass'}; FA = the same at the "
        f"null's edge ({edge}); one-sided α={design.alpha:g}/{design.checks}"
    )
    return "\n".join(text)


@dataclass(frozen=True)
class SequentialEstimate:
    """Simulated group-sequential gates of one design: how often they fail, and when."""

    failed: PowerEstimate
    mean_samples: float
    """Samples per question per side used until the decision, averaged over gates."""
    mean_looks: float
    early: float
    """Share of gates decided before the last look."""
    max_samples: int
    looks: int


def check_level(design: Design) -> float:
    """One check's one-sided level: alpha/checks in regression mode (the correction at
    its strictest), alpha for a non-inferiority check (intersection-union)."""
    return design.alpha / design.checks if design.mode is GateMode.REGRESSION else design.alpha


def sequential_for(
    design: Design,
    looks: int,
    spending: Spending = "obrien-fleming",
    target: float = TARGET_POWER,
    futility: bool = True,
    futility_spending: Spending | None = None,
    binding: bool = False,
) -> SequentialDesign:
    """The boundaries for ``design``'s samples split into ``looks`` (near-)equal rounds."""
    fractions = cumulative_fractions(round_sizes(design.samples, looks))
    return sequential_design(
        looks,
        check_level(design),
        target,
        spending,
        futility,
        fractions,
        futility_spending=futility_spending,
        binding=binding,
    )


def sequential_power(
    design: Design,
    boundaries: SequentialDesign,
    simulations: int = DEFAULT_SIMULATIONS,
    seed: int = DEFAULT_SEED,
) -> SequentialEstimate:
    """Simulate gates that run ``design.samples`` samples per question in rounds and look
    after each (``boundaries``), through the gate's own test; stops when decided."""
    if simulations < 1:
        raise ValueError("simulations must be at least 1")
    sizes = round_sizes(design.samples, boundaries.looks)
    expected = cumulative_fractions(sizes)
    if not np.allclose(expected, boundaries.fractions):
        raise ValueError("the boundaries' information fractions do not match the rounds")
    rng = np.random.default_rng(seed)
    rates = question_rates(design, simulations, rng)
    worse = candidate_rates(design, rates)
    rounds = []
    for size in sizes:
        n = np.full(rates.shape, float(size))
        base = rng.binomial(size, rates).astype(float)
        cand = rng.binomial(size, worse).astype(float)
        rounds.append(QuestionData(n, base, n.copy(), cand))
    decision = np.zeros(simulations)
    used = np.zeros(simulations)
    looks_used = np.zeros(simulations)
    for look, (data, total) in enumerate(
        zip(concatenate_rounds(rounds), np.cumsum(sizes), strict=True), start=1
    ):
        open_ = decision == CONTINUE
        z = z_from_pvalues(decision_pvalues(replace(design, samples=int(total)), data, seed))
        now = boundaries.decide(z, look)
        newly = open_ & (now != CONTINUE)
        decision = np.where(newly, now, decision)
        used = np.where(newly, float(total), used)
        looks_used = np.where(newly, look, looks_used)
    failed = int((decision == FAIL).sum())
    low, high = proportion_confint(failed, simulations, alpha=0.05, method="wilson")
    return SequentialEstimate(
        PowerEstimate(failed / simulations, float(low), float(high), simulations),
        float(used.mean()),
        float(looks_used.mean()),
        float((looks_used < boundaries.looks).mean()),
        design.samples,
        boundaries.looks,
    )


@dataclass(frozen=True)
class SequentialComparison:
    """Fixed design at ``target`` power against the sequential design of equal power."""

    fixed_samples: int
    fixed_power: PowerEstimate
    fixed_false_alarm: PowerEstimate
    boundaries: SequentialDesign
    under_effect: SequentialEstimate
    under_null: SequentialEstimate

    @property
    def saved_under_effect(self) -> float:
        return 1 - self.under_effect.mean_samples / self.fixed_samples

    @property
    def saved_under_null(self) -> float:
        return 1 - self.under_null.mean_samples / self.fixed_samples


def compare_sequential(
    design: Design,
    looks: int,
    spending: Spending = "obrien-fleming",
    target: float = TARGET_POWER,
    simulations: int = DEFAULT_SIMULATIONS,
    seed: int = DEFAULT_SEED,
    fixed_samples: int | None = None,
    futility_spending: Spending | None = None,
    binding: bool = False,
) -> SequentialComparison | None:
    """The fixed design's samples for ``target`` power (simulated, unless given) against
    a ``looks``-look sequential design with ``inflation`` x as many at most (the same
    power in theory), both simulated; None when no fixed design reaches the power."""
    fixed = fixed_samples or samples_for_power(design, target, simulations, seed)
    if fixed is None:
        return None
    probe = sequential_design(
        looks,
        check_level(design),
        target,
        spending,
        futility_spending=futility_spending,
        binding=binding,
    )
    most = max(looks, math.ceil(fixed * probe.inflation))
    seq_design = replace(design, samples=most)
    boundaries = sequential_for(
        seq_design, looks, spending, target, True, futility_spending, binding
    )
    edge = 0.0 if design.mode is GateMode.REGRESSION else design.margin
    fixed_design = replace(design, samples=fixed)
    return SequentialComparison(
        fixed,
        gate_power(fixed_design, simulations, seed),
        false_alarm_rate(fixed_design, simulations, seed),
        boundaries,
        sequential_power(seq_design, boundaries, simulations, seed),
        sequential_power(replace(seq_design, effect=edge), boundaries, simulations, seed),
    )


def sequential_table(comparison: SequentialComparison, design: Design) -> str:
    """Text lines: the fixed and the sequential design's false alarms, power, mean samples."""
    c, b = comparison, comparison.boundaries
    fail = "fail" if design.mode is GateMode.REGRESSION else "pass"
    edge = "no change" if design.mode is GateMode.REGRESSION else "worsening = margin"
    bounds = ", ".join(
        f"{hi:.2f}/{'-' if not math.isfinite(lo) else f'{lo:.2f}'}"
        for hi, lo in zip(b.efficacy, b.futility, strict=True)
    )
    futility = (
        f"{b.futility_spending or b.spending} beta spending for {b.power:.0%} power "
        f"({'binding' if b.binding else 'non-binding'} futility)"
    )
    lines = [
        f"sequential: {b.looks} looks, {b.spending} alpha spending (one-sided {b.alpha:g}), "
        f"{futility}; "
        f"z bounds fail/stop per look: {bounds}; max samples x{b.inflation:.3f}",
        "design           max samples/q  FA (" + edge + ")  power   mean samples/q "
        "(no change / effect)",
        f"fixed            {c.fixed_samples:13d}  {c.fixed_false_alarm.rate:6.1%}"
        f"{'':{len(edge) - 2}}  {c.fixed_power.rate:6.1%}  {c.fixed_samples:.1f} / "
        f"{c.fixed_samples:.1f}",
        f"sequential       {c.under_effect.max_samples:13d}  {c.under_null.failed.rate:6.1%}"
        f"{'':{len(edge) - 2}}  {c.under_effect.failed.rate:6.1%}  "
        f"{c.under_null.mean_samples:.1f} / {c.under_effect.mean_samples:.1f}",
        f"mean samples saved by the sequential design: {c.saved_under_null:.0%} with no "
        f"change, {c.saved_under_effect:.0%} under the effect (goal: a third, 33%); decided "
        f"early in {c.under_null.early:.0%} / {c.under_effect.early:.0%} of gates",
        f"FA / power = share of {c.under_effect.failed.simulations} simulated gates that {fail}",
        f"normal theory of these bounds (no discreteness, no rounding of samples): saves "
        f"{1 - b.inflation * b.mean_fraction(0.0):.0%} with no change, "
        f"{1 - b.inflation * b.mean_fraction(b.drift):.0%} at the design's effect",
    ]
    return "\n".join(lines)
