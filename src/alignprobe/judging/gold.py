"""Human (gold) labels of judged samples: the CSV format, its loader and a blank template.

The gold CSV has one row per (sample, answer, measure), keyed like the results table plus
the answer it labels::

    checkpoint,task,condition,sample_id,epoch,measure,label,answer_sha256[,question,answer,note]

A label belongs to one answer: ``answer_sha256`` (written by ``alignprobe gold template``;
the first 16 hex digits of the SHA-256 of the answer text) or, without that column, the
``answer`` text itself is matched against the run's answer for that sample. A row whose
answer differs (labels made on another run with the same sample ids) is skipped and
counted, never applied to an answer nobody read.

``label`` is the human's value: for a rate, 1/0, yes/no, true/false or the measure's own
words (``misaligned``/``aligned`` for ``misaligned``: :func:`alignprobe.measures.rate_vocabulary`);
for a score, a number on the measure's scale. Anything else is an error naming the file and
line. A blank label is a row not labelled yet (skipped).

Reading follows the project's rule for real data: a header without the key columns, or a
task or measure the run does not define (a typo), is an error naming the file and line;
rows that cannot be used (blank label, a sample or answer the run does not hold, a repeated
identical label) are skipped and counted with their lines. Two different labels for one
answer are refused by default (``ConflictPolicy``), and a file with no usable row is an
error.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd

from alignprobe.errors import DataError
from alignprobe.judging.pairs import SAMPLE_KEY
from alignprobe.measures import Measure, MeasureKind, rate_vocabulary
from alignprobe.results.csvrows import column_names, read_csv_rows
from alignprobe.results.sample_rows import Measures

HASH_COLUMN = "answer_sha256"
GOLD_COLUMNS = [*SAMPLE_KEY, "measure", "label"]
TEMPLATE_COLUMNS = [*GOLD_COLUMNS, HASH_COLUMN, "question", "answer", "note"]


class ConflictPolicy(StrEnum):
    """What to do with two different labels for one (answer, measure)."""

    REFUSE = "refuse"
    """Stop with an error naming the lines (default: a disagreement is not a label)."""
    DROP = "drop"
    """Use neither; skip and count both rows."""


@dataclass
class SkippedRow:
    line: int
    reason: str


@dataclass
class GoldLabels:
    """Usable labels (one row per sample x answer x measure) and what was skipped, with lines."""

    source: Path
    labels: pd.DataFrame
    """Columns: the sample key, ``answer_sha256``, ``measure``, ``gold`` (float), ``csv_line``."""
    skipped: list[SkippedRow] = field(default_factory=list)

    def skipped_summary(self) -> str:
        if not self.skipped:
            return ""
        lines = ", ".join(str(s.line) for s in self.skipped[:10])
        more = f" and {len(self.skipped) - 10} more" if len(self.skipped) > 10 else ""
        reasons: dict[str, int] = defaultdict(int)
        for s in self.skipped:
            reasons[s.reason.split(":")[0].split(" (")[0]] += 1
        counted = "; ".join(f"{n} {why}" for why, n in sorted(reasons.items()))
        return f"skipped {len(self.skipped)} rows (lines {lines}{more}: {counted})"


def answer_hash(text: object) -> str:
    """The answer's identity in a gold file: 16 hex digits of the SHA-256 of its text."""
    value = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def answer_hashes(table: pd.DataFrame) -> pd.Series:
    """Each row's answer hash (the ``output`` column; empty text when there is none)."""
    if "output" not in table:
        return pd.Series([answer_hash("")] * len(table), index=table.index, dtype=str)
    return table["output"].map(answer_hash).astype(str)


def _measure(measures: Measures, task: str, name: str) -> Measure | None:
    return next((m for m in measures.get(task, []) if m.name == name), None)


def parse_label(text: str, measure: Measure) -> float | None:
    """The label as a number, ``None`` if blank; ``ValueError`` if it is not in the
    measure's vocabulary (a rate) or on its scale (a score)."""
    value = text.strip().lower()
    if not value:
        return None
    if measure.kind is MeasureKind.RATE:
        words = rate_vocabulary(measure)
        if value in words:
            return words[value]
        allowed = "/".join(dict.fromkeys(w for w in words if not w.endswith(".0")))
        raise ValueError(
            f"label '{text}' is not in the vocabulary of the rate '{measure.name}' ({allowed})"
        )
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"label '{text}' is not a number for the score '{measure.name}'") from None
    low, high = measure.scale
    if not math.isfinite(number) or not low <= number <= high:
        raise ValueError(f"label {text} is outside {measure.name}'s scale {low:g}-{high:g}")
    return number


