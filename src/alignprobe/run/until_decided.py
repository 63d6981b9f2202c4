"""``alignprobe run --until-decided``: run a suite in rounds and stop once the gate decides.

Round ``k`` resumes the run folder's own logs with ``k`` times the suite's answers per
question (more epochs through Inspect's ``eval_set`` resume: every earlier answer is kept
in the log, its ``epoch`` saying which round it came from). After each round the gate
takes a group-sequential look ``k`` of ``K`` at the whole candidate so far against a
finished baseline (:mod:`alignprobe.gate.sequential`, equal information fractions
``k / K``), and the loop stops as soon as no check is left undecided. Every look is
recorded in the run folder (``looks/look-<k>.json`` and ``sequential.json``), so an
interrupted run resumes from its last recorded look and a decided one is never re-run.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alignprobe.errors import ConfigError, DataError, UserInputError
from alignprobe.evals.suite import Suite
from alignprobe.gate import GateOptions, load_policy, load_side, run_gate
from alignprobe.gate.checks import Looks
from alignprobe.gate.names import check_names
from alignprobe.gate.policy import default_policy_path
from alignprobe.gate.results import Side
from alignprobe.gate.types import CheckStatus
from alignprobe.gate.verdict import Verdict
from alignprobe.models.checkpoints import CheckpointSet
from alignprobe.run.status import IncompleteRunError
from alignprobe.run.suite_run import RunOutcome, run_suite, write_json_atomic
from alignprobe.scorers.panel import JudgeSpec

#: the run folder's record of every look and the final decision
SEQUENTIAL = "sequential.json"
#: one full verdict per look
LOOKS_DIR = "looks"
#: exit code of a run whose round did not finish (cannot decide; re-run to resume)
EXIT_ROUND_FAILED = 2
#: rounds (looks) planned when --max-looks is not given
DEFAULT_LOOKS = 4
#: the gate's "run another round" exit code
EXIT_CONTINUE = 3


@dataclass(frozen=True)
class UntilDecided:
    """What decides a sequential run: the baseline, the policy and the looks planned."""

    baseline: Path
    looks: int
    baseline_checkpoint: str | None = None
    candidate_checkpoint: str | None = None
    policy: Path | None = None
    spending: str = "obrien-fleming"
    futility_spending: str | None = None
    binding: bool = False

    def record(self) -> dict[str, Any]:
        """The plan as the manifest keeps it (a change makes it another experiment)."""
        policy = self.policy or default_policy_path()
        return {
            "baseline": str(self.baseline.resolve()),
            "baseline_checkpoint": self.baseline_checkpoint,
            "candidate_checkpoint": self.candidate_checkpoint,
            "policy": str(policy),
            "policy_sha256": hashlib.sha256(Path(policy).read_bytes()).hexdigest(),
            "looks": self.looks,
            "spending": self.spending,
            "futility_spending": self.futility_spending or self.spending,
            "binding_futility": self.binding,
        }


@dataclass
class SequentialOutcome:
    exit_code: int
    verdict: Verdict | None
    """The last look's verdict (``None`` when a round failed before any look)."""
    record: dict[str, Any]
    failed: RunOutcome | None = None
    """The round whose logs did not all succeed, if one did not."""
    resumed_decision: bool = False
    """The run folder already held a final decision: nothing was run."""


def _candidate_name(checkpoints: CheckpointSet, wanted: str | None) -> str:
    names = sorted(checkpoints.specs)
    if wanted is not None:
        if wanted not in names:
            raise UserInputError(
                f"no checkpoint '{wanted}' in {checkpoints.source}; it lists: {', '.join(names)}",
                field="--candidate-checkpoint",
            )
        return wanted
    if len(names) != 1:
        raise UserInputError(
            f"{checkpoints.source} lists {len(names)} checkpoints ({', '.join(names)}): "
            "name the one the gate decides on with --candidate-checkpoint",
            field="--candidate-checkpoint",
        )
    return names[0]


def _judge_models(judge_id: str) -> set[str]:
    """The model names in a recorded judge id (``model|prompt@v1#hash|method``; a panel's
    ids name several)."""
    return {part.split("|")[0].strip() for part in re.split(r"[;,]| \+ ", judge_id) if part}


def _check_baseline_judge(baseline: Side, judge: JudgeSpec | None, source: Path) -> None:
    """The baseline's judged rows must come from the judge this run will use."""
    if "judge_id" not in baseline.table.columns:
        return
    recorded = sorted(
        {m for j in baseline.table["judge_id"].dropna().astype(str) for m in _judge_models(j)}
    )
    planned = sorted({judge} if isinstance(judge, str) else set(judge or []))
    if recorded and recorded != planned:
        raise ConfigError(
            f"the baseline was judged by {', '.join(recorded)} and this run's judge is "
            f"{', '.join(planned) or 'none'}: the gate could not compare them; use the "
            "baseline's judge, or re-judge the baseline (`alignprobe rejudge`) first",
            source=source,
            field="--baseline",
        )


