"""When is an onset confirmed? Error control over the checkpoints a watch looks at.

Each evaluated checkpoint is one *look*. Look ``k`` of ``K`` planned may spend
``α(k/K) - α((k-1)/K)`` of the one-sided level ``α``, with the gate's alpha-spending
functions (:func:`alignprobe.gate.sequential.spent`); within a look the level is split
evenly (Bonferroni) over the curves tested (task x condition x headline measure). A
curve's p-value is the trajectory report's own test of "worse than the base" (CMH for
rates, paired t for scores, margin 0). The onset is confirmed at the first look with a
p-value at or below its share. Whatever the dependence between checkpoints, the chance
of a stop when no checkpoint is worse than the base is at most ``Σ_k spent_k = α``.
Looks past ``K`` have nothing left to spend and never stop.
"""

from __future__ import annotations

from dataclasses import dataclass

from alignprobe.gate.sequential import check_spending, spent

#: the one-sided level of a watch's onset test (the gate's and the report's alpha)
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

    def confirms(self, look: int, pvalues: list[float]) -> bool:
        """Does look ``look`` with these curves' one-sided p-values confirm an onset?"""
        if not pvalues:
            return False
        return min(pvalues) <= self.level(look) / len(pvalues)
