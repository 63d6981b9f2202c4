"""Run a whole gate: evaluate every check, correct across them, and decide."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from alignprobe.errors import ConfigError
from alignprobe.gate.checks import GateOptions, Looks, curable_by_rounds, evaluate_check
from alignprobe.gate.decide import MDE_POWER, adjust, minimum_detectable
from alignprobe.gate.names import check_names
from alignprobe.gate.policy import GatePolicy
from alignprobe.gate.results import Side
from alignprobe.gate.sequential import (
    CONTINUE,
    FAIL,
    equal_fractions,
    look_design,
    look_fractions,
    z_from_pvalues,
)
from alignprobe.gate.types import CheckStatus, GateMode, HypothesisKind
from alignprobe.gate.verdict import CheckResult, SideInfo, Verdict, exit_code, overall
from alignprobe.units import fmt


def _apply_correction(results: list[CheckResult], policy: GatePolicy) -> None:
    """Correct over every regression / limit hypothesis tested, then set the statuses.

    Non-inferiority hypotheses are not corrected: a check in that mode passes only when
    its own is rejected at alpha (intersection-union), so a false pass stays at most alpha.
    """
    live = [r for r in results if r.status is CheckStatus.PASS]
    tested = [h for r in live for h in r.hypotheses if h.kind not in _UNCORRECTED]
    for hypothesis, p in zip(
        tested, adjust([h.p_value for h in tested], policy.correction), strict=True
    ):
        hypothesis.p_adjusted = p
        hypothesis.rejected = p <= policy.alpha
    for result in live:
        for h in result.hypotheses:
            if h.kind in _UNCORRECTED:
                h.p_adjusted, h.rejected = h.p_value, h.p_value <= policy.alpha
        level = policy.alpha / max(1, len(tested))
        _minimum_detectable(result, level if result.mode is GateMode.REGRESSION else policy.alpha)
        failed = any(h.rejected for h in result.hypotheses if h.kind not in _UNCORRECTED)
        shown = all(h.rejected for h in result.hypotheses if h.kind in _UNCORRECTED)
        if failed:
            result.status = CheckStatus.FAIL
        elif not shown:
            result.status = CheckStatus.CANNOT_DECIDE
        result.reasons = [_explain(result, policy)]


#: hypotheses whose rejection is what a check needs to pass (not corrected)
_UNCORRECTED = frozenset({HypothesisKind.NON_INFERIORITY})
#: a look's z is clipped to this (the widest boundary :func:`look_design` can give)
_Z_LIMIT = 40.0


def _apply_looks(results: list[CheckResult], policy: GatePolicy, looks: Looks) -> None:
    """A sequential look: every tested hypothesis against its group-sequential boundaries.

    Holm does not carry over to repeated looks: each regression / limit hypothesis gets
    the design of level ``alpha / hypotheses tested`` (Bonferroni), a non-inferiority one
    ``alpha`` (intersection-union). A check fails when one of the first is rejected
    (efficacy boundary), passes when all are accepted (futility boundary) and, in
    ``non_inferiority`` mode, its own is rejected; it cannot decide when that one is
    accepted; otherwise it continues. Before the last look, a check whose only problem is
    a candidate short of ``min_samples`` continues untested (the next round adds answers).
    """
    if looks.look < looks.of:  # too few candidate answers so far: the next round adds more
        for result in results:
            if (
                result.status is CheckStatus.CANNOT_DECIDE
                and result.reasons
                and all(curable_by_rounds(reason) for reason in result.reasons)
            ):
                result.status = CheckStatus.CONTINUE
                result.reasons = [
                    f"not tested at look {looks.look} of {looks.of}: "
                    f"{'; '.join(result.reasons)}; run another round"
                ]
    live = [r for r in results if r.status is CheckStatus.PASS]
    tested = [h for r in live for h in r.hypotheses if h.kind not in _UNCORRECTED]
    level = policy.alpha / max(1, len(tested))
    for result in live:
        try:
            fractions = (
                equal_fractions(looks.of)
                if looks.max_samples is None
                else look_fractions(result._answers, looks.look, looks.of, looks.max_samples)
            )
        except ValueError as exc:
            result.status, result.reasons = CheckStatus.CANNOT_DECIDE, [str(exc)]
            continue
        result.look_fraction, result.look_level = fractions[looks.look - 1], level
        for h in result.hypotheses:
            own = policy.alpha if h.kind in _UNCORRECTED else level
            design = look_design(
                looks.of, own, looks.spending, fractions, looks.futility_spending, looks.binding
            )
            z = float(z_from_pvalues(np.asarray(h.p_value))[()])
            h.z = max(-_Z_LIMIT, min(_Z_LIMIT, z)) if not math.isnan(z) else 0.0
            decision = int(design.decide(h.z, looks.look))
            h.efficacy = design.efficacy[looks.look - 1]
            h.futility = design.futility[looks.look - 1]
            h.rejected = decision == FAIL
            h.decision = (
                "rejected" if h.rejected else "continue" if decision == CONTINUE else "accepted"
            )
        _minimum_detectable(result, level if result.mode is GateMode.REGRESSION else policy.alpha)
        checked = [h for h in result.hypotheses if h.kind not in _UNCORRECTED]
        needed = [h for h in result.hypotheses if h.kind in _UNCORRECTED]
        if any(h.rejected for h in checked):
            result.status = CheckStatus.FAIL
        elif any(h.decision == "accepted" for h in needed):
            result.status = CheckStatus.CANNOT_DECIDE
        elif any(h.decision == "continue" for h in result.hypotheses):
            result.status = CheckStatus.CONTINUE
        result.reasons = [_explain(result, policy, looks)]


def _minimum_detectable(result: CheckResult, level: float) -> None:
    data = result._data
    if data is None or result.test is None or result.allowed_worsening is None:
        return
    result.mde_level = level
    result.mde = minimum_detectable(
        data, result.allowed_worsening, result.test, level, result.mode, MDE_POWER
    )
    kind = result.kind
    n = int(data.base_n.sum() + data.cand_n.sum())
    what = f"{result.shared_questions} questions, {n} answers, one-sided level {level:.3g}"
    if result.mode is GateMode.REGRESSION:
        result.mde_note = (
            f"catches a true worsening of {fmt(result.mde, kind, delta=True)} or more with "
            f"{MDE_POWER:.0%} probability ({what})"
            if result.mde is not None
            else f"no worsening is caught with {MDE_POWER:.0%} probability ({what})"
        )
    else:
        result.mde_note = (
            f"with no true change, shows the candidate within {fmt(result.mde, kind, delta=True)}"
            f" of the baseline with {MDE_POWER:.0%} probability ({what})"
            if result.mde is not None
            else f"cannot show any margin with {MDE_POWER:.0%} probability ({what})"
        )


def _explain(result: CheckResult, policy: GatePolicy, looks: Looks | None = None) -> str:
    """What changed, and for each tested hypothesis what it found."""
    kind = result.kind
    parts = [
        f"change {fmt(result.change, kind, delta=True)} "
        f"({result.ci_level:.0%} CI {fmt(result.ci_low, kind, delta=True)} to "
        f"{fmt(result.ci_high, kind, delta=True)}; {result.test.value if result.test else '-'})"
    ]
    for h in result.hypotheses:
        what = {
            HypothesisKind.REGRESSION: f"worse than the allowed {fmt(h.threshold, kind, delta=True)}",
            HypothesisKind.CEILING: f"above the ceiling {fmt(h.threshold, kind)}",
            HypothesisKind.FLOOR: f"below the floor {fmt(h.threshold, kind)}",
            HypothesisKind.NON_INFERIORITY: (
                f"less worse than the allowed {fmt(h.threshold, kind, delta=True)} (non-inferior)"
            ),
        }[h.kind]
        if looks is not None and h.z is not None:
            verdict = {"rejected": "significantly", "accepted": "not significantly"}.get(
                h.decision or "", "not yet decided whether"
            )
            level = policy.alpha if h.kind in _UNCORRECTED else result.look_level
            parts.append(
                f"{verdict} {what} (look {looks.look} of {looks.of}, information "
                f"{result.look_fraction:.2f}: z={h.z:.2f}, reject at z >= {h.efficacy:.2f}, "
                f"accept below {h.futility:.2f}; one-sided level {level:.3g} over all looks)"
            )
            continue
        verdict = "significantly" if h.rejected else "not significantly"
        adjusted = (
            "not corrected (each must hold)"
            if h.kind in _UNCORRECTED
            else f"{policy.correction.value}-adjusted {h.p_adjusted:.3g}"
        )
        parts.append(
            f"{verdict} {what} (one-sided p={h.p_value:.3g}, {adjusted}, α={policy.alpha:g})"
        )
    if result.mode is GateMode.NON_INFERIORITY and result.status is CheckStatus.CANNOT_DECIDE:
        parts.append("non_inferiority not shown: the data cannot rule out the allowed worsening")
    if result.mde_note:
        parts.append(f"MDE: {result.mde_note}")
    return "; ".join(parts)


def run_gate(
    baseline: Side,
    candidate: Side,
    policy: GatePolicy,
    *,
    policy_source: str | Path = "",
    options: GateOptions | None = None,
) -> Verdict:
    """Decide whether ``candidate`` regressed against ``baseline`` under ``policy``.

    Raises :class:`~alignprobe.errors.ConfigError` before deciding anything if a check
    names a task, measure or condition that neither alignprobe nor the results define.
    """
    options = options or GateOptions()
    if options.check_names:
        check_names(policy, (baseline, candidate), policy_source or None)
    results: list[CheckResult] = []
    corrected: list[CheckResult] = []
    for spec in policy.checks:
        checked = evaluate_check(policy.settings(spec), policy, baseline, candidate, options)
        if options.gold is not None:
            from alignprobe.gate.gold import apply_gold

            corrected += [r for r in checked if apply_gold(r, baseline, candidate, options.gold)]
        results.extend(checked)
    if options.gold is not None and not corrected:
        raise ConfigError(
            "no rate check of the policy is on a task and measure the gold labels cover",
            field="--gold",
        )
    if options.looks is None:
        _apply_correction(results, policy)
    else:
        _apply_looks(results, policy, options.looks)
    for result in corrected:
        if result.ci_method and result.ci_method.startswith("difference of PPI"):
            result.reasons.append(f"decided on the {result.ci_method}")
    status, summary = overall(results)
    looks = options.looks
    return Verdict(
        status=status,
        exit_code=exit_code(status),
        summary=summary,
        policy=str(policy_source or policy.source or ""),
        alpha=policy.alpha,
        correction=policy.correction,
        test=policy.test,
        baseline=SideInfo(source=baseline.where, checkpoint=baseline.checkpoint),
        candidate=SideInfo(source=candidate.where, checkpoint=candidate.checkpoint),
        allow_judge_mismatch=options.allow_judge_mismatch,
        allow_version_mismatch=options.allow_version_mismatch,
        look=looks.look if looks else None,
        of=looks.of if looks else None,
        spending=looks.spending if looks else None,
        futility_spending=(looks.futility_spending or looks.spending) if looks else None,
        binding_futility=looks.binding if looks else None,
        max_samples_per_question=looks.max_samples if looks else None,
        checks=results,
    )