def _earlier_record(out: Path, plan: dict[str, Any]) -> dict[str, Any] | None:
    """The folder's look record if it belongs to this plan (checked again by run_suite)."""
    path = out / SEQUENTIAL
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", source=path, line=exc.lineno) from None
    if not isinstance(record, dict) or not isinstance(record.get("looks"), list):
        raise DataError("not a sequential run record (no 'looks' list)", source=path)
    earlier = record.get("plan") or {}
    changed = [
        f"{key} was {earlier.get(key)!r}, now {plan.get(key)!r}"
        for key in plan
        if earlier.get(key) != plan.get(key)
    ]
    if changed:
        raise ConfigError(
            f"{path} records another --until-decided plan ({'; '.join(changed)}); re-run "
            "with that plan's arguments to finish it, or choose a new --out folder",
            field="--out",
        )
    return record


def _look_summary(look: int, verdict: Verdict, where: Path) -> dict[str, Any]:
    """One look as ``sequential.json`` lists it: the decision and each check's standing."""
    checks = []
    for check in verdict.checks:
        if check.status is CheckStatus.SKIPPED:
            continue
        regression = next(iter(check.hypotheses), None)
        answers = (
            check.candidate.scored / check.shared_questions
            if check.candidate is not None and check.shared_questions
            else None
        )
        checks.append(
            {
                "name": check.name,
                "status": check.status.value,
                "change": check.change,
                "candidate_answers_per_question": answers,
                "z": regression.z if regression else None,
                "efficacy": regression.efficacy if regression else None,
                "futility": regression.futility if regression else None,
            }
        )
    return {
        "look": look,
        "rounds": look,
        "time": datetime.now(UTC).isoformat(),
        "status": verdict.status.value,
        "exit_code": verdict.exit_code,
        "summary": verdict.summary,
        "verdict": str(where),
        "checks": checks,
    }


def run_until_decided(
    suite: Suite,
    checkpoints: CheckpointSet,
    judge: JudgeSpec | None,
    out: Path,
    plan: UntilDecided,
    **run_options: Any,
) -> SequentialOutcome:
    """Rounds of ``suite`` into ``out`` with a gate look after each, until decided.

    Everything the looks need (policy, baseline, candidate name, the names the policy
    uses) is checked before the first round writes anything. ``run_options`` go to
    :func:`alignprobe.run.suite_run.run_suite` unchanged.
    """
    if plan.looks < 2:
        raise UserInputError(
            "--max-looks must be at least 2 (one look is the fixed gate: run, then gate)",
            field="--max-looks",
        )
    policy = load_policy(plan.policy)
    policy_source = plan.policy or default_policy_path()
    baseline = load_side(plan.baseline, "baseline", plan.baseline_checkpoint)
    # a baseline the gate could never compare with is refused before a round is paid for
    if baseline.run_problems:
        raise IncompleteRunError(
            "; ".join(baseline.run_problems)
            + ": a sequential run needs a complete baseline (finish it first)",
            source=plan.baseline,
            field="--baseline",
        )
    _check_baseline_judge(baseline, judge, plan.baseline)
    check_names(policy, (baseline,), policy_source)
    candidate_name = _candidate_name(checkpoints, plan.candidate_checkpoint)
    planned = {**plan.record(), "candidate_checkpoint": candidate_name}
    record = _earlier_record(out, planned) or {"plan": planned, "looks": []}
    if record.get("decision"):
        return SequentialOutcome(int(record["decision"]["exit_code"]), None, record, None, True)
    verdict: Verdict | None = None
    for look in range(len(record["looks"]) + 1, plan.looks + 1):
        outcome = run_suite(
            suite, checkpoints, judge, out, rounds=look, until_decided=planned, **run_options
        )
        if outcome.failed:
            return SequentialOutcome(EXIT_ROUND_FAILED, verdict, record, outcome)
        candidate = load_side(out, "candidate", candidate_name)
        verdict = run_gate(
            baseline,
            candidate,
            policy,
            policy_source=policy_source,
            options=GateOptions(
                looks=Looks(
                    look,
                    plan.looks,
                    None,
                    plan.spending,
                    plan.futility_spending,
                    plan.binding,
                )
            ),
        )
        where = verdict.write(out / LOOKS_DIR / f"look-{look}.json")
        record["looks"].append(_look_summary(look, verdict, where))
        if verdict.exit_code != EXIT_CONTINUE:
            record["decision"] = {
                "look": look,
                "of": plan.looks,
                "status": verdict.status.value,
                "exit_code": verdict.exit_code,
                "summary": verdict.summary,
            }
        write_json_atomic(out / SEQUENTIAL, record)
        if "decision" in record:
            verdict.write(out / "verdict.json")
            break
    assert verdict is not None  # the loop ran at least once: no decision was recorded
    return SequentialOutcome(verdict.exit_code, verdict, record)
