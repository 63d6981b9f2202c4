"""Judge health of one group of rows (a checkpoint's task and condition): is the judge
answering at all, and how sure is it that it answered a number?

* unscored rate: judged rows the judge failed on, over its judged measures (worst one);
* the REFUSAL / CODE flags the Betley judge answers instead of a number (exclusions);
* the numeric probability mass of each 0-100 judgement (``judge_mass_<judgement>``
  columns): its quartiles and the share below the Betley threshold (0.25, unscored) and
  below 0.5 (a judge half-unsure that a number was the answer).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from alignprobe.measures import Measure
from alignprobe.results.outcomes import count_outcomes
from alignprobe.results.sample_rows import JUDGE_MASS_PREFIX
from alignprobe.scorers.numeric_judge import MIN_NUMERIC_MASS

LOW_MASS = 0.5


def mass_summary(values: pd.Series) -> dict[str, Any] | None:
    """Quartiles of the numeric probability mass and the shares below the thresholds."""
    mass = pd.to_numeric(values, errors="coerce").dropna()
    if mass.empty:
        return None
    q = mass.quantile([0.0, 0.25, 0.5, 0.75]).tolist()
    return {
        "n": len(mass),
        "min": q[0],
        "q1": q[1],
        "median": q[2],
        "q3": q[3],
        "below_threshold": float((mass < MIN_NUMERIC_MASS).mean()),
        "below_half": float((mass < LOW_MASS).mean()),
    }


def judge_health(group: pd.DataFrame, measures: list[Measure]) -> dict[str, Any] | None:
    """Health of the judge over ``group``; ``None`` when no judge scored these rows."""
    if "judge_id" not in group.columns or group["judge_id"].isna().all():
        return None
    worst_rate, worst_measure, judged = 0.0, None, 0
    flags: Counter[str] = Counter()
    for measure in measures:
        if measure.name not in group.columns:
            continue
        counts = count_outcomes(group, measure.name)
        judged = max(judged, counts.judged)
        if counts.judged and (worst_measure is None or counts.unscored_rate > worst_rate):
            worst_rate, worst_measure = counts.unscored_rate, measure.name
        for label, n in counts.excluded_reasons.items():
            flags[label] = max(flags[label], n)  # one answer excluded for several measures
    masses = {
        column.removeprefix(JUDGE_MASS_PREFIX): summary
        for column in group.columns
        if column.startswith(JUDGE_MASS_PREFIX)
        and (summary := mass_summary(group[column])) is not None
    }
    return {
        "judged": judged,
        "unscored_rate": worst_rate,
        "unscored_measure": worst_measure,
        "refusal": flags.get("refusal", 0),
        "code": flags.get("code", 0),
        "other_exclusions": {k: v for k, v in flags.items() if k not in ("refusal", "code")},
        "mass": masses,
    }
