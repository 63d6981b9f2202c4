"""Results tables -> the comparison a report shows (numbers only; rendering is elsewhere).

Inputs are run directories (table built on demand) or table files. Checkpoint roles
(``control`` / ``inoculated``) come from each input's ``manifest.json`` or ``--role``.
Results judged by different judges are refused unless explicitly allowed. An input whose
run did not finish (its recorded :class:`~alignprobe.run.status.RunStatus`) is compared
anyway, under an ``INCOMPLETE RUN`` banner.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alignprobe.errors import DataError, UserInputError
from alignprobe.judging.health import judge_health
from alignprobe.measures import Direction, Measure, MeasureKind
from alignprobe.report import stats
from alignprobe.report.working_table import working_table
from alignprobe.results.outcomes import count_outcomes
from alignprobe.results.sample_rows import Measures
from alignprobe.results.table import load_run_table
from alignprobe.run.status import RunStatus, read_manifest, require_complete
from alignprobe.tasks.instructed_hacking.report_section import build_section

TRANSCRIPTS_PER_PAIR = 5


@dataclass
class Inputs:
    table: pd.DataFrame
    measures: Measures
    roles: dict[str, str]
    sources: list[str]
    statuses: dict[str, RunStatus] = field(default_factory=dict)
    """Completeness per input (by source) where a run plan stands behind it."""
    metas: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each checkpoint's ``meta`` from its run manifest (``step`` makes trajectories)."""

    def incomplete(self) -> list[str]:
        """One ``INCOMPLETE RUN: <source> has 22 of 146 samples (...)`` line per input."""
        return [
            f"INCOMPLETE RUN: {source} has {status.summary()}; {status.hint()}"
            for source, status in self.statuses.items()
            if not status.complete
        ]


def _metas_from_manifest(location: Path) -> dict[str, dict[str, Any]]:
    data = read_manifest(location) or {}
    return {
        str(name): dict((entry or {}).get("meta") or {})
        for name, entry in (data.get("checkpoints") or {}).items()
    }


def _roles_from_manifest(location: Path) -> dict[str, str]:
    data = read_manifest(location) or {}
    out: dict[str, str] = {}
    for name, entry in (data.get("checkpoints") or {}).items():
        role = ((entry or {}).get("meta") or {}).get("role")
        if role:
            out[name] = str(role)
    return out


def checkpoint_names(df: pd.DataFrame) -> list[str]:
    """The checkpoint names (as text) in order of first appearance, read from the distinct
    values (a large table holds a few dozen)."""
    return list(dict.fromkeys(df["checkpoint"].astype(str).unique()))


def load_inputs(locations: list[Path], roles: dict[str, str] | None = None) -> Inputs:
    """Concatenate tables; a checkpoint name seen in two inputs is prefixed by its run."""
    frames: list[pd.DataFrame] = []
    measures: Measures = {}
    found_roles: dict[str, str] = {}
    seen: set[str] = set()
    statuses: dict[str, RunStatus] = {}
    metas: dict[str, dict[str, Any]] = {}
    for location in locations:
        loaded = load_run_table(location)
        df, ms = loaded.df, loaded.measures
        if df.empty:  # nothing to report on (a run stopped before its first sample)
            require_complete(loaded.status, location, "compare")
            raise DataError("the table has no rows: nothing to compare", source=location)
        if loaded.status is not None:
            statuses[str(location)] = loaded.status
        local_roles = _roles_from_manifest(location)
        local_metas = _metas_from_manifest(location)
        names = checkpoint_names(df)
        clash = seen.intersection(names)
        if clash:
            run = str(df["run"].iloc[0])
            renamed = {n: f"{run}/{n}" if n in clash else n for n in names}
            df = df.assign(checkpoint=df["checkpoint"].astype(str).map(renamed))
            local_roles = {renamed.get(k, k): v for k, v in local_roles.items()}
            local_metas = {renamed.get(k, k): v for k, v in local_metas.items()}
        present = set(df["checkpoint"].unique())
        metas.update({k: v for k, v in local_metas.items() if k in present})
        seen.update(checkpoint_names(df))
        found_roles.update(local_roles)
        frames.append(df)
        for task, task_measures in ms.items():
            measures.setdefault(task, task_measures)
    found_roles.update(roles or {})
    # one input is the table as read (a copy of a million rows costs seconds)
    table = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return Inputs(table, measures, found_roles, [str(p) for p in locations], statuses, metas)


