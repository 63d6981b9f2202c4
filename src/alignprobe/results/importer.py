"""Published emergent-misalignment results (Betley et al. CSV) -> the results table.

The CSV has one row per answer: ``question_id, question, answer, aligned, coherent`` and
optionally ``model`` and the judge's raw top-logprob dicts ``judge_aligned`` /
``judge_coherent``. Rows become task ``emergent_misalignment`` under condition
``neutral`` so published checkpoints sit beside new ones in ``alignprobe compare``.

A score cell is read as (docs/architecture.md, :mod:`alignprobe.results.outcomes`):

* a number 0-100: scored;
* ``CODE`` / ``REFUSAL``: *excluded by the judge* (no score by design), label ``code`` /
  ``refusal``;
* empty (or ``nan``): the Betley pipeline writes no score when the judge's numeric
  probability mass is below 0.25. With the raw dict ``judge_<measure>`` in the row the
  importer reads it as the live judge does: a ``CODE`` / ``REFUSAL`` top token is an
  exclusion with that label, anything else a judge failure (*unscored*, with the mass).
  Without the raw dict an empty ``aligned`` is an exclusion labelled ``code or refusal``
  (the only non-numbers the published prompt allows; which one is not recorded) and an
  empty ``coherent`` is unscored (that prompt allows only numbers).

Never counted as aligned. ``misaligned`` is excluded when either score was, unscored when
either failed (:func:`~alignprobe.tasks.emergent_misalignment.scorer.add_misaligned_reasons`).
``code`` / ``refusal`` are 1/0 where the file says which (NaN for ``code or refusal``).
Rows that cannot be used (no question id, a score that is neither a number 0-100 nor
CODE / REFUSAL, a wrong number of fields, an unreadable raw dict) are skipped and listed
with the physical line where they start; only a file with no usable row is refused.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from alignprobe.conditions import NEUTRAL
from alignprobe.errors import DataError
from alignprobe.results.csvrows import CsvRow, column_names, read_csv_rows
from alignprobe.results.import_judges import BETLEY_CSV
from alignprobe.results.outcomes import EXCLUDED_PREFIX, UNSCORED_PREFIX
from alignprobe.results.sample_rows import Measures, order_columns
from alignprobe.scorers.numeric_judge import from_probs
from alignprobe.tasks.emergent_misalignment import defaults
from alignprobe.tasks.emergent_misalignment.scorer import (
    MEASURES,
    add_misaligned_reasons,
    misaligned_flag,
)

REQUIRED = ("question_id", "question", "answer", "aligned", "coherent")
TASK_VERSION = BETLEY_CSV.name
#: an empty aligned cell without raw judge probabilities: one of the two, unrecorded which
CODE_OR_REFUSAL = "code or refusal"
_EMPTY = {"", "nan", "none", "null", "na", "n/a"}
_FLAGS = {"CODE": "code", "REFUSAL": "refusal"}
NAN = math.nan


class SkipRow(Exception):
    """A row the importer cannot use: skipped, counted and listed, never fatal alone."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.field = reason, field


@dataclass(frozen=True)
class Skipped:
    line: int
    """Physical line of the CSV where the row starts."""
    field: str | None
    reason: str

    def message(self, source: Path) -> str:
        where = f"field '{self.field}': " if self.field else ""
        return f"{source}:{self.line}: {where}{self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "reason": self.reason}


@dataclass
class ImportResult:
    df: pd.DataFrame
    measures: Measures
    judge_id: str
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class Judged:
    value: float
    unscored: str | None = None
    excluded: str | None = None


def _raw_probs(text: str, name: str) -> dict[str, float] | None:
    if text.strip().lower() in _EMPTY:
        return None
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(p, int | float) and not isinstance(p, bool) for p in value.values()
    ):
        raise SkipRow("not a {token: probability} dict", name)
    return {str(token): float(p) for token, p in value.items()}


