"""Human (gold) labels of judged samples: the CSV format, its loader and a blank template.

The gold CSV has one row per (sample, measure), keyed exactly like the results table::

    checkpoint,task,condition,sample_id,epoch,measure,label[,question,answer,note]

``label`` is the human's value: ``1`` / ``0`` for a rate measure (``yes``/``no``,
``true``/``false`` also read), a number on the measure's scale for a score. A blank label
is a row not labelled yet. Other columns (the question and answer a template carries,
a labeller's note) are ignored.

Reading follows the project's rule for real data: a header without the key columns, or a
task or measure the run does not define (a typo), is an error naming the file and line;
rows that cannot be used (blank or unreadable label, a sample the run does not hold, a
repeated key) are skipped and counted with their lines.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from alignprobe.errors import DataError
from alignprobe.judging.pairs import SAMPLE_KEY
from alignprobe.measures import Measure, MeasureKind
from alignprobe.results.csvrows import read_csv_rows
from alignprobe.results.table import Measures

GOLD_COLUMNS = [*SAMPLE_KEY, "measure", "label"]
TEMPLATE_COLUMNS = [*GOLD_COLUMNS, "question", "answer", "note"]
_TRUE = {"1", "1.0", "yes", "y", "true", "misaligned", "pass"}
_FALSE = {"0", "0.0", "no", "n", "false"}


@dataclass
class SkippedRow:
    line: int
    reason: str


@dataclass
class GoldLabels:
    """Usable labels (one row per sample x measure) and what was skipped, with lines."""

    source: Path
    labels: pd.DataFrame
    """Columns: the sample key, ``measure``, ``gold`` (float), ``csv_line``."""
    skipped: list[SkippedRow] = field(default_factory=list)

    def skipped_summary(self) -> str:
        if not self.skipped:
            return ""
        lines = ", ".join(str(s.line) for s in self.skipped[:10])
        more = f" and {len(self.skipped) - 10} more" if len(self.skipped) > 10 else ""
        return f"skipped {len(self.skipped)} rows (lines {lines}{more})"


def _measure(measures: Measures, task: str, name: str) -> Measure | None:
    return next((m for m in measures.get(task, []) if m.name == name), None)


def parse_label(text: str, measure: Measure) -> float | None:
    """The label as a number, ``None`` if blank; ``ValueError`` if it is unreadable."""
    value = text.strip().lower()
    if not value:
        return None
    if measure.kind is MeasureKind.RATE:
        if value in _TRUE:
            return 1.0
        if value in _FALSE:
            return 0.0
        raise ValueError(f"label '{text}' is not 0/1 (yes/no) for the rate '{measure.name}'")
    number = float(value)
    low, high = measure.scale
    if not math.isfinite(number) or not low <= number <= high:
        raise ValueError(f"label {text} is outside {measure.name}'s scale {low:g}-{high:g}")
    return number


def load_gold(path: Path, table: pd.DataFrame, measures: Measures) -> GoldLabels:
    """Read ``path`` against a run's table (its keys) and measures (their kinds)."""
    header, rows = read_csv_rows(path)
    names = [cell.strip() for cell in header.cells]
    missing = [c for c in GOLD_COLUMNS if c not in names]
    if missing:
        raise DataError(
            f"gold labels need the columns {', '.join(GOLD_COLUMNS)}; missing {', '.join(missing)}",
            source=path,
            line=header.line,
        )
    index = {name: names.index(name) for name in GOLD_COLUMNS}
    keys = set(map(tuple, table[SAMPLE_KEY].astype(str).itertuples(index=False)))
    seen: set[tuple[str, ...]] = set()
    kept: list[dict[str, object]] = []
    skipped: list[SkippedRow] = []
    for row in rows:
        if len(row.cells) != len(names):
            skipped.append(
                SkippedRow(row.line, f"{len(row.cells)} fields, header has {len(names)}")
            )
            continue
        cell = {name: row.cells[i].strip() for name, i in index.items()}
        measure = _measure(measures, cell["task"], cell["measure"])
        if measure is None:
            known = ", ".join(f"{t}.{m.name}" for t, ms in measures.items() for m in ms)
            raise DataError(
                f"field 'task'/'measure': the run has no measure {cell['task']}.{cell['measure']} "
                f"(it has: {known})",
                source=path,
                line=row.line,
            )
        try:
            gold = parse_label(cell["label"], measure)
        except ValueError as exc:
            skipped.append(SkippedRow(row.line, str(exc)))
            continue
        if gold is None:
            skipped.append(SkippedRow(row.line, "blank label (not labelled yet)"))
            continue
        key = tuple(cell[c] for c in SAMPLE_KEY)
        if key not in keys:
            skipped.append(SkippedRow(row.line, "no such sample in the run"))
            continue
        if (*key, cell["measure"]) in seen:
            skipped.append(SkippedRow(row.line, "sample and measure labelled again"))
            continue
        seen.add((*key, cell["measure"]))
        kept.append(
            {
                **dict(zip(SAMPLE_KEY, key, strict=True)),
                "measure": cell["measure"],
                "gold": gold,
                "csv_line": row.line,
            }
        )
    labels = pd.DataFrame(kept, columns=[*SAMPLE_KEY, "measure", "gold", "csv_line"])
    return GoldLabels(path, labels, skipped)


def default_measures(measures: Measures, judged_tasks: set[str]) -> list[tuple[str, str]]:
    """(task, measure) a template asks about: each judged task's headline measures."""
    out = []
    for task, ms in measures.items():
        if task in judged_tasks:
            out += [(task, m.name) for m in ms if m.headline]
    return out


def template_rows(
    table: pd.DataFrame,
    wanted: list[tuple[str, str]],
    per_stratum: int,
    seed: int,
) -> pd.DataFrame:
    """A blank labelling sheet: ``per_stratum`` random judged samples of every
    (checkpoint, task, condition) for each wanted measure, so an hour of labelling covers
    every checkpoint. Only rows the judge scored are drawn (the population the rate is
    computed on); the judge's own value is left out so the labeller is blind to it."""
    rng = np.random.default_rng(seed)
    sheets = []
    for task, measure in wanted:
        rows = table[
            (table["task"] == task) & pd.to_numeric(table[measure], errors="coerce").notna()
        ]
        for _, stratum in rows.groupby(["checkpoint", "condition"], sort=True):
            take = min(per_stratum, len(stratum))
            chosen = stratum.iloc[np.sort(rng.choice(len(stratum), size=take, replace=False))]
            sheet = chosen[SAMPLE_KEY].astype(str).copy()
            sheet["measure"] = measure
            sheet["label"] = ""
            sheet["question"] = chosen["input"].astype(str) if "input" in chosen else ""
            sheet["answer"] = chosen["output"].astype(str) if "output" in chosen else ""
            sheet["note"] = ""
            sheets.append(sheet)
    if not sheets:
        return pd.DataFrame(columns=TEMPLATE_COLUMNS)
    return pd.concat(sheets, ignore_index=True)[TEMPLATE_COLUMNS]


def write_template(sheet: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    sheet.to_csv(partial, index=False, quoting=csv.QUOTE_NONNUMERIC)
    partial.replace(path)