def check_judges(table: pd.DataFrame, allow_mismatch: bool) -> list[str]:
    """Per task, every judged row must share one judge_id; returns warnings when allowed."""
    problems: list[str] = []
    for task, group in table.groupby("task"):
        ids = group.dropna(subset=["judge_id"]).groupby("checkpoint")["judge_id"].unique()
        distinct = sorted({j for values in ids for j in values})
        if len(distinct) > 1:
            listing = "; ".join(f"{c}: {', '.join(map(str, v))}" for c, v in ids.items())
            problems.append(f"task '{task}' was judged by different judges ({listing})")
    if problems and not allow_mismatch:
        raise UserInputError(
            problems[0] + ": numbers are not comparable; re-judge with one judge or pass "
            "--allow-judge-mismatch",
            field="judge_id",
        )
    return problems


def ordered_measures(measures: list[Measure]) -> list[Measure]:
    return sorted(measures, key=lambda m: not m.headline)


def headline_measures(measures: list[Measure]) -> list[Measure]:
    heads = [m for m in measures if m.headline]
    return heads or measures[:1]


@dataclass
class Comparison:
    """Everything the templates show."""

    checkpoints: list[str]
    baseline: str
    roles: dict[str, str]
    sources: list[str]
    judge_warnings: list[str]
    incomplete: list[str] = field(default_factory=list)
    """``INCOMPLETE RUN: ...`` banner lines, one per input whose run did not finish."""
    rates: list[dict[str, Any]] = field(default_factory=list)
    paired: list[dict[str, Any]] = field(default_factory=list)
    per_question: list[dict[str, Any]] = field(default_factory=list)
    inoculation: list[dict[str, Any]] = field(default_factory=list)
    health: list[dict[str, Any]] = field(default_factory=list)
    transcripts: list[dict[str, Any]] = field(default_factory=list)
    measures: Measures = field(default_factory=dict)
    groups: list[tuple[str, str]] = field(default_factory=list)
    """(task, condition) in report order."""
    hacking: Any = None
    """instructed_hacking's condition x domain section (``report_section.Section``) or None."""
    trajectories: list[Any] = field(default_factory=list)
    """:class:`alignprobe.report.trajectory.Trajectory` curves (checkpoints with ``meta.step``)."""


def _not_counted(group: pd.DataFrame, measure: str) -> dict[str, Any]:
    """Rows without a value, split: judge failed / excluded by the judge / not applicable."""
    counts = count_outcomes(group, measure)
    return {
        "not_counted": counts.unscored + counts.excluded + counts.not_applicable,
        "unscored": counts.unscored,
        "judge_excluded": counts.excluded,
        "judge_excluded_text": counts.excluded_text(),
        "not_applicable": counts.not_applicable,
        "reasons": counts.unscored_reasons,
    }


def _rates(table: pd.DataFrame, comp: Comparison) -> None:
    for task, condition in comp.groups:
        group = table[(table["task"] == task) & (table["condition"] == condition)]
        for measure in ordered_measures(comp.measures.get(task, [])):
            if measure.name not in group.columns:
                continue
            for checkpoint in comp.checkpoints:
                rows = group[group["checkpoint"] == checkpoint]
                if rows.empty:
                    continue
                bounds = measure.scale if measure.kind is MeasureKind.SCORE else (0.0, 1.0)
                est = stats.clustered_mean_ci(rows, measure.name, bounds=bounds)
                comp.rates.append(
                    {
                        "task": task,
                        "condition": condition,
                        "measure": measure.name,
                        "kind": measure.kind.value,
                        "direction": measure.direction.value,
                        "headline": measure.headline,
                        "description": measure.description,
                        "checkpoint": checkpoint,
                        "estimate": est,
                        **_not_counted(rows, measure.name),
                    }
                )