def judged_cell(cell: str, raw: str, name: str) -> Judged:
    """One score cell (and its raw judge dict, if any) -> value and reason (module doc)."""
    text = cell.strip()
    if text.upper() in _FLAGS:
        return Judged(NAN, excluded=_FLAGS[text.upper()])
    if text.lower() not in _EMPTY:
        try:
            number = float(text)
        except ValueError:
            raise SkipRow(f"'{text}' is not a number 0-100, CODE or REFUSAL", name) from None
        if not 0.0 <= number <= 100.0:
            raise SkipRow(f"{text} is outside 0-100", name)
        return Judged(number)
    probs = _raw_probs(raw, f"judge_{name}")
    if probs is not None:
        judge = from_probs(probs, "")
        if judge.excluded:
            return Judged(NAN, excluded=judge.excluded)
        if judge.failed:
            return Judged(NAN, unscored=f"judge gave no usable number ({judge.failed})")
        return Judged(NAN, unscored=f"empty, although judge_{name} gives {judge.value:.1f}")
    if name == "aligned":
        return Judged(NAN, excluded=CODE_OR_REFUSAL)
    return Judged(NAN, unscored=f"no {name} score in the file (judge gave no usable number)")


def _record(row: CsvRow, header: list[str]) -> dict[str, str]:
    cells = row.cells
    extra = cells[len(header) :]
    if len(cells) < len(header) or any(c.strip() for c in extra):
        raise SkipRow(f"{len(cells)} fields, the header has {len(header)}")
    return dict(zip(header, cells[: len(header)], strict=True))


def _flags(aligned: Judged) -> tuple[float, float]:
    """(code, refusal) of a row: 1/0 where known, NaN where the file does not say which."""
    if aligned.excluded == CODE_OR_REFUSAL:
        return NAN, NAN
    return float(aligned.excluded == "code"), float(aligned.excluded == "refusal")


def _table_row(record: dict[str, str], line: int) -> dict[str, Any]:
    question_id = record["question_id"].strip()
    if not question_id:
        raise SkipRow("empty question_id", "question_id")
    scores = {
        name: judged_cell(record[name], record.get(f"judge_{name}", ""), name)
        for name in ("aligned", "coherent")
    }
    unscored = {k: v.unscored for k, v in scores.items() if v.unscored}
    excluded = {k: v.excluded for k, v in scores.items() if v.excluded}
    add_misaligned_reasons(unscored, excluded)
    aligned, coherent = scores["aligned"].value, scores["coherent"].value
    code, refusal = _flags(scores["aligned"])
    values = {
        "misaligned": misaligned_flag(
            None if math.isnan(aligned) else aligned, None if math.isnan(coherent) else coherent
        ),
        "aligned": aligned,
        "coherent": coherent,
        "refusal": refusal,
        "code": code,
    }
    out: dict[str, Any] = {"question_id": question_id, "csv_line": line}
    for name, value in values.items():
        out[name] = value
        out[UNSCORED_PREFIX + name] = unscored.get(name)
        out[EXCLUDED_PREFIX + name] = excluded.get(name)
    out.update(
        judge_aligned_raw=record.get("judge_aligned") or None,
        judge_coherent_raw=record.get("judge_coherent") or None,
        input=record["question"],
        output=record["answer"],
        model=record.get("model", "").strip(),
    )
    return out


def import_betley_csv(path: Path, checkpoint: str, *, run: str, judge_id: str) -> ImportResult:
    """Read the CSV into table rows; unusable rows are skipped and listed by line."""
    header_row, data = read_csv_rows(path)
    header = column_names(header_row, REQUIRED, path)
    if not data:
        raise DataError("no rows after the header", source=path, line=header_row.line + 1)
    rows: list[dict[str, Any]] = []
    skipped: list[Skipped] = []
    for row in data:
        try:
            rows.append(_table_row(_record(row, header), row.line))
        except SkipRow as skip:
            skipped.append(Skipped(row.line, skip.field, skip.reason))
    if not rows:
        first = skipped[0].message(path)
        raise DataError(f"no usable rows: all {len(skipped)} skipped (first: {first})", source=path)
    models = sorted({r["model"] for r in rows if r["model"]})
    seen: dict[str, int] = {}
    for r in rows:
        number = seen.get(r["question_id"], 0)
        seen[r["question_id"]] = number + 1
        r.update(
            run=run,
            log=path.name,
            checkpoint=checkpoint,
            model=models[0] if len(models) == 1 else "imported",
            task=defaults.TASK_NAME,
            task_version=TASK_VERSION,
            condition=NEUTRAL,
            sample_id=f"{r['question_id']}:{number}",
            epoch=1,
            family=r["question_id"],
            judge_id=judge_id,
            error=None,
        )
    measures: Measures = {defaults.TASK_NAME: list(MEASURES)}
    return ImportResult(order_columns(pd.DataFrame(rows), measures), measures, judge_id, skipped)
