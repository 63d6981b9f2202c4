"""Evaluate one policy check on the two sides: select rows, vet the data, run the tests.

Produces :class:`CheckResult` objects with raw (uncorrected) p-values; the correction
across checks and the pass/fail status are applied afterwards by :mod:`engine`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

import numpy as np
import pandas as pd

from alignprobe.gate.decide import (
    QuestionData,
    allowed_worsening,
    change_estimate,
    limit_pvalue,
    resolve_test,
    worsening_pvalues,
)
from alignprobe.gate.eval_aware import drop_eval_aware
from alignprobe.gate.policy import ANY_CONDITION, CheckSettings, GatePolicy
from alignprobe.gate.results import INPUT_COLUMN, Side
from alignprobe.gate.types import CheckStatus, GateMode, GateTest, HypothesisKind
from alignprobe.gate.verdict import CheckResult, HypothesisResult, SideSummary
from alignprobe.measures import Direction, Measure
from alignprobe.report.stats import DEFAULT_CLUSTER, cluster_summary, clustered_mean_ci
from alignprobe.results.labels import as_text
from alignprobe.results.outcomes import count_outcomes

T = TypeVar("T")

#: condition assumed for rows that record none (imported published results)
UNRECORDED_CONDITION = "neutral"


@dataclass(frozen=True)
class Looks:
    """A sequential gate's look: ``look`` of ``of``, fractions from ``max_samples``."""

    look: int
    of: int
    max_samples: int | None
    """Planned candidate answers per question at the last look; ``None``: equal rounds
    within one run (``alignprobe run --until-decided``), look ``k`` at fraction ``k / of``."""
    spending: str = "obrien-fleming"
    """Alpha-spending function (:func:`alignprobe.gate.sequential.check_spending`)."""
    futility_spending: str | None = None
    """Beta-spending function of the futility bounds (``None``: ``spending``)."""
    binding: bool = False
    """Efficacy bounds computed with every futility stop taken."""


@dataclass(frozen=True)
class GateOptions:
    allow_judge_mismatch: bool = False
    allow_version_mismatch: bool = False
    looks: Looks | None = None
    gold: Any = None
    """:class:`alignprobe.gate.gold.GoldCorrection`: decide labelled rate checks on
    PPI-corrected rates (``--gold``)."""
    check_names: bool = True
    """``False``: the policy's task, measure and condition names were checked already (a
    caller that runs one policy many times, as ``compare`` does once per checkpoint)."""