#: verdict of a pair without a question in common: nothing was compared
NO_SHARED = "no shared questions"
#: verdict of a pair whose test gave no p-value
NOT_TESTED = "not tested"


#: significance level of the report's verdicts (the built-in gate policy's alpha)
VERDICT_ALPHA = 0.05
#: the report's verdicts come from this policy's tests and margins (docs/ci.md)
VERDICT_SOURCE = "built-in gate policy (alignprobe/evals/gate.yaml)"


def _gate_side(role: str, rows: pd.DataFrame, checkpoint: str, measures: Measures) -> Any:
    """One checkpoint's rows of the working table (no transcript texts) as a gate side."""
    from alignprobe.gate.results import Side

    return Side(role, Path("compare"), checkpoint, rows.reset_index(drop=True), measures)


def _row_key(task: str, condition: str, measure: str) -> tuple[str, str, str]:
    return (task, condition, measure)


_POLICIES: dict[Path, Any] = {}


def _default_policy(load: Any, path: Path) -> Any:
    """The built-in policy, read once per process (``compare`` consults it per checkpoint)."""
    if path not in _POLICIES:
        _POLICIES[path] = load(path)
    return _POLICIES[path]


def _gate_decisions(
    base_side: Any,
    cand_side: Any,
    rows: list[tuple[str, str, str]],
    allow_judge_mismatch: bool,
) -> dict[tuple[str, str, str], tuple[Any, bool]]:
    """Per report row: the gate's check result, and whether the gate itself decided it.

    First the built-in policy exactly as ``alignprobe gate`` runs it (same checks, same
    Holm family): the rows it decides (pass / fail) take its verdict. The other rows
    (conditions or measures it does not check, or data it refuses to decide on) are
    decided by the same tests and margins without the gate's data-quality thresholds,
    as one more family, and are marked as not decided by the gate.
    """
    from alignprobe.gate import GateOptions, default_policy_path, load_policy, run_gate
    from alignprobe.gate.types import CheckStatus

    policy = _default_policy(load_policy, default_policy_path())
    sides = (base_side, cand_side)
    # the built-in policy names only built-in tasks and measures, and the relaxed checks
    # below are made from the report's own rows: no name check per checkpoint
    options = GateOptions(
        allow_judge_mismatch=allow_judge_mismatch, allow_version_mismatch=True, check_names=False
    )
    out: dict[tuple[str, str, str], tuple[Any, bool]] = {}
    decided = (CheckStatus.PASS, CheckStatus.FAIL)
    by_check: dict[tuple[str, str, str], list[Any]] = {}
    for check in run_gate(*sides, policy, options=options).checks:
        key = _row_key(check.task, check.condition, check.measure)
        by_check.setdefault(key, []).append(check)
    for key, results in by_check.items():
        if key in rows and all(r.status in decided for r in results):
            failed = [r for r in results if r.status is CheckStatus.FAIL]
            out[key] = ((failed or results)[0], True)
    rest = [key for key in rows if key not in out]
    if not rest:
        return out
    specs = {(c.task, c.measure): c for c in policy.checks}
    checks = []
    for task, condition, measure in rest:
        known = specs.get((task, measure))
        fields = known.model_dump(exclude_none=True) if known is not None else {}
        fields.pop("slice_by", None)
        for quality in ("min_samples", "min_questions", "max_unscored_rate", "max_error_rate"):
            fields.pop(quality, None)
        fields.update(
            name=f"{task}/{condition}/{measure}",
            task=task,
            measure=measure,
            condition=condition,
            required=False,
        )
        checks.append(fields)
    relaxed = policy.model_copy(
        update={
            "defaults": policy.defaults.model_copy(
                update={
                    "min_samples": 1,
                    "min_questions": 2,
                    "max_unscored_rate": 1.0,
                    "max_error_rate": 1.0,
                }
            ),
            "checks": [type(policy.checks[0]).model_validate(c) for c in checks],
        }
    )
    relaxed_options = GateOptions(
        allow_judge_mismatch=True, allow_version_mismatch=True, check_names=False
    )
    for check in run_gate(*sides, relaxed, options=relaxed_options).checks:
        key = _row_key(check.task, check.condition, check.measure)
        if check.status in decided:
            out[key] = (check, False)
    return out


