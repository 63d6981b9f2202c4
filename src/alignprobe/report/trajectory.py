"""Training runs as curves: each headline measure against ``meta.step``, per run.

Checkpoints whose ``meta`` (``checkpoints.yaml``, recorded in the run manifest) holds a
``step`` are points along a training run; the run is ``meta.run`` (or ``training_run``,
else the checkpoint's role, else one unnamed run). For every task, condition and headline
measure, each point gets

* its value with the report's question-clustered interval
  (:func:`alignprobe.report.stats.clustered_mean_ci`), and
* its change against the **base** checkpoint, from the gate's own test at margin 0 (CMH
  for rates, paired t-test for scores: :mod:`alignprobe.gate.decide`), one-sided in the
  measure's bad direction, Holm-corrected over the steps of one run.

The **onset** of a run is its first step whose worsening against the base is significant
(Holm-adjusted p <= :data:`ONSET_ALPHA`); ``None`` when no step's is. The base is the
report's baseline when one was asked for (``--baseline``), else the one checkpoint whose
role is ``baseline``, else the report's default baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from alignprobe.errors import DataError
from alignprobe.measures import Direction, Measure, MeasureKind
from alignprobe.report import stats

#: one-sided level at which a step's worsening against the base counts (the gate's alpha)
ONSET_ALPHA = 0.05
#: meta keys naming a checkpoint's training run, first found wins
RUN_KEYS = ("run", "training_run")
#: run name of stepped checkpoints whose meta names no run and no role
UNNAMED_RUN = "run"


@dataclass(frozen=True)
class Position:
    """Where a checkpoint sits: its training run and step."""

    run: str
    step: float
    named: bool = True
    """The run comes from ``meta.run`` / ``training_run`` (not from the role)."""


@dataclass
class TrajectoryPoint:
    run: str
    step: float
    checkpoint: str
    estimate: stats.Estimate
    change: float | None = None
    """Checkpoint minus base, in the measure's units, as the test sees it."""
    low: float | None = None
    high: float | None = None
    shared_questions: int = 0
    p_value: float | None = None
    """One-sided p of 'worse than the base' (``None``: the base itself, or nothing shared)."""
    p_holm: float | None = None
    significant: bool = False

    @property
    def step_label(self) -> str:
        return f"{self.step:g}"


@dataclass
class Trajectory:
    """One measure of one task under one condition, along every run."""

    task: str
    condition: str
    measure: str
    kind: str
    direction: str
    base: str
    base_estimate: stats.Estimate | None
    test: str
    base_step: float | None = None
    """The base's own step when it has one but belongs to no named run (the runs' origin)."""
    points: list[TrajectoryPoint] = field(default_factory=list)
    onsets: dict[str, float | None] = field(default_factory=dict)

    @property
    def runs(self) -> list[str]:
        return list(dict.fromkeys(p.run for p in self.points))

    def run_points(self, run: str) -> list[TrajectoryPoint]:
        return [p for p in self.points if p.run == run]

    def onset_label(self, run: str) -> str:
        onset = self.onsets.get(run)
        return "none" if onset is None else f"step {onset:g}"


def positions(metas: dict[str, dict[str, Any]], roles: dict[str, str]) -> dict[str, Position]:
    """Checkpoints with a ``meta.step``, and where each sits."""
    out: dict[str, Position] = {}
    for checkpoint, meta in metas.items():
        step = meta.get("step")
        if step is None:
            continue
        if isinstance(step, bool) or not isinstance(step, int | float) or not math.isfinite(step):
            raise DataError(
                f"checkpoint '{checkpoint}': meta.step must be a number, got {step!r}",
                field="meta.step",
            )
        run = next((str(meta[k]) for k in RUN_KEYS if meta.get(k) not in (None, "")), None)
        out[checkpoint] = Position(
            run or roles.get(checkpoint) or UNNAMED_RUN, float(step), named=run is not None
        )
    return out


def trajectory_base(
    checkpoints: list[str], roles: dict[str, str], report_baseline: str, chosen: bool
) -> str:
    """The checkpoint every step is compared with (see the module docstring)."""
    if chosen:
        return report_baseline
    bases = [c for c in checkpoints if roles.get(c) == "baseline"]
    return bases[0] if len(bases) == 1 else report_baseline


