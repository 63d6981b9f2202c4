"""Group-sequential decisions for a gate check: look after each round, stop once decided.

A check's test statistic ``z`` (the stratified CMH score statistic for rates; a t-test's
or sign-flip test's one-sided p-value turned into ``z = Φ⁻¹(1 - p)`` for scores) is
looked at after each of ``K`` rounds, at information fractions ``t_1 < ... < t_K = 1``
(cumulative samples per question over the maximum: equal rounds give ``k / K``). At look
``k`` the check

* **fails** (rejects its null: a regression; in ``non_inferiority`` mode, shows the
  candidate within the margin) when ``z >= efficacy[k]``;
* **is decided the other way** (futility: no regression worth going on for; in
  ``non_inferiority`` mode, cannot be shown) when ``z < futility[k]``;
* otherwise runs another round. At the last look ``futility[K] = efficacy[K]``: every
  check is decided.

Boundaries (:func:`sequential_design`), in the canonical joint normal model of the
statistic (``Cov(Z_j, Z_k) = sqrt(t_j / t_k)``, mean ``θ sqrt(t_k)``):

* efficacy from a Lan-DeMets alpha-spending function, one-sided level ``alpha``:
  O'Brien-Fleming type ``α(t) = 2 - 2Φ(z_{1-α/2} / sqrt(t))`` (the default: spends
  almost nothing early, so the last look is nearly the fixed test), Pocock type
  ``α(t) = α ln(1 + (e - 1) t)`` or Hwang-Shih-DeCani ``hsd:<γ>``
  ``α(t) = α (1 - e^{-γt}) / (1 - e^{-γ})`` (γ < 0 spends late, γ > 0 early). By default
  they are computed **ignoring** the futility bounds (non-binding futility), so the
  false-alarm rate is at most ``alpha`` whether or not a futility stop is obeyed; with
  ``binding=True`` each look's efficacy bound is solved on the region the earlier
  futility bounds leave (lower bounds, fewer samples), which holds ``alpha`` only when
  every futility stop is taken (an automated loop that ends on a pass takes them);
* futility from a spending function (the same as the efficacy's unless
  ``futility_spending``) applied to ``β = 1 - power`` under
  the design's alternative drift ``θ``, solved together with ``θ`` so that the two
  boundaries meet at the last look (the usual beta-spending construction). ``θ`` is the
  expected final ``z`` at which the design has the stated power; the fixed test needs
  ``z_α + z_β``, so the sequential design needs ``inflation = (θ / (z_α + z_β))²`` times
  the fixed design's samples at most for the same power.

Crossing probabilities are computed by recursive numerical integration (Armitage,
McPherson and Rowe 1969; Jennison and Turnbull 2000, ch. 19) of the score process on a
grid, with scipy's normal functions; no simulation is involved. The gate's own statistics
are then simulated through these boundaries in :func:`simulate_sequential`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy import stats as scipy_stats

from alignprobe.gate.decide import FloatArray, QuestionData

#: a spending function: ``obrien-fleming``, ``pocock`` or ``hsd:<gamma>`` (Hwang-Shih-DeCani)
Spending = str
SPENDINGS: tuple[Spending, ...] = ("obrien-fleming", "pocock")
#: Hwang-Shih-DeCani spending: ``hsd:<gamma>``, gamma in this range
HSD_PREFIX = "hsd:"
HSD_RANGE = (-10.0, 10.0)
SPENDING_HELP = (
    "obrien-fleming, pocock or hsd:<gamma> (Hwang-Shih-DeCani, gamma in -10..10: "
    "-4 is close to O'Brien-Fleming, 1 close to Pocock)"
)
#: grid points per look of the numerical integration
GRID_POINTS = 801
#: the grid covers the mean +- this many standard deviations of each increment
_SPAN = 9.0

#: decision codes of :meth:`SequentialDesign.decide`
CONTINUE, FAIL, PASS = 0, 1, -1


def check_spending(spending: str) -> Spending:
    """``spending`` if it names a spending function, else ``ValueError`` saying what works."""
    if spending in SPENDINGS:
        return spending
    if spending.startswith(HSD_PREFIX):
        try:
            gamma = float(spending[len(HSD_PREFIX) :])
        except ValueError:
            gamma = math.nan
        if HSD_RANGE[0] <= gamma <= HSD_RANGE[1]:
            return spending
    raise ValueError(f"unknown spending function {spending!r}; use {SPENDING_HELP}")


def spent(fraction: float, level: float, spending: Spending) -> float:
    """Error spent by information ``fraction`` (in [0, 1]) of a one-sided ``level``."""
    if fraction <= 0:
        return 0.0
    if fraction >= 1:
        return level
    if spending == "obrien-fleming":
        critical = float(scipy_stats.norm.isf(level / 2))
        return float(2 * scipy_stats.norm.sf(critical / math.sqrt(fraction)))
    if spending == "pocock":
        return float(level * math.log(1 + (math.e - 1) * fraction))
    if check_spending(spending).startswith(HSD_PREFIX):
        # Hwang, Shih and DeCani (1990): one parameter from late (< 0) to early (> 0) spending
        gamma = float(spending[len(HSD_PREFIX) :])
        if abs(gamma) < 1e-9:
            return level * fraction
        return float(level * (1 - math.exp(-gamma * fraction)) / (1 - math.exp(-gamma)))
    raise ValueError(f"unknown spending function {spending!r}")  # pragma: no cover


def equal_fractions(looks: int) -> tuple[float, ...]:
    return tuple((k + 1) / looks for k in range(looks))


@dataclass(frozen=True)
class _State:
    """Sub-density of the score ``B(t) = Z sqrt(t)`` on the continuation region, times the
    quadrature weights (so its sum is the probability of still going on)."""

    x: FloatArray
    mass: FloatArray


def _start() -> _State:
    return _State(np.zeros(1), np.ones(1))


def _crossing(state: _State, step: float, drift: float, bound: float, upper: bool) -> float:
    """P(still going on and the score at the next look is above (below) ``bound``)."""
    if not math.isfinite(bound):
        return 0.0 if (bound > 0) == upper else float(state.mass.sum())
    scaled = (bound - state.x - drift * step) / math.sqrt(step)
    tail = scipy_stats.norm.sf(scaled) if upper else scipy_stats.norm.cdf(scaled)
    return float(np.sum(state.mass * tail))


def _advance(
    state: _State, step: float, drift: float, low: float, high: float, points: int
) -> _State:
    """Sub-density at the next look on (low, high), by convolution with the increment."""
    sd, mean = math.sqrt(step), drift * step
    low = max(low, float(state.x.min()) + mean - _SPAN * sd)
    high = min(high, float(state.x.max()) + mean + _SPAN * sd)
    if high <= low or state.mass.sum() <= 0:
        return _State(np.zeros(1), np.zeros(1))
    x = np.linspace(low, high, points)
    weights = np.full(points, (high - low) / (points - 1))
    weights[[0, -1]] /= 2
    density = scipy_stats.norm.pdf((x[:, None] - state.x[None, :] - mean) / sd) / sd
    return _State(x, np.asarray(density @ state.mass * weights, dtype=float))


def crossing_probabilities(
    fractions: tuple[float, ...],
    efficacy: tuple[float, ...],
    futility: tuple[float, ...],
    drift: float,
    points: int = GRID_POINTS,
) -> tuple[FloatArray, FloatArray]:
    """Per look, P(stop by efficacy there) and P(stop by futility there) when the final
    ``z`` has mean ``drift`` (0 = no change). Bounds are on the z scale; ``-inf`` futility
    = none."""
    up, down = np.zeros(len(fractions)), np.zeros(len(fractions))
    state, before = _start(), 0.0
    for k, t in enumerate(fractions):
        step, root = t - before, math.sqrt(t)
        high, low = efficacy[k] * root, futility[k] * root
        up[k] = _crossing(state, step, drift, high, upper=True)
        down[k] = _crossing(state, step, drift, low, upper=False)
        state, before = _advance(state, step, drift, low, high, points), t
    return up, down


def _solve_bound(
    state: _State, step: float, drift: float, root: float, target: float, upper: bool
) -> float:
    """The z bound whose crossing probability from ``state`` is ``target``."""

    def excess(z: float) -> float:
        return _crossing(state, step, drift, z * root, upper) - target

    low, high = -40.0, 40.0
    if excess(low if upper else high) <= 0:  # cannot spend that much: bound at the edge
        return low if upper else high
    if excess(high if upper else low) >= 0:
        return high if upper else low
    return float(optimize.brentq(excess, low, high, xtol=1e-10))


@dataclass(frozen=True)
class SequentialDesign:
    """Boundaries of a group-sequential check on the z scale, one per look."""

    fractions: tuple[float, ...]
    alpha: float
    power: float
    spending: Spending
    efficacy: tuple[float, ...]
    futility: tuple[float, ...]
    """``-inf`` where there is no futility stop; the last equals the last efficacy bound."""
    drift: float
    """Expected final z at which the design has ``power``."""
    futility_spending: Spending | None = None
    """Beta-spending function of the futility bounds (``None``: the same as ``spending``)."""
    binding: bool = False
    """Efficacy bounds computed with the futility stops obeyed (binding): lower bounds,
    fewer samples, but the false-alarm rate is ``alpha`` only if every futility stop is
    taken. Non-binding (default): at most ``alpha`` whether or not it is."""

    @property
    def looks(self) -> int:
        return len(self.fractions)

    @property
    def inflation(self) -> float:
        """Maximum samples over the fixed design's for the same power and level."""
        fixed = float(scipy_stats.norm.isf(self.alpha) + scipy_stats.norm.isf(1 - self.power))
        return (self.drift / fixed) ** 2

    def nominal_levels(self) -> tuple[float, ...]:
        """One-sided p-value at or below which look k fails (``sf`` of its bound)."""
        return tuple(float(scipy_stats.norm.sf(c)) for c in self.efficacy)

    def decide(self, z: FloatArray | float, look: int) -> FloatArray:
        """:data:`FAIL`, :data:`PASS` or :data:`CONTINUE` for statistic(s) ``z`` at ``look``
        (1-based)."""
        if not 1 <= look <= self.looks:
            raise ValueError(f"look must be in 1..{self.looks}")
        values = np.asarray(z, dtype=float)
        high, low = self.efficacy[look - 1], self.futility[look - 1]
        out = np.where(values >= high, FAIL, np.where(values < low, PASS, CONTINUE))
        return np.asarray(out, dtype=float)

    def alpha_spent(self, points: int = GRID_POINTS, obey_futility: bool | None = None) -> float:
        """P(fail at some look) with no change: ``alpha`` (with the futility stops obeyed
        for a binding design, ignored for a non-binding one, unless ``obey_futility``)."""
        obey = self.binding if obey_futility is None else obey_futility
        lower = self.futility if obey else tuple(-math.inf for _ in self.fractions)
        return float(
            crossing_probabilities(self.fractions, self.efficacy, lower, 0.0, points)[0].sum()
        )

    def mean_fraction(self, drift: float, points: int = GRID_POINTS) -> float:
        """Expected share of the maximum samples used until the decision when the final z
        has mean ``drift`` (0: no change; :attr:`drift`: the design's effect). Times
        :attr:`inflation`, it is the expected samples over the fixed design's."""
        up, down = crossing_probabilities(
            self.fractions, self.efficacy, self.futility, drift, points
        )
        return float(np.sum((up + down) * np.asarray(self.fractions)))