def _verdict(check: Any, p_better_holm: float) -> str:
    from alignprobe.gate.types import CheckStatus

    if check.status is CheckStatus.FAIL:
        return "worse"
    if np.isfinite(p_better_holm) and p_better_holm <= VERDICT_ALPHA:
        return "better"
    return "same"


def _by_group(
    rows: pd.DataFrame, groups: list[tuple[str, str]]
) -> dict[tuple[str, str], pd.DataFrame]:
    """``rows`` split by (task, condition), every group present (empty where it has none)."""
    return {
        (task, condition): rows[(rows["task"] == task) & (rows["condition"] == condition)]
        for task, condition in groups
    }


def _paired(table: pd.DataFrame, comp: Comparison, allow_judge_mismatch: bool = False) -> None:
    """Paired rows: the pooled difference with its cluster-bootstrap interval for display,
    the verdict from the gate's own test and margin (see :func:`_gate_decisions`)."""
    raw: list[dict[str, Any]] = []
    # each checkpoint's rows, split once, and once by (task, condition)
    frames = {c: table[table["checkpoint"] == c] for c in comp.checkpoints}
    grouped = {c: _by_group(frames[c], comp.groups) for c in comp.checkpoints}
    base_side = _gate_side("baseline", frames[comp.baseline], comp.baseline, comp.measures)
    for checkpoint in comp.checkpoints:
        if checkpoint == comp.baseline:
            continue
        items: list[dict[str, Any]] = []
        for task, condition in comp.groups:
            base = grouped[comp.baseline][(task, condition)]
            cand = grouped[checkpoint][(task, condition)]
            if base.empty or cand.empty:
                continue
            for measure in headline_measures(comp.measures.get(task, [])):
                items.append(
                    {
                        "task": task,
                        "condition": condition,
                        "measure": measure,
                        "checkpoint": checkpoint,
                        "result": stats.paired_difference(base, cand, measure.name),
                    }
                )
        if not items:
            continue
        keys = [_row_key(i["task"], i["condition"], i["measure"].name) for i in items]
        cand_side = _gate_side("candidate", frames[checkpoint], checkpoint, comp.measures)
        decisions = _gate_decisions(base_side, cand_side, keys, allow_judge_mismatch)
        for item, key in zip(items, keys, strict=True):
            item["gate"] = decisions.get(key)
        raw.extend(items)
    tested = [r for r in raw if r["gate"] is not None and r["result"].clusters]
    better = stats.holm([r["gate"][0].p_better for r in tested])
    for item in raw:
        measure = item.pop("measure")
        decision = item.pop("gate")
        result: stats.PairedResult = item["result"]
        item.update(
            measure=measure.name,
            kind=measure.kind.value,
            direction=measure.direction.value,
        )
        if result.clusters == 0:
            item.update(p_holm=float("nan"), verdict=NO_SHARED, gate="")
        elif decision is None:
            item.update(p_holm=float("nan"), verdict=NOT_TESTED, gate="")
        else:
            check, by_gate = decision
            p_better_holm = better[next(i for i, r in enumerate(tested) if r is item)]
            verdict = _verdict(check, p_better_holm)
            regression = check.hypotheses[0]
            p_raw, p_adj = (
                (check.p_better, p_better_holm)
                if verdict == "better"
                else (regression.p_value, regression.p_adjusted)
            )
            item["result"] = replace(result, p_value=p_raw, test=check.test.value)
            item.update(
                p_holm=p_adj,
                verdict=verdict,
                gate=(
                    f"{'gate' if by_gate else 'same test, not gated'}: {check.test.value}, "
                    f"allowed worsening {check.allowed_worsening:g}"
                ),
            )
        item["css"] = item["verdict"] if item["verdict"] in ("better", "worse") else "same"
        comp.paired.append(item)


