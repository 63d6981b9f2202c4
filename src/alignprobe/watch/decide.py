"""When is an onset confirmed? The gate's test at each look's share of alpha.

Each evaluated checkpoint is one *look*. Look ``k`` of ``K`` planned may spend
``α(k/K) - α((k-1)/K)`` of the one-sided level ``α``, with the gate's alpha-spending
functions (:func:`alignprobe.gate.sequential.spent`). At that level the look runs the gate
itself (:func:`alignprobe.gate.run_gate`: the policy's checks, margins, tests, minimum
samples and correction across checks, exactly as ``alignprobe gate`` applies them) with the
watch's baseline against the checkpoint just evaluated; the onset is confirmed at the first
look whose gate says FAIL. A look whose gate cannot decide (too few samples, judge
mismatch, ...) confirms nothing and still spends its share.

The looks are different models, not growing samples of one, so the group-sequential
boundaries that ``run --until-decided`` uses for its rounds (which assume cumulative data)
do not apply; each look is a fixed gate at its spent level instead. Whatever the
dependence between checkpoints, the chance of a stop when no checkpoint is worse than the
policy allows is at most ``Σ_k spent_k = α`` (a union bound over the looks, each holding
its level by the gate's correction). Looks past ``K`` have nothing left and never stop.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alignprobe.gate import GateOptions, GatePolicy, load_policy, run_gate
from alignprobe.gate.results import Side
from alignprobe.gate.sequential import check_spending, spent
from alignprobe.gate.types import CheckStatus
from alignprobe.gate.verdict import Verdict
from alignprobe.measures import Measure
from alignprobe.report.compare import headline_measures

#: the one-sided level of a watch's onset test over all looks (the gate's default alpha)
WATCH_ALPHA = 0.05
#: spends evenly enough that an early onset can be confirmed early
WATCH_SPENDING = "pocock"
#: looks planned when neither --looks nor the trainer's state says how many saves come
DEFAULT_LOOKS = 10


@dataclass(frozen=True)
class OnsetRule:
    alpha: float = WATCH_ALPHA
    looks: int = DEFAULT_LOOKS
    spending: str = WATCH_SPENDING

    def __post_init__(self) -> None:
        check_spending(self.spending)

    def level(self, look: int) -> float:
        """The level look ``look`` (1-based) may spend; 0 past the planned looks."""
        if look < 1 or look > self.looks:
            return 0.0
        return spent(look / self.looks, self.alpha, self.spending) - spent(
            (look - 1) / self.looks, self.alpha, self.spending
        )


@dataclass(frozen=True)
class Look:
    """One look's gate: its level and verdict (``None``: past the planned looks, untested)."""

    look: int
    of: int
    level: float
    verdict: Verdict | None

    @property
    def onset(self) -> bool:
        return self.verdict is not None and self.verdict.status is CheckStatus.FAIL

    @property
    def undecided(self) -> bool:
        """The gate could not decide: no onset, whatever the data look like."""
        return self.verdict is not None and self.verdict.status is CheckStatus.CANNOT_DECIDE

    @property
    def failed_checks(self) -> list[str]:
        if self.verdict is None:
            return []
        return [c.name for c in self.verdict.checks if c.status is CheckStatus.FAIL]


def onset_policy(path: Path | None, measures: dict[str, list[Measure]]) -> GatePolicy:
    """The policy whose checks decide: ``path`` as written; without one the gate's default
    policy, its checks kept to the headline ``measures`` of the baseline's tasks (the
    curves the watch reports)."""
    policy = load_policy(path)
    if path is not None:
        return policy
    kept = [
        check
        for check in policy.checks
        if check.measure in {m.name for m in headline_measures(measures.get(check.task, []))}
    ]
    return policy.model_copy(update={"checks": kept})


def gate_look(
    rule: OnsetRule, look: int, policy: GatePolicy, baseline: Side, candidate: Side
) -> Look:
    """Look ``look``: the gate of ``candidate`` against ``baseline`` at the look's level."""
    level = rule.level(look)
    if level <= 0:
        return Look(look, rule.looks, 0.0, None)
    at_level = policy.model_copy(update={"alpha": level})
    verdict = run_gate(
        baseline,
        candidate,
        at_level,
        policy_source=policy.source or "",
        options=GateOptions(check_names=False),  # checked once when the watch starts
    )
    return Look(look, rule.looks, level, verdict)