def sequential_design(
    looks: int,
    alpha: float = 0.05,
    power: float = 0.8,
    spending: Spending = "obrien-fleming",
    futility: bool = True,
    fractions: tuple[float, ...] | None = None,
    points: int = GRID_POINTS,
    futility_spending: Spending | None = None,
    binding: bool = False,
) -> SequentialDesign:
    """Efficacy (alpha-spending) and futility (beta-spending) bounds for ``looks`` looks.

    ``futility_spending`` (default: ``spending``) shapes the futility bounds. ``binding``
    computes the efficacy bounds with the futility stops obeyed (see
    :attr:`SequentialDesign.binding`); it needs ``futility``.
    """
    if looks < 1:
        raise ValueError("need at least one look")
    if not 0 < alpha < 0.5 or not 0.5 < power < 1:
        raise ValueError("need alpha in (0, 0.5) and power in (0.5, 1)")
    check_spending(spending)
    beta_spending = check_spending(futility_spending or spending)
    binding = binding and futility
    t = equal_fractions(looks) if fractions is None else tuple(float(f) for f in fractions)
    if len(t) != looks or any(b <= a for a, b in zip((0.0, *t), t, strict=False)) or t[-1] != 1:
        raise ValueError("fractions must increase from above 0 to exactly 1, one per look")
    beta = 1 - power

    def increment(k: int, level: float, function: Spending) -> float:
        return spent(t[k], level, function) - spent(t[k - 1] if k else 0.0, level, function)

    def bounds_at(
        drift: float, fixed_efficacy: list[float] | None
    ) -> tuple[list[float], list[float], float]:
        """Efficacy and futility bounds at this drift, and P(fail ever) with futility obeyed.

        ``fixed_efficacy`` given: those efficacy bounds (non-binding, computed without
        futility); else each look's efficacy bound is solved on the continuation region
        left by the earlier futility bounds (binding)."""
        high_bounds: list[float] = []
        low_bounds: list[float] = []
        null, alt, before, caught = _start(), _start(), 0.0, 0.0
        for k, f in enumerate(t):
            step, root = f - before, math.sqrt(f)
            if fixed_efficacy is None:
                c = _solve_bound(null, step, 0.0, root, increment(k, alpha, spending), upper=True)
            else:
                c = fixed_efficacy[k]
            if k == looks - 1:
                low = c
            elif futility:
                target = increment(k, beta, beta_spending)
                low = min(_solve_bound(alt, step, drift, root, target, upper=False), c)
            else:
                low = -math.inf
            high_bounds.append(c)
            low_bounds.append(low)
            caught += _crossing(alt, step, drift, c * root, upper=True)
            if fixed_efficacy is None:
                null = _advance(null, step, 0.0, low * root, c * root, points)
            alt, before = _advance(alt, step, drift, low * root, c * root, points), f
        return high_bounds, low_bounds, caught

    efficacy: list[float] | None = None
    if not binding:  # alpha spending under no change, futility ignored (non-binding)
        efficacy = []
        state, before = _start(), 0.0
        for k, f in enumerate(t):
            target = increment(k, alpha, spending)
            c = _solve_bound(state, f - before, 0.0, math.sqrt(f), target, upper=True)
            efficacy.append(c)
            state = _advance(state, f - before, 0.0, -math.inf, c * math.sqrt(f), points)
            before = f
    fixed = float(scipy_stats.norm.isf(alpha) + scipy_stats.norm.isf(beta))
    drift = float(
        optimize.brentq(
            lambda d: bounds_at(d, efficacy)[2] - power, 0.5 * fixed, 3 * fixed, xtol=1e-8
        )
    )
    high_bounds, low_bounds, _ = bounds_at(drift, efficacy)
    return SequentialDesign(
        t,
        alpha,
        power,
        spending,
        tuple(high_bounds),
        tuple(low_bounds),
        drift,
        futility_spending if futility_spending not in (None, spending) else None,
        binding,
    )