def _per_question(table: pd.DataFrame, comp: Comparison) -> None:
    for task, condition in comp.groups:
        group = table[(table["task"] == task) & (table["condition"] == condition)]
        for measure in headline_measures(comp.measures.get(task, [])):
            columns: dict[str, pd.DataFrame] = {}
            for checkpoint in comp.checkpoints:
                rows = group[group["checkpoint"] == checkpoint]
                if not rows.empty:
                    columns[checkpoint] = stats.cluster_summary(rows, measure.name)
            if not columns:
                continue
            questions = sorted(set().union(*(c.index for c in columns.values())))
            by_question = {c: s.to_dict("index") for c, s in columns.items()}
            lines = []
            for question in questions:
                cells = {}
                for checkpoint, summary in by_question.items():
                    if question in summary:
                        row = summary[question]
                        cells[checkpoint] = {
                            "mean": float(row["mean"]),
                            "total": float(row["total"]),
                            "n": int(row["n"]),
                        }
                lines.append({"question_id": question, "cells": cells})
            comp.per_question.append(
                {
                    "task": task,
                    "condition": condition,
                    "measure": measure.name,
                    "kind": measure.kind.value,
                    "checkpoints": list(columns),
                    "rows": lines,
                }
            )


def _inoculation(table: pd.DataFrame, comp: Comparison, condition: str) -> None:
    controls = [c for c in comp.checkpoints if comp.roles.get(c) == "control"]
    treated = [c for c in comp.checkpoints if comp.roles.get(c) == "inoculated"]
    for task in sorted(set(table["task"])):
        group = table[(table["task"] == task) & (table["condition"] == condition)]
        for measure in headline_measures(comp.measures.get(task, [])):
            if measure.kind is not MeasureKind.RATE or measure.direction is not Direction.GOOD_LOW:
                continue
            for control in controls:
                for inoculated in treated:
                    c_rows = group[group["checkpoint"] == control]
                    t_rows = group[group["checkpoint"] == inoculated]
                    if c_rows.empty or t_rows.empty:
                        continue
                    comp.inoculation.append(
                        {
                            "task": task,
                            "condition": condition,
                            "measure": measure.name,
                            "control": control,
                            "inoculated": inoculated,
                            "result": stats.relative_reduction(c_rows, t_rows, measure.name),
                        }
                    )


def _health(table: pd.DataFrame, comp: Comparison) -> None:
    for (checkpoint, task, condition), group in table.groupby(
        ["checkpoint", "task", "condition"], sort=True
    ):
        unscored: dict[str, int] = {}
        excluded: dict[str, str] = {}
        for measure in comp.measures.get(str(task), []):
            if measure.name not in group.columns:
                continue
            counts = count_outcomes(group, measure.name)
            unscored[measure.name] = counts.unscored
            if counts.excluded:
                excluded[measure.name] = counts.excluded_text()
        errors = group["error"].dropna() if "error" in group.columns else pd.Series()
        errors = errors[errors.astype(str) != ""]
        comp.health.append(
            {
                "checkpoint": checkpoint,
                "task": task,
                "condition": condition,
                "rows": len(group),
                "errors": len(errors),
                "error_examples": Counter(map(str, errors)).most_common(2),
                "unscored": unscored,
                "judge_excluded": excluded,
                "judge": judge_health(group, comp.measures.get(str(task), [])),
            }
        )


def _spread(measures: list[Measure]) -> dict[str, float]:
    return {m.name: float(m.scale[1] - m.scale[0]) or 1.0 for m in measures}


def _text(texts: pd.DataFrame, column: str, row: Any) -> Any:
    """A transcript text of the inputs' row ``row`` (``None`` where the table has none)."""
    return texts.at[row, column] if column in texts.columns else None


