"""Two judgings of the same samples, row by row.

Rows of two results tables are the same sample when checkpoint, task, condition, sample id
and epoch agree *and* the answer is the same text (a re-run of the model would give the
same ids to other answers: those rows are counted and left out, never compared).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from alignprobe.errors import DataError
from alignprobe.measures import Measure, MeasureKind
from alignprobe.results.outcomes import EXCLUDED_PREFIX, UNSCORED_PREFIX
from alignprobe.results.sample_rows import Measures
from alignprobe.results.table import load_complete_table

SAMPLE_KEY = ["checkpoint", "task", "condition", "sample_id", "epoch"]
SIDES = ("a", "b")


@dataclass
class JudgedPairs:
    """Rows present in both tables, with each side's columns suffixed ``_a`` / ``_b``."""

    rows: pd.DataFrame
    measures: dict[str, list[Measure]]
    """Measures both tables define, per task."""
    only_a: int
    only_b: int
    answers_differ: int
    judges: dict[str, tuple[list[str], list[str]]]
    """task -> (judge ids of A, judge ids of B)."""


def _key_frame(df: pd.DataFrame, source: Path) -> pd.DataFrame:
    missing = [c for c in SAMPLE_KEY if c not in df.columns]
    if missing:
        raise DataError(f"table has no column(s) {', '.join(missing)}", source=source)
    for column in SAMPLE_KEY:  # in place: the frame is this reader's own (no copy of a
        df[column] = df[column].astype(str)  # table that may be a million rows)
    return df


def _common_measures(a: Measures, b: Measures) -> dict[str, list[Measure]]:
    common: dict[str, list[Measure]] = {}
    for task, measures in a.items():
        names = {m.name for m in b.get(task, [])}
        shared = [m for m in measures if m.name in names]
        if shared:
            common[task] = shared
    return common


def _judged_tasks(df: pd.DataFrame) -> set[str]:
    """Tasks with a judge identity on some row (deterministic checkers have none)."""
    if "judge_id" not in df.columns:
        return set()
    return set(df.loc[df["judge_id"].notna(), "task"].astype(str))


def _judges(df: pd.DataFrame, task: str) -> list[str]:
    if "judge_id" not in df.columns:
        return []
    values = df.loc[df["task"] == task, "judge_id"].dropna().astype(str)
    return sorted(set(values))


def _read_columns(df: pd.DataFrame, measures: Measures, *extra: str) -> list[str]:
    """The sample key, the answer, each common measure and its unscored / excluded reason."""
    names = {m.name for listed in measures.values() for m in listed}
    wanted = {
        *SAMPLE_KEY,
        "output",
        *extra,
        *names,
        *(f"{prefix}{n}" for prefix in (UNSCORED_PREFIX, EXCLUDED_PREFIX) for n in names),
    }
    return [c for c in df.columns if c in wanted]


def pair_tables(a: Path, b: Path) -> JudgedPairs:
    """Load both results (run folders or table files) and pair their rows."""
    df_a, measures_a = load_complete_table(a, "measure agreement")
    df_b, measures_b = load_complete_table(b, "measure agreement")
    df_a, df_b = _key_frame(df_a, a), _key_frame(df_b, b)
    judged = {str(t) for df in (df_a, df_b) for t in _judged_tasks(df)}
    measures = {
        task: ms for task, ms in _common_measures(measures_a, measures_b).items() if task in judged
    }
    if not measures:
        raise DataError(f"no judged task with measures in common with {b}", source=a)
    # which samples each side has, from the keys alone; then only the columns the report
    # reads are paired (a million-row table's other columns, twice, would not fit)
    presence = df_a[SAMPLE_KEY].merge(df_b[SAMPLE_KEY], on=SAMPLE_KEY, how="outer", indicator=True)
    side_a = df_a[_read_columns(df_a, measures, "input")].rename(columns={"input": "input_a"})
    both = side_a.merge(
        df_b[_read_columns(df_b, measures)], on=SAMPLE_KEY, how="inner", suffixes=("_a", "_b")
    )
    same_answer = both["output_a"].fillna("") == both["output_b"].fillna("")
    rows = both[same_answer & both["task"].isin(list(measures))].reset_index(drop=True)
    if rows.empty:
        raise DataError(f"no sample in common with {b} (same ids and the same answer)", source=a)
    judges = {task: (_judges(df_a, task), _judges(df_b, task)) for task in measures}
    return JudgedPairs(
        rows=rows,
        measures=measures,
        only_a=int((presence["_merge"] == "left_only").sum()),
        only_b=int((presence["_merge"] == "right_only").sum()),
        answers_differ=int((~same_answer).sum()),
        judges=judges,
    )


def is_rate(measure: Measure) -> bool:
    return measure.kind is MeasureKind.RATE
