"""What the gate decided, per check and overall; written as ``verdict.json``."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field, PrivateAttr

from alignprobe.gate.decide import QuestionData
from alignprobe.gate.types import (
    EXIT_CODES,
    CheckStatus,
    Correction,
    GateMode,
    GateTest,
    HypothesisKind,
)
from alignprobe.measures import Direction, MeasureKind


class SideSummary(BaseModel):
    """One checkpoint's data for one check."""

    checkpoint: str
    value: float | None = None
    """Pooled mean over scored rows (a rate for 0/1 measures)."""
    low: float | None = None
    high: float | None = None
    """Interval of ``value`` clustered by question (alignprobe.report.stats.clustered_mean_ci)."""
    rows: int = 0
    scored: int = 0
    questions: int = 0
    unscored: int = 0
    """Rows the judge failed on (``unscored_<measure>`` reason, no value)."""
    excluded: int = 0
    """Rows the judge excluded by design (``excluded_<measure>``: CODE, REFUSAL): no value,
    not a failure, never counted against ``max_unscored_rate``."""
    excluded_reasons: dict[str, int] = Field(default_factory=dict)
    """Excluded rows per reason label (``{"code": 14, "refusal": 3}``)."""
    unscored_rate: float = 0.0
    """``unscored / (scored + unscored + excluded)``: failures among the judged rows."""
    error_rate: float = 0.0
    judge_ids: list[str] = Field(default_factory=list)
    task_versions: list[str] = Field(default_factory=list)


class HypothesisResult(BaseModel):
    """One one-sided test inside a check."""

    kind: HypothesisKind
    threshold: float
    """The allowed worsening (regression) or the absolute limit (ceiling, floor)."""
    p_value: float
    p_adjusted: float | None = None
    """After the correction across all tested hypotheses of the gate (a non-inferiority
    hypothesis is not corrected: the gate passes only if every one is rejected, an
    intersection-union test, so each at alpha keeps a false pass at most alpha)."""
    rejected: bool = False
    z: float | None = None
    """Sequential look only: the test's z (``Φ⁻¹(1 - p_value)``, clipped to ±40)."""
    efficacy: float | None = None
    """Sequential look only: the z at or above which this hypothesis is rejected now."""
    futility: float | None = None
    """Sequential look only: the z below which it is accepted now (= ``efficacy`` at the
    last look)."""
    decision: str | None = None
    """Sequential look only: ``rejected``, ``accepted`` (futility) or ``continue``."""


class CheckResult(BaseModel):
    """One check (one slice of a sliced check)."""

    name: str
    check: str
    """The policy check this came from."""
    task: str
    measure: str
    condition: str
    slice: str | None = None
    """``column=value`` for a sliced check."""
    description: str = ""
    direction: Direction | None = None
    kind: MeasureKind | None = None
    status: CheckStatus
    mode: GateMode = GateMode.REGRESSION
    test: GateTest | None = None
    """The test this check ran (``auto`` resolved from the measure's kind)."""
    reasons: list[str] = Field(default_factory=list)
    baseline: SideSummary | None = None
    candidate: SideSummary | None = None
    shared_questions: int = 0
    change: float | None = None
    """Candidate minus baseline as the test sees it: for CMH the Mantel-Haenszel risk
    difference over shared questions, for the t-test the mean of per-question
    differences (``ci_method`` says which)."""
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float = 0.95
    ci_method: str | None = None
    """What ``change`` and its interval are (``alignprobe compare`` reports another
    quantity: the pooled difference with a cluster-bootstrap interval)."""
    allowed_worsening: float | None = None
    hypotheses: list[HypothesisResult] = Field(default_factory=list)
    mde: float | None = None
    """Minimum detectable effect at 80% power for the data this check had: in
    ``regression`` mode the smallest true worsening it fails with 80% probability; in
    ``non_inferiority`` mode the smallest margin it could show with 80% probability if
    nothing changed. ``None`` when not reachable (or not tested)."""
    mde_level: float | None = None
    """One-sided level the MDE is computed at (alpha over the hypotheses corrected
    together: the first Holm step, the strictest)."""
    mde_note: str | None = None
    """What ``mde`` is, in words (shown beside it)."""
    p_better: float | None = None
    """One-sided p that the candidate is better (margin 0, same test); ``alignprobe
    compare`` uses it for its "better" verdict, the gate never does."""
    look_fraction: float | None = None
    """Sequential look only: information fraction of this look (candidate answers per
    question over ``--max-samples-per-question``; 1 at the last look)."""
    look_level: float | None = None
    """Sequential look only: the one-sided level the design spends over all looks."""
    _data: QuestionData | None = PrivateAttr(default=None)
    _answers: list[float] = PrivateAttr(default_factory=list)
    """Candidate scored answers per question after each input (cumulative)."""


class SideInfo(BaseModel):
    source: str
    checkpoint: str


class Verdict(BaseModel):
    """The whole gate."""

    status: CheckStatus
    exit_code: int
    summary: str
    policy: str
    alpha: float
    correction: Correction
    test: GateTest
    baseline: SideInfo
    candidate: SideInfo
    allow_judge_mismatch: bool = False
    allow_version_mismatch: bool = False
    look: int | None = None
    """Sequential gate: this look (1-based) of ``of``; ``None`` for the fixed gate."""
    of: int | None = None
    spending: str | None = None
    futility_spending: str | None = None
    binding_futility: bool | None = None
    max_samples_per_question: int | None = None
    checks: list[CheckResult]

    def counts(self) -> dict[CheckStatus, int]:
        return {s: sum(1 for c in self.checks if c.status is s) for s in CheckStatus}

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.model_dump(mode="json"), indent=2) + "\n", "utf-8")
        return path


def overall(checks: list[CheckResult]) -> tuple[CheckStatus, str]:
    """Any regression fails; otherwise anything undecidable, or nothing tested, is exit 2;
    otherwise a check still open at a sequential look is exit 3."""
    by = {s: [c.name for c in checks if c.status is s] for s in CheckStatus}
    if by[CheckStatus.FAIL]:
        return CheckStatus.FAIL, f"regression in {', '.join(by[CheckStatus.FAIL])}"
    if by[CheckStatus.CANNOT_DECIDE]:
        return (
            CheckStatus.CANNOT_DECIDE,
            f"cannot decide {', '.join(by[CheckStatus.CANNOT_DECIDE])}",
        )
    if by[CheckStatus.CONTINUE]:
        return (
            CheckStatus.CONTINUE,
            f"not decided yet: {', '.join(by[CheckStatus.CONTINUE])} (run another round)",
        )
    if not by[CheckStatus.PASS]:
        return CheckStatus.CANNOT_DECIDE, "no check applies to these results (all skipped)"
    return CheckStatus.PASS, f"{len(by[CheckStatus.PASS])} check(s) passed"


def exit_code(status: CheckStatus) -> int:
    return EXIT_CODES.get(status, EXIT_CODES[CheckStatus.CANNOT_DECIDE])