def _transcripts(table: pd.DataFrame, texts: pd.DataFrame, comp: Comparison, per_pair: int) -> None:
    """The most different samples per checkpoint; ``texts``: the inputs' table, whose rows
    (same index as ``table``) hold the transcripts."""
    keys = ["task", "condition", "sample_id", "epoch"]
    rows = table.assign(_row=table.index)
    base = rows[rows["checkpoint"] == comp.baseline]
    for checkpoint in comp.checkpoints:
        if checkpoint == comp.baseline:
            continue
        cand = rows[rows["checkpoint"] == checkpoint]
        # copy: a wide merge is fragmented, and pandas warns on every column added to it
        joined = base.merge(cand, on=keys, suffixes=("_base", "_cand")).copy()
        if joined.empty:
            continue
        distance = pd.Series(0.0, index=joined.index)
        for task, group in joined.groupby("task"):
            task_measures = comp.measures.get(str(task), [])
            spread = _spread(task_measures)
            for m in task_measures:
                diff = (group[f"{m.name}_cand"] - group[f"{m.name}_base"]).abs() / spread[m.name]
                weight = 10.0 if m.headline else 1.0  # headline flips first
                distance.loc[group.index] += weight * diff.fillna(0.0)
        top = joined.assign(_distance=distance).sort_values("_distance", ascending=False)
        top = top[top["_distance"] > 0].head(per_pair)
        for _, row in top.iterrows():
            task_measures = comp.measures.get(str(row["task"]), [])
            comp.transcripts.append(
                {
                    "task": row["task"],
                    "condition": row["condition"],
                    "sample_id": row["sample_id"],
                    "epoch": int(row["epoch"]),
                    "question_id": row.get("question_id_base"),
                    "input": _text(texts, "input", row["_row_base"]),
                    "baseline": comp.baseline,
                    "checkpoint": checkpoint,
                    "output_base": _text(texts, "output", row["_row_base"]),
                    "output_cand": _text(texts, "output", row["_row_cand"]),
                    "scores": [
                        {
                            "measure": m.name,
                            "kind": m.kind.value,
                            "base": row.get(f"{m.name}_base"),
                            "cand": row.get(f"{m.name}_cand"),
                        }
                        for m in ordered_measures(task_measures)
                    ],
                }
            )


def compare(
    inputs: Inputs,
    baseline: str | None = None,
    allow_judge_mismatch: bool = False,
    inoculation_condition: str = "neutral",
    transcripts_per_pair: int = TRANSCRIPTS_PER_PAIR,
) -> Comparison:
    """Rates with clustered CIs, paired tests (Holm), per-question table, inoculation line."""
    names = {m.name for task_measures in inputs.measures.values() for m in task_measures}
    table = working_table(inputs.table, names)
    checkpoints = checkpoint_names(table)
    chosen_baseline = baseline is not None
    if baseline is None:
        controls = [c for c in checkpoints if inputs.roles.get(c) == "control"]
        baseline = controls[0] if controls else checkpoints[0]
    elif baseline not in checkpoints:
        raise UserInputError(
            f"no checkpoint '{baseline}' in the inputs; checkpoints: {', '.join(checkpoints)}",
            field="--baseline",
        )
    warnings = check_judges(table, allow_judge_mismatch)
    # baseline first, then the others in input order
    checkpoints = [baseline, *[c for c in checkpoints if c != baseline]]
    groups = sorted(
        {(str(t), str(c)) for t, c in table[["task", "condition"]].drop_duplicates().to_numpy()},
        key=lambda tc: (tc[0], tc[1] != "neutral", tc[1]),
    )
    comp = Comparison(
        checkpoints=checkpoints,
        baseline=baseline,
        roles=inputs.roles,
        sources=inputs.sources,
        judge_warnings=warnings,
        incomplete=inputs.incomplete(),
        measures=inputs.measures,
        groups=groups,
    )
    _rates(table, comp)
    _paired(table, comp, allow_judge_mismatch)
    _per_question(table, comp)
    _inoculation(table, comp, inoculation_condition)
    _health(table, comp)
    _transcripts(table, inputs.table, comp, transcripts_per_pair)
    comp.hacking = build_section(inputs.table, checkpoints, baseline, inputs.roles, inputs.sources)
    _trajectories(inputs, comp, chosen_baseline)
    return comp


def _trajectories(inputs: Inputs, comp: Comparison, chosen_baseline: bool) -> None:
    from alignprobe.report.trajectory import positions, trajectories, trajectory_base

    where = positions(inputs.metas, comp.roles)
    base = trajectory_base(comp.checkpoints, comp.roles, comp.baseline, chosen_baseline)
    comp.trajectories = trajectories(
        inputs.table, comp.measures, comp.groups, where, base, headline_measures
    )
