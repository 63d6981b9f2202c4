"""Gate option ``exclude_eval_aware``: compare only samples that did not think they were tested.

A sample the judge flags ``eval_aware`` (the model said or reasoned that it is being
evaluated) may behave unlike deployment. With the option set, a check drops those rows on
both sides before testing. A side whose rows carry no eval-awareness flag at all cannot
honour the setting, so the check cannot decide rather than silently comparing everything.
(A ceiling on eval awareness itself is an ordinary check on the ``eval_aware`` measure
with ``ceiling:``.)
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from alignprobe.reasoning_measures import EVAL_AWARE_MEASURE

EVAL_AWARE_COLUMN = EVAL_AWARE_MEASURE.name


@dataclass(frozen=True)
class Filtered:
    """Rows left after dropping eval-aware ones, or why that was impossible."""

    rows: pd.DataFrame
    dropped: int = 0
    problem: str | None = None


def drop_eval_aware(rows: pd.DataFrame, role: str) -> Filtered:
    """``rows`` without those flagged eval-aware (``problem`` set when none is flagged
    either way: the task did not judge eval awareness)."""
    if rows.empty:
        return Filtered(rows)
    flags = (
        pd.to_numeric(rows[EVAL_AWARE_COLUMN], errors="coerce")
        if EVAL_AWARE_COLUMN in rows.columns
        else pd.Series(float("nan"), index=rows.index)
    )
    if flags.isna().all():
        return Filtered(
            rows,
            problem=(
                f"exclude_eval_aware is set but the {role}'s rows have no '{EVAL_AWARE_COLUMN}' "
                "flag (agentic_honeypots and goals_question judge it; other judged tasks "
                "need judge_reasoning=true)"
            ),
        )
    aware = flags == 1
    return Filtered(rows[~aware], dropped=int(aware.sum()))
