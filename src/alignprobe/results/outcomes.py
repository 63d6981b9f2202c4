"""Why a measure has no value in a row: scored, unscored, excluded by the judge, or n.a.

The results table records, per measure, the value (NaN = does not count) and two reason
columns (docs/architecture.md):

* ``unscored_<measure>``: the judge **failed** (garbage reply, too little numeric
  probability mass, parse failure). This is a data-quality problem: reports count it and
  the gate's ``max_unscored_rate`` is checked against it.
* ``excluded_<measure>``: the judge **excluded** the answer by design, e.g. the Betley et
  al. judge answers ``CODE`` or ``REFUSAL`` instead of a number. The reason is a short
  label (``code``, ``refusal``, ``code or refusal``) so reports can say "excluded by the
  judge: 14 code, 3 refusal". Such rows are not failures and never block a gate.
* neither: the measure is *not applicable* to the row (e.g. honesty of a sample that did
  not hack).

A row with both reasons counts as unscored (a failure is never hidden as an exclusion).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from alignprobe.results.labels import as_text

UNSCORED_PREFIX = "unscored_"
EXCLUDED_PREFIX = "excluded_"


def _reasons(rows: pd.DataFrame, column: str) -> pd.Series:
    if column not in rows.columns:
        return pd.Series(None, index=rows.index, dtype=object)
    values = rows[column]
    present = values.notna() & (as_text(values).str.strip() != "")
    return values.where(present, None)


@dataclass(frozen=True)
class Outcomes:
    """Counts of one measure over some rows."""

    rows: int
    scored: int
    unscored: int
    excluded: int
    not_applicable: int
    excluded_reasons: dict[str, int] = field(default_factory=dict)
    """Reason label -> rows, most frequent first (``{"code": 14, "refusal": 3}``)."""
    unscored_reasons: list[tuple[str, int]] = field(default_factory=list)
    """The three most frequent failure reasons with their counts."""

    @property
    def judged(self) -> int:
        """Rows the judge answered or failed on: scored + unscored + excluded."""
        return self.scored + self.unscored + self.excluded

    @property
    def unscored_rate(self) -> float:
        """Share of judged rows the judge failed on (exclusions are not failures)."""
        return self.unscored / self.judged if self.judged else 0.0

    def excluded_text(self) -> str:
        """``"14 code, 3 refusal"`` (empty when nothing was excluded)."""
        return ", ".join(f"{n} {reason}" for reason, n in self.excluded_reasons.items())


def count_outcomes(rows: pd.DataFrame, measure: str) -> Outcomes:
    """Scored / unscored / excluded-by-the-judge / not-applicable rows of ``measure``."""
    if measure in rows.columns:
        missing = pd.to_numeric(rows[measure], errors="coerce").isna()
    else:
        missing = pd.Series(True, index=rows.index)
    unscored_reason = _reasons(rows, UNSCORED_PREFIX + measure)
    excluded_reason = _reasons(rows, EXCLUDED_PREFIX + measure)
    is_unscored = missing & unscored_reason.notna()
    is_excluded = missing & ~is_unscored & excluded_reason.notna()
    unscored, excluded = unscored_reason[is_unscored], excluded_reason[is_excluded]
    by_reason = Counter(str(r) for r in excluded)
    return Outcomes(
        rows=len(rows),
        scored=int((~missing).sum()),
        unscored=len(unscored),
        excluded=len(excluded),
        not_applicable=int(missing.sum()) - len(unscored) - len(excluded),
        excluded_reasons=dict(by_reason.most_common()),
        unscored_reasons=Counter(str(r) for r in unscored).most_common(3),
    )