def load_gold(
    path: Path,
    table: pd.DataFrame,
    measures: Measures,
    conflicts: ConflictPolicy = ConflictPolicy.REFUSE,
) -> GoldLabels:
    """Read ``path`` against a run's table (its keys and answers) and measures (their kinds)."""
    header, rows = read_csv_rows(path)
    names = column_names(
        header,
        GOLD_COLUMNS,
        path,
        one_of=(HASH_COLUMN, "answer"),
        hint=". `alignprobe gold template` writes a sheet with all of them",
    )
    wanted = [*GOLD_COLUMNS, *(c for c in (HASH_COLUMN, "answer") if c in names)]
    index = {name: names.index(name) for name in wanted}
    run_answers: dict[tuple[str, ...], set[str]] = defaultdict(set)
    keyed = table[SAMPLE_KEY].astype(str).itertuples(index=False)
    for run_key, run_digest in zip(keyed, answer_hashes(table), strict=True):
        run_answers[tuple(run_key)].add(run_digest)
    first: dict[tuple[str, ...], tuple[float, int]] = {}
    kept: dict[tuple[str, ...], dict[str, object]] = {}
    clashes: dict[tuple[str, ...], list[int]] = defaultdict(list)
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
            raise DataError(f"field 'label': {exc}", source=path, line=row.line) from None
        if gold is None:
            skipped.append(SkippedRow(row.line, "blank label (not labelled yet)"))
            continue
        key = tuple(cell[c] for c in SAMPLE_KEY)
        digest = cell.get(HASH_COLUMN, "").lower()[:16]  # a full SHA-256 works too
        if not digest and "answer" in index:  # no hash: the answer text itself identifies it
            digest = answer_hash(row.cells[index["answer"]])
        if key not in run_answers:
            skipped.append(SkippedRow(row.line, "no such sample in the run"))
            continue
        if digest not in run_answers[key]:
            skipped.append(
                SkippedRow(
                    row.line,
                    f"answer differs from the run's (label is for answer {digest or '(none)'}, "
                    f"the run has {', '.join(sorted(run_answers[key]))})",
                )
            )
            continue
        identity = (*key, digest, cell["measure"])
        if identity in first:
            earlier, earlier_line = first[identity]
            if earlier == gold:
                skipped.append(
                    SkippedRow(row.line, f"labelled again (same label as line {earlier_line})")
                )
            else:
                clashes[identity] += (
                    [earlier_line, row.line] if not clashes[identity] else [row.line]
                )
            continue
        first[identity] = (gold, row.line)
        kept[identity] = {
            **dict(zip(SAMPLE_KEY, key, strict=True)),
            HASH_COLUMN: digest,
            "measure": cell["measure"],
            "gold": gold,
            "csv_line": row.line,
        }
    if clashes:
        lines = sorted(line for group in clashes.values() for line in group)
        if conflicts is ConflictPolicy.REFUSE:
            raise DataError(
                f"{len(clashes)} answer(s) carry conflicting labels (lines "
                f"{', '.join(map(str, lines[:20]))}{' ...' if len(lines) > 20 else ''}); resolve "
                "them, or drop both labels with the 'drop' conflict policy",
                source=path,
                line=lines[0],
            )
        for identity, group in clashes.items():
            del kept[identity]
            skipped += [
                SkippedRow(line, "conflicting labels for one answer (dropped)") for line in group
            ]
    labels = pd.DataFrame(
        list(kept.values()), columns=[*SAMPLE_KEY, HASH_COLUMN, "measure", "gold", "csv_line"]
    )
    result = GoldLabels(path, labels, sorted(skipped, key=lambda s: s.line))
    if labels.empty:
        raise DataError(
            "no usable gold label"
            + (f" ({result.skipped_summary()})" if skipped else " (the file has no rows)"),
            source=path,
        )
    return result


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
            sheet[HASH_COLUMN] = answer_hashes(chosen)
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
