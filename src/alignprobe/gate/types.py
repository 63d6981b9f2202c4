"""Categorical values of the gate, defined once."""

from __future__ import annotations

from enum import StrEnum


class CheckStatus(StrEnum):
    """Outcome of one check (and, for the worst of them, of the whole gate)."""

    PASS = "pass"
    """No significant worsening beyond the allowed margin, and no limit breached."""
    FAIL = "fail"
    """A regression: worse than allowed, significant after the multiplicity correction."""
    CANNOT_DECIDE = "cannot-decide"
    """The data cannot support a decision (too few samples, judge mismatch, errors, ...)."""
    CONTINUE = "continue"
    """A sequential look (``--look k --of K``, k < K) crossed neither boundary: run
    another round and look again (exit 3)."""
    SKIPPED = "skipped"
    """An optional check (``required: false``) with no rows for its task and condition in
    either result. A required check in that case cannot decide; a name that nothing defines
    is a policy error before any check runs."""


class Correction(StrEnum):
    """How the per-check significance level is corrected across checks."""

    HOLM = "holm"
    BONFERRONI = "bonferroni"
    NONE = "none"


class GateTest(StrEnum):
    """One-sided test of the candidate against the baseline, paired by question."""

    AUTO = "auto"
    """Chosen from the measure's kind: ``cmh`` for rates (0/1 per sample), ``t-test`` for
    scores (and for measures without a spec whose values are not all 0/1)."""
    CMH = "cmh"
    """Question-stratified score test of the Mantel-Haenszel risk difference against the
    margin (stratified Miettinen-Nurminen; at margin 0 exactly the Cochran-Mantel-Haenszel
    test). Rates only: treats the questions as fixed strata, the answers as binomial."""
    T_TEST = "t-test"
    """Paired t-test on per-question mean differences (near nominal false-alarm rate)."""
    SIGN_FLIP = "sign-flip"
    """Exact sign-flip permutation test: never above alpha, but conservative with rare events."""
    PPI = "ppi-difference"
    """Normal test on the difference of PPI-corrected rates: what ``gate --gold`` decides a
    labelled check with (recorded on the check; not selectable in a policy)."""


class GateMode(StrEnum):
    """What a check has to show."""

    REGRESSION = "regression"
    """Fail on evidence of worsening beyond the margin; pass otherwise (thin data passes)."""
    NON_INFERIORITY = "non_inferiority"
    """Pass only on evidence that any worsening is below the margin; fail on evidence of
    worsening beyond it; cannot decide (exit 2) when the data show neither."""


class HypothesisKind(StrEnum):
    """What a single tested hypothesis guards against."""

    REGRESSION = "regression"
    """Candidate worse than baseline by more than the allowed margin."""
    CEILING = "ceiling"
    """Candidate value above an absolute ceiling."""
    FLOOR = "floor"
    """Candidate value below an absolute floor."""
    NON_INFERIORITY = "non-inferiority"
    """Candidate worse than baseline by less than the margin (rejecting it is not a
    failure: it is the evidence a ``non_inferiority`` check needs to pass)."""


#: exit code per overall status
EXIT_CODES: dict[CheckStatus, int] = {
    CheckStatus.PASS: 0,
    CheckStatus.FAIL: 1,
    CheckStatus.CANNOT_DECIDE: 2,
    CheckStatus.CONTINUE: 3,
}
