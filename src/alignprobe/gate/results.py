"""One side of the gate (baseline or candidate): the rows of one checkpoint and its measures.

A side is given as a run directory (its table is built from the logs when missing or
stale), a table file (``.parquet`` / ``.csv`` with ``measures.json`` beside it) or an
imported result directory; :func:`alignprobe.results.table.load_table` reads all three. The run
manifest, when there is one, tells whether the run ended in error
(:func:`alignprobe.run.status.manifest_problems`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from alignprobe.errors import DataError, UserInputError
from alignprobe.measures import Measure
from alignprobe.results.table import load_run_table
from alignprobe.run.status import manifest_problems, require_complete

#: columns the gate cannot work without
REQUIRED_COLUMNS = ("checkpoint", "task", "question_id")
#: 1-based input (round) a row came from when a side is given as several inputs
INPUT_COLUMN = "gate_input"


@dataclass(frozen=True)
class Side:
    """The rows of one checkpoint, ready for the checks."""

    role: str
    """``baseline`` or ``candidate``."""
    source: Path
    checkpoint: str
    table: pd.DataFrame
    measures: dict[str, list[Measure]]
    run_problems: list[str] = field(default_factory=list)
    """Reasons from the run manifest that make every check of this side undecidable."""
    inputs: tuple[Path, ...] = ()
    """Every input when the side was given several times (:func:`combine_sides`)."""
    derived: dict[Any, Any] = field(default_factory=dict, init=False, compare=False, repr=False)
    """Selections and summaries of ``table`` already computed, by what they are of: a side
    gated many times (``compare``'s baseline, once per checkpoint) computes each once; never
    passed in, so a side made from another (``dataclasses.replace``) starts without them."""

    @property
    def where(self) -> str:
        return ", ".join(str(p) for p in self.inputs) if self.inputs else str(self.source)

    def measure(self, task: str, name: str) -> Measure | None:
        return next((m for m in self.measures.get(task, []) if m.name == name), None)


def _choose_checkpoint(df: pd.DataFrame, wanted: str | None, role: str, source: Path) -> str:
    names = sorted(str(n) for n in df["checkpoint"].dropna().unique())
    if wanted is not None:
        if wanted not in names:
            raise UserInputError(
                f"no checkpoint '{wanted}'; it holds: {', '.join(names) or 'none'}",
                source=source,
                field=f"--{role}-checkpoint",
            )
        return wanted
    if len(names) != 1:
        raise UserInputError(
            f"holds {len(names)} checkpoints ({', '.join(names) or 'none'}); "
            f"choose one with --{role}-checkpoint NAME",
            source=source,
        )
    return names[0]


def load_side(location: str | Path, role: str, checkpoint: str | None = None) -> Side:
    """Read ``location`` and keep the rows of one checkpoint."""
    path = Path(location)
    if not path.exists():
        raise DataError("not found (expected a run directory or a table)", source=path)
    # a named checkpoint: read only its rows (a 50-checkpoint table is 50 times larger)
    loaded = load_run_table(path, checkpoint) if checkpoint is not None else None
    if loaded is None or loaded.df.empty:  # no name, or not there: the error lists names
        loaded = load_run_table(path)
    df, measures = loaded.df, loaded.measures
    if df.empty:  # a run stopped before its first sample: say what it is, not "0 checkpoints"
        require_complete(loaded.status, path, f"gate the {role}")
        raise DataError("the table has no rows: nothing to gate", source=path)
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"table lacks column(s) {', '.join(missing)}", source=path)
    name = _choose_checkpoint(df, checkpoint, role, path)
    rows = df[df["checkpoint"].astype(str) == name].reset_index(drop=True)
    # a run that did not finish (by its manifest, or short of planned samples) cannot vouch
    # for its table, even when the table was written elsewhere or a log went missing
    status = loaded.status
    if status is not None and not status.complete:
        problems = [f"{status.headline()}; {status.hint()}"]
    else:
        problems = manifest_problems(path)
    return Side(role, path, name, rows, measures, problems)


def combine_sides(sides: list[Side]) -> Side:
    """Several inputs of one side (rounds of a sequential gate) as one: tables concatenated.

    Rows of different inputs are different samples: their ``sample_id`` is prefixed with
    the input's number (``2/q07``) so no pairing or deduplication by ``(sample_id, epoch)``
    mixes them; ``question_id`` stays as it is (questions are the pairing and clustering
    unit). :data:`INPUT_COLUMN` records the input of each row. Every input must hold the
    same checkpoint name.
    """
    if len(sides) == 1:
        return sides[0]
    names = sorted({s.checkpoint for s in sides})
    if len(names) > 1:
        raise UserInputError(
            f"{sides[0].role} inputs hold different checkpoints ({', '.join(names)}); "
            "the rounds of one side must be one checkpoint",
            field=f"--{sides[0].role}",
        )
    tables = []
    for number, side in enumerate(sides, start=1):
        table = side.table.copy()
        if "sample_id" in table.columns:
            table["sample_id"] = f"{number}/" + table["sample_id"].astype(str)
        table[INPUT_COLUMN] = number
        tables.append(table)
    measures: dict[str, list[Measure]] = {}
    for side in sides:
        for task, listed in side.measures.items():
            measures.setdefault(task, listed)
    problems = [f"{s.source}: {p}" for s in sides for p in s.run_problems]
    return Side(
        sides[0].role,
        sides[-1].source,
        names[0],
        pd.concat(tables, ignore_index=True),
        measures,
        problems,
        tuple(s.source for s in sides),
    )