def z_from_pvalues(pvalues: FloatArray) -> FloatArray:
    """The z statistic of one-sided p-values (``Φ⁻¹(1 - p)``; p = 0 gives +inf)."""
    return np.asarray(scipy_stats.norm.isf(np.clip(pvalues, 0.0, 1.0)), dtype=float)


def round_sizes(samples: int, looks: int) -> tuple[int, ...]:
    """``samples`` split into ``looks`` rounds as equal as integers allow (later ones larger)."""
    if samples < looks:
        raise ValueError(f"need at least one sample per round ({samples} samples, {looks} looks)")
    base, extra = divmod(samples, looks)
    return tuple(base + (1 if k >= looks - extra else 0) for k in range(looks))


def cumulative_fractions(sizes: tuple[int, ...]) -> tuple[float, ...]:
    total = sum(sizes)
    cumulative = np.cumsum(sizes)
    return (*(float(c) / total for c in cumulative[:-1]), 1.0)


def concatenate_rounds(rounds: list[QuestionData]) -> list[QuestionData]:
    """Cumulative data after each round (counts add up)."""
    out: list[QuestionData] = []
    for data in rounds:
        if out:
            last = out[-1]
            data = QuestionData(
                last.base_n + data.base_n,
                last.base_bad + data.base_bad,
                last.cand_n + data.cand_n,
                last.cand_bad + data.cand_bad,
            )
        out.append(data)
    return out


