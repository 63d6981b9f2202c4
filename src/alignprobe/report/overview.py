"""The report's first section: which checkpoint got worse (or better) on what.

Checkpoints x headline measures (one column per task, condition and headline measure),
each cell the value with its interval and the paired change against the baseline, with
the gate's verdict; the verdicts again as sentences, worst first; and the onset of every
training run under every condition. Computed from a
:class:`~alignprobe.report.compare.Comparison` only, so the report's inputs stay the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from alignprobe.report.ci_methods import MethodNotes, method_notes
from alignprobe.report.compare import Comparison, headline_measures
from alignprobe.units import fmt, fmt_delta

#: verdicts the overview colours (html) or marks (md); anything else is shown plainly
DECIDED = ("worse", "better")


@dataclass(frozen=True)
class Column:
    task: str
    condition: str
    measure: str
    kind: str
    direction: str

    @property
    def better_when(self) -> str:
        return "lower is better" if self.direction == "good-low" else "higher is better"


@dataclass(frozen=True)
class Cell:
    value: str
    interval: str
    """``[low, high]``, empty where the interval is not finite."""
    change: str
    """``+25.0 pts [+12.1, +37.9]`` against the baseline; empty on the baseline itself."""
    verdict: str
    """The gate's verdict (``worse``, ``better``, ``same``, ...); empty on the baseline."""
    footnote: int | None = None

    @property
    def css(self) -> str:
        return self.verdict if self.verdict in DECIDED else ""


@dataclass(frozen=True)
class Row:
    checkpoint: str
    role: str
    baseline: bool
    cells: list[Cell | None]
    """One per column; None where the checkpoint has no rows for it."""

    @property
    def tags(self) -> list[str]:
        """What to say beside the name: its role, and ``baseline`` once."""
        tags = [self.role] if self.role else []
        return [*tags, "baseline"] if self.baseline and "baseline" not in tags else tags


@dataclass(frozen=True)
class Finding:
    """A headline difference the gate's test calls worse or better."""

    checkpoint: str
    verdict: str
    column: Column
    base_value: str
    value: str
    change: str
    p_holm: float
    size: float


@dataclass(frozen=True)
class Onset:
    task: str
    condition: str
    measure: str
    run: str
    onset: str
    """``step 300`` or ``none``."""
    base: str


@dataclass
class Overview:
    baseline: str
    columns: list[Column]
    rows: list[Row]
    findings: list[Finding]
    compared: int
    """Paired comparisons the verdicts come from (decided or not)."""
    onsets: list[Onset] = field(default_factory=list)
    notes: MethodNotes = field(default_factory=MethodNotes)

    def column_label(self, column: Column) -> str:
        """``task · condition`` where the report has several tasks, else the condition."""
        tasks = {c.task for c in self.columns}
        return f"{column.task} · {column.condition}" if len(tasks) > 1 else column.condition


def _interval(estimate: Any, kind: str) -> str:
    if not (math.isfinite(estimate.low) and math.isfinite(estimate.high)):
        return ""
    return f"[{fmt(estimate.low, kind)}, {fmt(estimate.high, kind)}]"


def _change(pair: dict[str, Any]) -> str:
    """``+27.1 pts [+18.8, +35.4]``: the unit once, so that a cell fits a phone."""
    result, kind = pair["result"], pair["kind"]
    if not result.clusters:
        return "–"
    change = fmt_delta(result.difference, kind)
    if not (math.isfinite(result.low) and math.isfinite(result.high)):
        return change
    unit = " pts" if change.endswith(" pts") else ""  # a rate's change; scores have none
    low, high = (fmt_delta(x, kind).removesuffix(unit) for x in (result.low, result.high))
    return f"{change} [{low}, {high}]"


def _columns(comp: Comparison) -> list[Column]:
    columns = []
    for task, condition in comp.groups:
        for measure in headline_measures(comp.measures.get(task, [])):
            columns.append(
                Column(task, condition, measure.name, measure.kind.value, measure.direction.value)
            )
    return columns


def build_overview(comp: Comparison) -> Overview:
    """The overview of ``comp`` (footnote numbers shared with the detail tables)."""
    notes = method_notes(comp.rates)
    columns = _columns(comp)
    rates = {(r["task"], r["condition"], r["measure"], r["checkpoint"]): r for r in comp.rates}
    paired = {(p["task"], p["condition"], p["measure"], p["checkpoint"]): p for p in comp.paired}
    rows, findings = [], []
    for checkpoint in comp.checkpoints:
        cells: list[Cell | None] = []
        for column in columns:
            key = (column.task, column.condition, column.measure, checkpoint)
            rate = rates.get(key)
            if rate is None:
                cells.append(None)
                continue
            pair = paired.get(key)
            cell = Cell(
                value=fmt(rate["estimate"].value, column.kind),
                interval=_interval(rate["estimate"], column.kind),
                change=_change(pair) if pair else "",
                verdict=str(pair["verdict"]) if pair else "",
                footnote=notes.footnote(rate),
            )
            cells.append(cell)
            if pair and cell.verdict in DECIDED:
                findings.append(
                    Finding(
                        checkpoint=checkpoint,
                        verdict=cell.verdict,
                        column=column,
                        base_value=fmt(pair["result"].base_value, column.kind),
                        value=fmt(pair["result"].cand_value, column.kind),
                        change=cell.change,
                        p_holm=float(pair["p_holm"]),
                        size=abs(float(pair["result"].difference)),
                    )
                )
        rows.append(
            Row(checkpoint, comp.roles.get(checkpoint, ""), checkpoint == comp.baseline, cells)
        )
    findings.sort(key=lambda f: (f.verdict != "worse", -f.size))
    onsets = [
        Onset(t.task, t.condition, t.measure, run, t.onset_label(run), t.base)
        for t in comp.trajectories
        for run in t.runs
    ]
    return Overview(comp.baseline, columns, rows, findings, len(comp.paired), onsets, notes)
