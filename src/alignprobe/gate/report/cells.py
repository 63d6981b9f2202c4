"""Cell texts shared by every rendering, so the terminal, Markdown and JUnit agree."""

from __future__ import annotations

from collections.abc import Callable

from alignprobe.gate.types import CheckStatus, GateTest
from alignprobe.gate.verdict import CheckResult, SideSummary, Verdict
from alignprobe.units import fmt

STATUS_LABEL = {
    CheckStatus.PASS: "PASS",
    CheckStatus.FAIL: "FAIL",
    CheckStatus.CANNOT_DECIDE: "CANNOT DECIDE",
    CheckStatus.CONTINUE: "CONTINUE",
    CheckStatus.SKIPPED: "SKIPPED",
}
HEADERS = (
    "status",
    "check",
    "baseline",
    "candidate",
    "change [CI] (test)",
    "allowed",
    "p (adj.)",
    "MDE 80%",
)
#: one line under every table saying what the change and its interval are
CHANGE_NOTE = (
    "change = candidate - baseline as the check's test sees it: cmh (rates) = Mantel-Haenszel "
    "risk difference over questions, [CI] = the margins the stratified score test does not "
    "reject; t-test / sign-flip (scores) = mean of per-question differences, [CI] = t interval "
    "on those differences. MDE 80% = the smallest true worsening the check catches with 80% "
    "probability on the data it had (non_inferiority: the smallest margin it could show). "
    "alignprobe compare shows the pooled difference with a cluster-bootstrap interval beside "
    "the same verdict, so its interval can differ"
)


def look_text(verdict: Verdict) -> str:
    """The sequential look in words (empty for the fixed gate)."""
    if verdict.look is None:
        return ""
    planned = (
        "equal rounds"
        if verdict.max_samples_per_question is None
        else f"planned maximum {verdict.max_samples_per_question} answers per question"
    )
    spending = f"{verdict.spending} spending"
    if verdict.futility_spending not in (None, verdict.spending):
        spending += f", {verdict.futility_spending} futility"
    if verdict.binding_futility:
        spending += ", binding futility"
    return f"sequential look {verdict.look} of {verdict.of} ({spending}, {planned})"


def method_text(verdict: Verdict) -> str:
    """The tests, the level and the look (or the multiplicity correction) of a verdict."""
    design = look_text(verdict) if verdict.look else f"{verdict.correction.value} correction"
    return f"{tests_text(verdict.test)}, α={verdict.alpha:g}, {design}"


def tests_text(test: GateTest) -> str:
    """The policy's test in words (``auto`` named with what it picks)."""
    if test is GateTest.AUTO:
        return "one-sided tests (auto: cmh for rates, t-test for scores)"
    return f"one-sided {test.value}"


def value(check: CheckResult, x: float | None, signed: bool = False) -> str:
    return fmt(x, check.kind, delta=signed)


def side(check: CheckResult, s: SideSummary | None) -> str:
    if s is None or s.value is None:
        return "-"
    return f"{value(check, s.value)} (n={s.scored}, q={s.questions})"


def change(check: CheckResult) -> str:
    if check.change is None:
        return "-"
    interval = (
        f" [{fmt(check.ci_low, check.kind, delta=True)}, {fmt(check.ci_high, check.kind, delta=True)}]"
        if check.ci_low is not None and check.ci_high is not None
        else ""
    )
    test = f" ({check.test.value})" if check.test is not None else ""
    return value(check, check.change, signed=True) + interval + test


def mde(check: CheckResult) -> str:
    if check.mde_level is None:
        return "-"
    if check.mde is None:
        return "not reachable"
    return fmt(check.mde, check.kind, delta=True)


def allowed(check: CheckResult) -> str:
    if check.allowed_worsening is None:
        return "-"
    # shown as the change that would be just allowed: up for good-low, down for good-high
    worse = 1.0 if check.direction is None or check.direction.value == "good-low" else -1.0
    text = fmt(worse * check.allowed_worsening, check.kind, delta=True)
    if check.mode.value == "non_inferiority":
        text += " (non-inferiority)"
    limits = [f"{h.kind.value} {value(check, h.threshold)}" for h in check.hypotheses[1:]]
    return ", ".join([text, *limits])


def p_adjusted(check: CheckResult) -> str:
    ps = [h.p_adjusted for h in check.hypotheses if h.p_adjusted is not None]
    if not ps and check.hypotheses and check.hypotheses[0].z is not None:
        first = check.hypotheses[0]  # a sequential look: z against this look's bounds
        return f"z={first.z:.2f} [{first.futility:.2f}, {first.efficacy:.2f})"
    return f"{min(ps):.3g}" if ps else "-"


def row(check: CheckResult) -> tuple[str, ...]:
    return (
        STATUS_LABEL[check.status],
        check.name,
        side(check, check.baseline),
        side(check, check.candidate),
        change(check),
        allowed(check),
        p_adjusted(check),
        mde(check),
    )


def why(check: CheckResult) -> str:
    return "; ".join(check.reasons)


def _side_counts(role: str, s: SideSummary | None) -> str | None:
    if s is None or not (s.excluded or s.unscored):
        return None
    judged = s.scored + s.unscored + s.excluded
    parts = [f"{role} {s.scored} scored"]
    if s.excluded:
        listing = ", ".join(f"{n} {reason}" for reason, n in s.excluded_reasons.items())
        parts.append(f"excluded by the judge: {listing} (not failures)")
    parts.append(f"unscored (judge failed) {s.unscored} of {judged} ({s.unscored_rate:.1%})")
    return "; ".join(parts)


def counts(check: CheckResult) -> str:
    """Rows without a value, per side: excluded by the judge vs judge failures (or empty)."""
    sides = [_side_counts("baseline", check.baseline), _side_counts("candidate", check.candidate)]
    return " | ".join(s for s in sides if s)


def rows_without_value(verdict: Verdict) -> list[tuple[str, str]]:
    """(check name, :func:`counts`) for each check some of whose rows have no value."""
    return [(c.name, text) for c in verdict.checks if (text := counts(c))]


def explanations(verdict: Verdict) -> list[tuple[str, str, str]]:
    """(status label, check name, text) for each check a rendering explains under its
    table: first the passes with an MDE note (how thin their data were: what they would
    have caught), then every check that did not pass, with why."""
    passed = [
        (STATUS_LABEL[c.status], c.name, f"MDE: {c.mde_note}")
        for c in verdict.checks
        if c.status is CheckStatus.PASS and c.mde_note
    ]
    not_passed = [
        (STATUS_LABEL[c.status], c.name, why(c))
        for c in verdict.checks
        if c.status is not CheckStatus.PASS
    ]
    return passed + not_passed


def notes_under_table(
    verdict: Verdict, without_value: str, explained: str, escape: Callable[[str], str] = str
) -> list[str]:
    """The lines every rendering puts under its table, in the rendering's own line formats:
    one ``without_value`` line (``{name}``, ``{text}``) per :func:`rows_without_value`,
    then one ``explained`` line (``{label}``, ``{name}``, ``{text}``) per
    :func:`explanations`; each block after a blank line, and only if it has lines.
    ``escape`` is applied to every value (Markdown keeps a ``|`` from splitting a cell)."""
    lines: list[str] = []
    data = rows_without_value(verdict)
    if data:
        lines.append("")
        lines.extend(without_value.format(name=escape(n), text=escape(t)) for n, t in data)
    notes = explanations(verdict)
    if notes:
        lines.append("")
        lines.extend(
            explained.format(label=escape(label), name=escape(n), text=escape(t))
            for label, n, t in notes
        )
    return lines