def _derived(side: Side, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()`` once per side and ``key`` (what the value is of)."""
    if key not in side.derived:
        side.derived[key] = compute()
    return cast(T, side.derived[key])


def _rows(side: Side, task: str, condition: str) -> pd.DataFrame:
    return _derived(side, ("rows", task, condition), lambda: _select(side, task, condition))


def _select(side: Side, task: str, condition: str) -> pd.DataFrame:
    rows = side.table[as_text(side.table["task"]) == task]
    if condition == ANY_CONDITION:
        return rows
    if "condition" not in rows.columns:
        return rows if condition == UNRECORDED_CONDITION else rows.iloc[:0]
    recorded = as_text(rows["condition"])
    unrecorded = recorded.isna() & (condition == UNRECORDED_CONDITION)
    return rows[(recorded == condition) | unrecorded]


def _values(rows: pd.DataFrame, column: str) -> list[str]:
    if column not in rows.columns:
        return []
    # distinct values first: a million rows hold a handful of judges and versions
    return sorted({str(v) for v in rows[column].dropna().unique() if str(v)})


def summarize(side: Side, rows: pd.DataFrame, measure: str) -> SideSummary:
    """Value (with a question-clustered interval), counts and data-quality rates.

    Rows the judge excluded by design (CODE / REFUSAL) are counted apart from rows it
    failed on: only failures make up ``unscored_rate``.
    """
    scored = rows[measure].notna() if measure in rows.columns else pd.Series(False, rows.index)
    counts = count_outcomes(rows, measure)
    errors = (
        rows["error"].notna() & (as_text(rows["error"]) != "")
        if "error" in rows.columns
        else pd.Series(False, index=rows.index)
    )
    summary = SideSummary(
        checkpoint=side.checkpoint,
        rows=len(rows),
        scored=counts.scored,
        questions=rows.loc[scored, DEFAULT_CLUSTER].nunique() if len(rows) else 0,
        unscored=counts.unscored,
        excluded=counts.excluded,
        excluded_reasons=counts.excluded_reasons,
        unscored_rate=counts.unscored_rate,
        error_rate=float(errors.sum() / len(rows)) if len(rows) else 0.0,
        judge_ids=_values(rows, "judge_id"),
        task_versions=_values(rows, "task_version"),
    )
    if summary.scored:
        estimate = clustered_mean_ci(rows, measure)
        summary.value, summary.low, summary.high = estimate.value, estimate.low, estimate.high
    return summary


_TOO_FEW = "fewer than min_samples"


def curable_by_rounds(reason: str) -> bool:
    """Is this cannot-decide reason one that more candidate rounds cure (too few samples
    so far)? Only the candidate grows between sequential looks."""
    return reason.startswith("candidate: ") and _TOO_FEW in reason


def _quality(
    settings: CheckSettings,
    base: SideSummary,
    cand: SideSummary,
    shared: int,
    options: GateOptions,
) -> list[str]:
    """Reasons the data cannot support a decision (fail closed)."""
    reasons: list[str] = []
    for role, s in (("baseline", base), ("candidate", cand)):
        if s.error_rate > settings.max_error_rate:
            reasons.append(
                f"{role}: {s.error_rate:.1%} of rows ended in a sample error "
                f"(limit {settings.max_error_rate:.1%})"
            )
        if s.unscored_rate > settings.max_unscored_rate:
            judged = s.scored + s.unscored + s.excluded
            reasons.append(
                f"{role}: judge could not score {s.unscored_rate:.1%} of rows "
                f"({s.unscored} of {judged} judged; limit {settings.max_unscored_rate:.1%})"
            )
        if s.scored < settings.min_samples:
            reasons.append(f"{role}: {s.scored} scored samples, {_TOO_FEW} {settings.min_samples}")
    if shared < settings.min_questions:
        reasons.append(
            f"{shared} question(s) shared by baseline and candidate, fewer than "
            f"min_questions {settings.min_questions}"
        )
    if base.judge_ids != cand.judge_ids and not options.allow_judge_mismatch:
        reasons.append(
            f"judged differently: baseline {base.judge_ids or ['none']} vs candidate "
            f"{cand.judge_ids or ['none']} (--allow-judge-mismatch to compare anyway)"
        )
    if base.task_versions != cand.task_versions and not options.allow_version_mismatch:
        reasons.append(
            f"task versions differ: baseline {base.task_versions} vs candidate "
            f"{cand.task_versions} (--allow-version-mismatch to compare anyway)"
        )
    return reasons


def _input_judges(role: str, rows: pd.DataFrame) -> list[str]:
    """A side given as several inputs must be judged alike in each (the mismatch refusal)."""
    if INPUT_COLUMN not in rows.columns:
        return []
    judged = {
        int(n): _values(rows[rows[INPUT_COLUMN] == n], "judge_id")
        for n in rows[INPUT_COLUMN].unique()
    }
    first = min(judged)
    return [
        f"{role} inputs judged differently: input {first} {judged[first] or ['none']} vs "
        f"input {n} {ids or ['none']} (--allow-judge-mismatch to compare anyway)"
        for n, ids in sorted(judged.items())
        if ids != judged[first]
    ][:1]


def answers_per_question(rows: pd.DataFrame, measure: str) -> list[float]:
    """Scored answers per question after each input (cumulative; one value without inputs)."""
    scored = rows[rows[measure].notna()]
    questions = max(1, scored[DEFAULT_CLUSTER].nunique())
    if INPUT_COLUMN not in scored.columns:
        return [len(scored) / questions]
    counts = scored.groupby(INPUT_COLUMN).size().sort_index().cumsum()
    return [float(c) / questions for c in counts]


def _hypotheses(
    settings: CheckSettings,
    test: GateTest,
    data: QuestionData,
    margin: float,
    candidate_means: np.ndarray,
) -> list[HypothesisResult]:
    spec = settings.spec
    seed = 0  # fixed: the same data always gives the same verdict

    def p(alternative: Literal["worse", "not-worse"]) -> float:
        return float(worsening_pvalues(data, margin, test, alternative, seed)[0])

    out = [HypothesisResult(kind=HypothesisKind.REGRESSION, threshold=margin, p_value=p("worse"))]
    if settings.mode is GateMode.NON_INFERIORITY:
        out.append(
            HypothesisResult(
                kind=HypothesisKind.NON_INFERIORITY, threshold=margin, p_value=p("not-worse")
            )
        )
    if spec.ceiling is not None:
        pc = limit_pvalue(candidate_means, spec.ceiling, above=True)
        out.append(
            HypothesisResult(kind=HypothesisKind.CEILING, threshold=spec.ceiling, p_value=pc)
        )
    if spec.floor is not None:
        pf = limit_pvalue(candidate_means, spec.floor, above=False)
        out.append(HypothesisResult(kind=HypothesisKind.FLOOR, threshold=spec.floor, p_value=pf))
    return out


def _binary(rows: pd.DataFrame, measure: str) -> bool:
    values = pd.to_numeric(rows[measure], errors="coerce").dropna().to_numpy(dtype=float)
    return bool(np.isin(values, (0.0, 1.0)).all())


def question_data(joined: pd.DataFrame, test: GateTest, direction: Direction) -> QuestionData:
    """Per-question counts, oriented so larger is worse (bad answers for a rate)."""
    n_base = joined["n_base"].to_numpy(dtype=float)[np.newaxis, :]
    n_cand = joined["n_cand"].to_numpy(dtype=float)[np.newaxis, :]
    t_base = joined["total_base"].to_numpy(dtype=float)[np.newaxis, :]
    t_cand = joined["total_cand"].to_numpy(dtype=float)[np.newaxis, :]
    if direction is Direction.GOOD_LOW:
        return QuestionData(n_base, t_base, n_cand, t_cand)
    if test is GateTest.CMH:  # a good-high rate: its 0s are the bad answers
        return QuestionData(n_base, n_base - t_base, n_cand, n_cand - t_cand)
    return QuestionData(n_base, -t_base, n_cand, -t_cand)


def _evaluate_slice(
    result: CheckResult,
    settings: CheckSettings,
    policy: GatePolicy,
    base_rows: pd.DataFrame,
    cand_rows: pd.DataFrame,
    base: Side,
    cand: Side,
    options: GateOptions,
) -> CheckResult:
    measure = settings.spec.measure
    # what these rows are: the same on every run of the policy against this side
    key = (settings.spec.task, settings.condition, result.slice, settings.exclude_eval_aware)

    def summary(side: Side, rows: pd.DataFrame) -> SideSummary:
        made = _derived(side, ("summary", *key, measure), lambda: summarize(side, rows, measure))
        return made.model_copy()  # a gold correction changes its own result's summary

    def clusters(side: Side, rows: pd.DataFrame) -> pd.DataFrame:
        return _derived(side, ("clusters", *key, measure), lambda: cluster_summary(rows, measure))

    result.baseline = summary(base, base_rows)
    result.candidate = summary(cand, cand_rows)
    cand_clusters = clusters(cand, cand_rows)
    joined = clusters(base, base_rows).join(
        cand_clusters, lsuffix="_base", rsuffix="_cand", how="inner"
    )
    result.shared_questions = len(joined)
    reasons = [*base.run_problems, *cand.run_problems]
    reasons += _quality(settings, result.baseline, result.candidate, len(joined), options)
    if not options.allow_judge_mismatch:
        reasons += _input_judges("baseline", base_rows) + _input_judges("candidate", cand_rows)
    if reasons:
        result.status, result.reasons = CheckStatus.CANNOT_DECIDE, reasons
        return result
    direction = result.direction or Direction.GOOD_LOW
    binary = _binary(base_rows, measure) and _binary(cand_rows, measure)
    test = resolve_test(settings.test, result.kind, binary)
    result.test = test
    if test is GateTest.CMH and not binary:
        result.status = CheckStatus.CANNOT_DECIDE
        result.reasons = [f"test cmh needs 0/1 values; '{measure}' has others (use t-test)"]
        return result
    sign = 1.0 if direction is Direction.GOOD_LOW else -1.0
    margin = allowed_worsening(
        float(joined["mean_base"].mean()),
        settings.max_worsening,
        settings.max_relative_worsening,
    )
    if settings.mode is GateMode.NON_INFERIORITY and margin <= 0:
        result.status = CheckStatus.CANNOT_DECIDE
        result.reasons = [
            "non_inferiority with an allowed worsening of 0 (relative margin of a baseline "
            "at 0): nothing can show 'worse by less than nothing'; set max_worsening"
        ]
        return result
    data = question_data(joined, test, direction)
    worsening, low, high, result.ci_method = change_estimate(data, test, policy.ci_level)
    result.change = sign * worsening
    result.ci_low, result.ci_high = sorted((sign * low, sign * high))
    result.allowed_worsening = margin
    candidate_means = cand_clusters["mean"].to_numpy(dtype=float)
    result.hypotheses = _hypotheses(settings, test, data, margin, candidate_means)
    result.p_better = float(worsening_pvalues(data, 0.0, test, "not-worse")[0])
    result._data = data
    result._answers = answers_per_question(cand_rows, measure)
    result.status = CheckStatus.PASS  # provisional: the correction across checks decides
    return result


def _slice(
    side: Side, key: tuple[Any, ...], rows: pd.DataFrame, column: str, value: str
) -> pd.DataFrame:
    """``rows`` (the side's rows selected by ``key``) whose ``column`` reads ``value``."""
    return _derived(
        side, ("slice", *key, column, value), lambda: rows[as_text(rows[column]) == value]
    )


def _measure_spec(settings: CheckSettings, base: Side, cand: Side) -> Measure | None:
    task, name = settings.spec.task, settings.spec.measure
    return cand.measure(task, name) or base.measure(task, name)


def evaluate_check(
    settings: CheckSettings, policy: GatePolicy, base: Side, cand: Side, options: GateOptions
) -> list[CheckResult]:
    """One result per slice (or one for an unsliced check), with raw p-values."""
    spec = settings.spec
    measure = _measure_spec(settings, base, cand)
    template = CheckResult(
        name=spec.name,
        check=spec.name,
        task=spec.task,
        measure=spec.measure,
        condition=settings.condition,
        description=spec.description or (measure.description if measure else ""),
        direction=spec.direction or (measure.direction if measure else None),
        kind=measure.kind if measure else None,
        status=CheckStatus.CANNOT_DECIDE,
        mode=settings.mode,
        ci_level=policy.ci_level,
    )
    base_rows = _rows(base, spec.task, settings.condition)
    cand_rows = _rows(cand, spec.task, settings.condition)

    def stop(status: CheckStatus, reason: str) -> list[CheckResult]:
        return [template.model_copy(update={"status": status, "reasons": [reason]})]

    where = f"task '{spec.task}' under condition '{settings.condition}'"
    if base_rows.empty and cand_rows.empty:
        if settings.required:
            return stop(
                CheckStatus.CANNOT_DECIDE,
                f"required check: no rows for {where} in either result "
                "('required: false' would skip it)",
            )
        return stop(CheckStatus.SKIPPED, f"optional check: no rows for {where} in either result")
    for role, rows in (("baseline", base_rows), ("candidate", cand_rows)):
        if rows.empty:
            return stop(CheckStatus.CANNOT_DECIDE, f"{role} has no rows for {where}")
        if spec.measure not in rows.columns:
            return stop(CheckStatus.CANNOT_DECIDE, f"{role} table has no column '{spec.measure}'")
    if settings.exclude_eval_aware:
        kept = drop_eval_aware(base_rows, "baseline"), drop_eval_aware(cand_rows, "candidate")
        if problem := next((k.problem for k in kept if k.problem), None):
            return stop(CheckStatus.CANNOT_DECIDE, problem)
        base_rows, cand_rows = kept[0].rows, kept[1].rows
    if template.direction is None:
        return stop(
            CheckStatus.CANNOT_DECIDE,
            f"no measure spec for '{spec.measure}' in measures.json; set 'direction' in the policy",
        )
    if spec.slice_by is None:
        return [
            _evaluate_slice(template, settings, policy, base_rows, cand_rows, base, cand, options)
        ]
    column = spec.slice_by
    if column not in base_rows.columns or column not in cand_rows.columns:
        return stop(CheckStatus.CANNOT_DECIDE, f"slice_by column '{column}' is not in both tables")
    results = []
    slice_key = (spec.task, settings.condition, settings.exclude_eval_aware)
    for value in sorted(set(_values(base_rows, column)) | set(_values(cand_rows, column))):
        label = f"{column}={value}"
        sliced = template.model_copy(update={"name": f"{spec.name}[{label}]", "slice": label})
        results.append(
            _evaluate_slice(
                sliced,
                settings,
                policy,
                _slice(base, slice_key, base_rows, column, value),
                _slice(cand, slice_key, cand_rows, column, value),
                base,
                cand,
                options,
            )
        )
    return results