def _change(
    base: pd.DataFrame, rows: pd.DataFrame, measure: Measure
) -> tuple[float, float, float, int, float, str] | None:
    """Change against the base with its interval, shared questions, one-sided p, test."""
    from alignprobe.gate.checks import question_data
    from alignprobe.gate.decide import change_estimate, resolve_test, worsening_pvalues
    from alignprobe.gate.types import GateTest

    joined = stats.cluster_summary(base, measure.name).join(
        stats.cluster_summary(rows, measure.name), lsuffix="_base", rsuffix="_cand", how="inner"
    )
    joined = joined[(joined["n_base"] > 0) & (joined["n_cand"] > 0)]
    if joined.empty:
        return None
    values = pd.concat([base[measure.name], rows[measure.name]]).dropna()
    binary = bool(values.isin([0, 1]).all())
    test = resolve_test(GateTest.AUTO, measure.kind, binary)
    if test is GateTest.CMH and not binary:
        test = GateTest.T_TEST
    if test is not GateTest.CMH and len(joined) < 2:
        return None  # a t-test needs two questions
    data = question_data(joined, test, measure.direction)
    worsening, low, high, _ = change_estimate(data, test, 0.95)
    p = float(worsening_pvalues(data, 0.0, test, "worse")[0])
    sign = 1.0 if measure.direction is Direction.GOOD_LOW else -1.0
    low, high = sorted((sign * low, sign * high))
    return sign * worsening, low, high, len(joined), p, test.value


def worsening_pvalue(base: pd.DataFrame, rows: pd.DataFrame, measure: Measure) -> float | None:
    """One-sided p of "``rows`` worse than ``base``" by the trajectory's own test (``None``:
    no question shared); ``alignprobe watch`` decides its onsets with it."""
    found = _change(base, rows, measure)
    return None if found is None else found[4]


def _trajectory(
    group: pd.DataFrame,
    task: str,
    condition: str,
    measure: Measure,
    where: dict[str, Position],
    base: str,
) -> Trajectory | None:
    bounds = measure.scale if measure.kind is MeasureKind.SCORE else (0.0, 1.0)
    base_rows = group[group["checkpoint"] == base]
    base_estimate = (
        stats.clustered_mean_ci(base_rows, measure.name, bounds=bounds)
        if not base_rows.empty
        else None
    )
    traj = Trajectory(
        task,
        condition,
        measure.name,
        measure.kind.value,
        measure.direction.value,
        base,
        base_estimate,
        "",
    )
    origin = where.get(base)
    if origin is not None and not origin.named:  # the base model: every run's origin
        traj.base_step = origin.step
        where = {c: p for c, p in where.items() if c != base}
    ordered = sorted(where.items(), key=lambda item: (item[1].run, item[1].step))
    for checkpoint, position in ordered:
        rows = group[group["checkpoint"] == checkpoint]
        if rows.empty or measure.name not in rows.columns:
            continue
        point = TrajectoryPoint(
            position.run,
            position.step,
            checkpoint,
            stats.clustered_mean_ci(rows, measure.name, bounds=bounds),
        )
        if checkpoint != base and not base_rows.empty:
            found = _change(base_rows, rows, measure)
            if found is not None:
                point.change, point.low, point.high, point.shared_questions, point.p_value = found[
                    :5
                ]
                traj.test = traj.test or found[5]
        traj.points.append(point)
    if not traj.points:
        return None
    for run in traj.runs:
        tested = [p for p in traj.run_points(run) if p.p_value is not None]
        for point, adjusted in zip(
            tested, stats.holm([p.p_value or 0.0 for p in tested]), strict=True
        ):
            point.p_holm = adjusted
            point.significant = adjusted <= ONSET_ALPHA
        traj.onsets[run] = next((p.step for p in traj.run_points(run) if p.significant), None)
    return traj


def trajectories(
    table: pd.DataFrame,
    measures: dict[str, list[Measure]],
    groups: list[tuple[str, str]],
    where: dict[str, Position],
    base: str,
    headline: Any,
) -> list[Trajectory]:
    """Every (task, condition, headline measure) curve; empty when no checkpoint has a step.

    ``headline`` picks a task's headline measures (:func:`alignprobe.report.compare.headline_measures`).
    """
    if not where:
        return []
    out: list[Trajectory] = []
    for task, condition in groups:
        group = table[(table["task"] == task) & (table["condition"] == condition)]
        for measure in headline(measures.get(task, [])):
            if measure.name not in group.columns:
                continue
            traj = _trajectory(group, task, condition, measure, where, base)
            if traj is not None:
                out.append(traj)
    return out
