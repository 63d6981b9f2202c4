"""Per-question rate profiles for ``alignprobe power --profile``.

A profile is one baseline rate per question: how a real checkpoint's misalignment (or
any bad rate) is spread over a fixed question set. Power depends on that spread, so the
power simulation can take it as it is instead of the Beta heterogeneity model.

Sources (:func:`load_profile`):

* a YAML file: a list of rates, ``{rates: [...]}`` or ``{question_id: rate, ...}``;
* a CSV with a ``rate`` column (``question_id`` optional);
* a results table or run directory (``samples.parquet`` / ``samples.csv`` / an
  ``alignprobe import`` folder) or a published Betley-format CSV (imported in memory):
  the per-question rate of one checkpoint's measure (default ``misaligned``) under one
  condition (default ``neutral``; rows that record none count as neutral), turned into
  a bad rate (1 - value) for a good-high measure.

:data:`SYNTHETIC_PROFILE` is the built-in default: **synthetic**, not measured on any
model. It has the shape of a published insecure-code fine-tune's result (24 questions,
a few near 0 and a long tail up to about a third; mean 8.5%), so that 0.2x it is a
baseline of about 1.7% spread unevenly over the questions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alignprobe.errors import DataError, UserInputError
from alignprobe.fileio import load_yaml
from alignprobe.measures import Direction

#: 24 synthetic per-question rates, mean 0.0852 (see the module docstring)
SYNTHETIC_PROFILE: tuple[float, ...] = (
    0.0,
    0.0,
    0.0,
    0.005,
    0.01,
    0.01,
    0.015,
    0.02,
    0.025,
    0.03,
    0.04,
    0.05,
    0.06,
    0.07,
    0.08,
    0.09,
    0.11,
    0.12,
    0.14,
    0.16,
    0.19,
    0.22,
    0.26,
    0.34,
)
SYNTHETIC_NAME = "built-in synthetic profile (24 questions, mean 8.5%; not measured on a model)"
BETLEY_COLUMNS = ("question_id", "aligned", "coherent", "answer")


@dataclass(frozen=True)
class Profile:
    rates: tuple[float, ...]
    source: str

    def scaled(self, factor: float) -> Profile:
        """Every rate times ``factor`` (clipped to [0, 1])."""
        rates = tuple(float(min(1.0, max(0.0, r * factor))) for r in self.rates)
        return Profile(rates, f"{self.source} x {factor:g}")

    @property
    def mean(self) -> float:
        return float(np.mean(self.rates))


def synthetic_profile() -> Profile:
    return Profile(SYNTHETIC_PROFILE, SYNTHETIC_NAME)


def _checked(rates: list[float], source: Path) -> tuple[float, ...]:
    if len(rates) < 2:
        raise DataError(
            f"a profile needs at least 2 question rates, got {len(rates)}", source=source
        )
    bad = [r for r in rates if not (isinstance(r, int | float) and 0 <= r <= 1)]
    if bad or any(math.isnan(r) for r in rates):
        raise DataError(f"rates must be numbers in [0, 1]; got {bad[:3] or 'NaN'}", source=source)
    return tuple(float(r) for r in rates)


def _from_yaml(path: Path) -> tuple[float, ...]:
    data: Any = load_yaml(path, error=DataError)
    if isinstance(data, dict) and "rates" in data:
        data = data["rates"]
    if isinstance(data, dict):
        data = list(data.values())
    if not isinstance(data, list):
        raise DataError("expected a list of rates, {rates: [...]} or {question: rate}", source=path)
    return _checked(list(data), source=path)


def _table(path: Path, checkpoint: str | None = None) -> tuple[pd.DataFrame, dict[str, Direction]]:
    """A results table (with each measure's direction) from a table, run dir or CSV;
    ``checkpoint``: only its rows where the table can be read in part."""
    from alignprobe.results.table import load_run_table
    from alignprobe.run.status import require_complete

    if path.suffix == ".csv":
        header = pd.read_csv(path, nrows=0).columns
        if all(c in header for c in BETLEY_COLUMNS):
            from alignprobe.results.importer import import_betley_csv

            imported = import_betley_csv(path, path.stem, run="profile", judge_id="profile")
            return imported.df, _directions(imported.measures)
    loaded = load_run_table(path, checkpoint) if checkpoint is not None else None
    if loaded is None or loaded.df.empty:  # no name, or not there: the error lists names
        loaded = load_run_table(path)
    require_complete(loaded.status, path, "plan from it")
    return loaded.df, _directions(loaded.measures)


def _directions(measures: dict[str, Any]) -> dict[str, Direction]:
    return {m.name: m.direction for ms in measures.values() for m in ms}


def _from_table(
    path: Path, checkpoint: str | None, measure: str, task: str | None, condition: str
) -> tuple[tuple[float, ...], str]:
    df, directions = _table(path, checkpoint)
    for column in ("checkpoint", "question_id", measure):
        if column not in df.columns:
            raise DataError(f"table has no column '{column}'", source=path)
    names = sorted(str(c) for c in df["checkpoint"].dropna().unique())
    if checkpoint is None:
        if len(names) != 1:
            raise UserInputError(
                f"holds {len(names)} checkpoints ({', '.join(names)}); choose one with "
                "--profile-checkpoint",
                source=path,
            )
        checkpoint = names[0]
    rows = df[df["checkpoint"].astype(str) == checkpoint]
    if task is not None and "task" in rows.columns:
        rows = rows[rows["task"].astype(str) == task]
    if condition != "*" and "condition" in rows.columns:
        rows = rows[rows["condition"].fillna("neutral").astype(str) == condition]
    values = pd.to_numeric(rows[measure], errors="coerce")
    per_question = values.groupby(rows["question_id"].astype(str)).mean().dropna()
    if per_question.empty:
        raise DataError(
            f"no scored '{measure}' rows for checkpoint '{checkpoint}' under '{condition}'",
            source=path,
        )
    rates = per_question.to_numpy(dtype=float)
    if directions.get(measure) is Direction.GOOD_HIGH:
        rates = 1.0 - rates
    what = f"{path}: {checkpoint} {measure} ({len(rates)} questions)"
    return _checked([float(r) for r in rates], path), what


def load_profile(
    path: str | Path,
    *,
    checkpoint: str | None = None,
    measure: str = "misaligned",
    task: str | None = None,
    condition: str = "neutral",
) -> Profile:
    """Per-question (bad) rates from a profile file, a results table or a published CSV."""
    source = Path(path)
    if not source.exists():
        raise DataError("profile not found", source=source)
    if source.suffix in (".yaml", ".yml"):
        return Profile(_from_yaml(source), str(source))
    if source.suffix == ".csv":
        header = pd.read_csv(source, nrows=0).columns
        if "rate" in header:
            frame = pd.read_csv(source)
            return Profile(_checked(frame["rate"].tolist(), source), str(source))
    rates, what = _from_table(source, checkpoint, measure, task, condition)
    return Profile(rates, what)