#: power a gate look's design is built for (it shapes the futility bounds only)
LOOK_POWER = 0.8


def look_fractions(answers: list[float], look: int, looks: int, maximum: int) -> tuple[float, ...]:
    """Information fractions of all ``looks`` looks for one check at look ``look``.

    ``answers`` holds the candidate's answers per question after each input (cumulative);
    the last is this look's. This look's fraction is it over ``maximum`` (1 at the last
    look: the design's bounds meet there). Earlier looks: from the earlier inputs when
    there is one input per look so far, else evenly spaced up to this one. Later looks:
    evenly spaced up to 1; they shape only the futility bounds (the efficacy bound of look
    ``k`` depends on ``t_1 .. t_k`` alone). Raises ``ValueError`` with the reason when the
    answers do not fit the plan.
    """
    now = answers[-1] / maximum
    if now > 1 + 1e-9:
        raise ValueError(
            f"{answers[-1]:.3g} candidate answers per question, more than the planned "
            f"maximum {maximum} (--max-samples-per-question)"
        )
    if look < looks and now >= 1:
        raise ValueError(
            f"the planned maximum of {maximum} answers per question is reached at look "
            f"{look} of {looks}: make this the last look (--look {looks})"
        )
    if now <= 0:
        raise ValueError("no candidate answers")
    current = 1.0 if look == looks else now
    even = [current * j / look for j in range(1, look)]
    past = [a / maximum for a in answers[:-1]] if len(answers) == look else even
    later = [
        current + (1 - current) * (j - look) / (looks - look) for j in range(look + 1, looks + 1)
    ]
    for earlier in (past, even):
        fractions = (*earlier, current, *later)
        if all(b > a for a, b in zip((0.0, *fractions), fractions, strict=False)):
            return fractions
    raise ValueError("information fractions do not increase")  # pragma: no cover


_DesignKey = tuple[int, float, str, tuple[float, ...], str | None, bool]
_DESIGNS: dict[_DesignKey, SequentialDesign] = {}


def look_design(
    looks: int,
    level: float,
    spending: Spending,
    fractions: tuple[float, ...],
    futility_spending: Spending | None = None,
    binding: bool = False,
) -> SequentialDesign:
    """:func:`sequential_design` for a gate look (cached: checks often share one)."""
    rounded = tuple(round(f, 12) for f in fractions)
    key = (looks, level, spending, rounded, futility_spending, binding)
    if key not in _DESIGNS:
        _DESIGNS[key] = sequential_design(
            looks,
            level,
            LOOK_POWER,
            spending,
            True,
            fractions,
            futility_spending=futility_spending,
            binding=binding,
        )
    return _DESIGNS[key]
