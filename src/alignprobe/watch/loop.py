"""Follow a training folder: evaluate each finished checkpoint once, report, decide.

Each checkpoint ``checkpoint-<step>`` becomes its own complete run in
``<out>/steps/step-<step>/`` (its ``checkpoints.yaml`` written there, ``meta.step`` from
the folder name, ``meta.run`` the run name), evaluated by
:func:`alignprobe.run.suite_run.run_suite`, so an interrupted evaluation resumes as any
run does. ``<out>/watch.json`` records every step handled (evaluated, failed, deleted),
the looks and the decision: a restart evaluates nothing twice. After each checkpoint
``<out>/report/`` is rewritten from the baseline and every evaluated step (the
trajectory report of ``alignprobe compare``). With a baseline, each evaluated step is
also a look of the onset test (:mod:`.decide`): the gate at the look's level, its verdict
written to the step's folder (``verdict.json``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from alignprobe.errors import ConfigError, UserInputError
from alignprobe.evals.suite import Suite
from alignprobe.gate import GatePolicy, load_side
from alignprobe.gate.names import check_names
from alignprobe.gate.results import Side
from alignprobe.gate.types import CheckStatus
from alignprobe.models.base_models import NAMED_MODELS
from alignprobe.models.checkpoints import load_checkpoints
from alignprobe.run import suite_run
from alignprobe.run.status import IncompleteRunError
from alignprobe.run.suite_run import plan_tasks, write_json_atomic
from alignprobe.scorers.panel import JudgeSpec
from alignprobe.watch.cost import Cost, checkpoint_cost
from alignprobe.watch.decide import DEFAULT_LOOKS, Look, OnsetRule, gate_look, onset_policy
from alignprobe.watch.folder import (
    STOP_FILE,
    TRAINER_STATE,
    FoundCheckpoint,
    Signature,
    checkpoint_entry,
    is_final,
    list_checkpoints,
    planned_saves,
    signature,
)

STATE = "watch.json"
STEPS = "steps"
REPORT = "report"
#: each look's gate verdict, in its step's run folder
VERDICT = "verdict.json"

Order = Literal["newest", "oldest"]
Status = Literal["evaluated", "failed", "deleted"]


@dataclass
class WatchPlan:
    """Everything one ``alignprobe watch`` needs; fixed for the life of ``out``."""

    train_dir: Path
    suite: Suite
    judge: JudgeSpec | None
    out: Path
    run_name: str
    baseline: Path | None = None
    baseline_checkpoint: str | None = None
    base: str | None = None
    order: Order = "newest"
    until_step: int | None = None
    stop_on_onset: bool = False
    alpha: float = 0.05
    spending: str = "pocock"
    policy: Path | None = None
    """The gate policy whose checks decide the onset (``None``: the gate's default policy,
    kept to headline measures)."""
    looks: int | None = None
    poll_s: float = 5.0
    settle_s: float = 2.0
    idle_timeout_s: float | None = None
    run_options: dict[str, Any] = field(default_factory=dict)

    def identity(self) -> dict[str, Any]:
        """What makes ``out`` this experiment: a restart must give the same."""
        return {
            "train_dir": str(self.train_dir.resolve()),
            "suite": {"name": self.suite.name, "sha256": self.suite.sha256},
            "judge": self.judge,
            "run_name": self.run_name,
            "baseline": str(self.baseline.resolve()) if self.baseline else None,
            "baseline_checkpoint": self.baseline_checkpoint,
            "alpha": self.alpha,
            "spending": self.spending,
            "policy": str(self.policy.resolve()) if self.policy else None,
        }


@dataclass
class WatchResult:
    onset_step: int | None
    """The confirmed onset (``None``: none confirmed)."""
    stopped: bool
    """``--stop-on-onset`` and an onset was confirmed: the stop file is written."""
    failed: list[int]
    complete: bool
    """The trainer's final state (or ``--until-step``) was reached and every step handled."""
    reason: str


Echo = Callable[[str], None]


class Watcher:
    def __init__(self, plan: WatchPlan, echo: Echo = print) -> None:
        self.plan = plan
        self.echo = echo
        self.state = self._load_state()
        self.baseline_name = self._baseline_name()
        self.baseline_side, self.policy = self._onset_test()
        self._seen: dict[int, tuple[Signature, float]] = {}

    # -- the record -------------------------------------------------------------
    def _load_state(self) -> dict[str, Any]:
        path = self.plan.out / STATE
        identity = self.plan.identity()
        if not path.is_file():
            return {"plan": identity, "steps": {}, "looks": None, "order": []}
        try:
            state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"invalid JSON: {exc.msg}", source=path, line=exc.lineno) from None
        changed = [
            f"{key} was {state.get('plan', {}).get(key)!r}, now {value!r}"
            for key, value in identity.items()
            if state.get("plan", {}).get(key) != value
        ]
        if changed:
            raise ConfigError(
                f"{path} records another watch ({'; '.join(changed)}); re-run with its "
                "arguments to go on, or choose a new --out folder",
                field="--out",
            )
        return state

    def _save(self) -> None:
        self.plan.out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.plan.out / STATE, self.state)

    def _baseline_name(self) -> str | None:
        baseline = self.plan.baseline
        if baseline is None:
            return None
        from alignprobe.results.table import load_run_table

        loaded = load_run_table(baseline)
        if loaded.status is not None and not loaded.status.complete:
            raise IncompleteRunError(
                f"run {loaded.status.state.value}: {loaded.status.summary()}: watch needs a "
                f"complete baseline: {loaded.status.hint()}",
                source=baseline,
                field="--baseline",
            )
        names = sorted(set(loaded.df["checkpoint"].astype(str)))
        wanted = self.plan.baseline_checkpoint
        if wanted is not None and wanted not in names:
            raise UserInputError(
                f"no checkpoint '{wanted}' in {baseline}; it holds: {', '.join(names)}",
                field="--baseline-checkpoint",
            )
        if wanted is None and len(names) != 1:
            raise UserInputError(
                f"{baseline} holds {len(names)} checkpoints ({', '.join(names)}): name the "
                "base with --baseline-checkpoint",
                field="--baseline-checkpoint",
            )
        return wanted or names[0]

    def _onset_test(self) -> tuple[Side | None, GatePolicy | None]:
        """The baseline as the gate reads it and the policy that decides the onset; names
        the policy uses are checked before anything is evaluated (as ``--until-decided``)."""
        if self.plan.baseline is None:
            return None, None
        baseline = load_side(self.plan.baseline, "baseline", self.baseline_name)
        policy = onset_policy(self.plan.policy, baseline.measures)
        check_names(policy, (baseline,), self.plan.policy or policy.source)
        checks = ", ".join(c.name for c in policy.checks) or "none"
        self.echo(
            f"onset test: gate policy {policy.source} (checks: {checks}) at each look's "
            f"share of alpha {self.plan.alpha:g} ({self.plan.spending} spending)"
        )
        return baseline, policy

    @property
    def handled(self) -> dict[str, dict[str, Any]]:
        steps: dict[str, dict[str, Any]] = self.state["steps"]
        return steps

    def total_cost(self) -> Cost:
        return sum(
            (Cost(**entry["cost"]) for entry in self.handled.values() if "cost" in entry), Cost()
        )

    # -- the loop -----------------------------------------------------------------
    def run(self) -> WatchResult:
        plan = self.plan
        if not plan.train_dir.is_dir():
            raise UserInputError(f"not a folder: {plan.train_dir}", field="TRAIN_DIR")
        decision = self.state.get("decision")
        if decision is not None:
            self.echo(f"onset already confirmed at step {decision['step']} ({STATE})")
            if plan.stop_on_onset:
                self._write_stop(decision)
                return WatchResult(decision["step"], True, self._failed(), False, "onset")
        idle_since = time.monotonic()
        while True:
            ready, newest = self._scan()
            if ready:
                pick = max(ready, key=lambda c: c.step) if plan.order == "newest" else ready[0]
                stopped = self._evaluate(pick)
                idle_since = time.monotonic()
                if stopped:
                    return WatchResult(pick.step, True, self._failed(), False, "onset")
                continue
            end = self._finished(newest)
            if end is not None:
                onset = self.state.get("decision", {}).get("step")
                return WatchResult(onset, False, self._failed(), True, end)
            if (
                plan.idle_timeout_s is not None
                and time.monotonic() - idle_since > plan.idle_timeout_s
            ):
                onset = self.state.get("decision", {}).get("step")
                return WatchResult(
                    onset,
                    False,
                    self._failed(),
                    False,
                    f"no new checkpoint for {plan.idle_timeout_s:g} s and the trainer has "
                    "not written its final state",
                )
            time.sleep(plan.poll_s)

    def _failed(self) -> list[int]:
        return sorted(int(s) for s, e in self.handled.items() if e["status"] == "failed")

    def _scan(self) -> tuple[list[FoundCheckpoint], list[FoundCheckpoint]]:
        """(finished checkpoints not yet handled, every checkpoint folder present)."""
        now = time.monotonic()
        present = list_checkpoints(self.plan.train_dir)
        ready = []
        for found in present:
            if str(found.step) in self.handled:
                continue
            if self.plan.until_step is not None and found.step > self.plan.until_step:
                continue
            current = signature(found.path)
            if current is None:
                self._seen.pop(found.step, None)
                continue
            earlier = self._seen.get(found.step)
            if earlier is None or earlier[0] != current:
                self._seen[found.step] = (current, now)
            elif now - earlier[1] >= self.plan.settle_s:
                ready.append(found)
        return ready, present

    def _finished(self, present: list[FoundCheckpoint]) -> str | None:
        """Why watching is over, or ``None`` to keep waiting."""
        plan = self.plan
        pending = [
            c
            for c in present
            if str(c.step) not in self.handled
            and (plan.until_step is None or c.step <= plan.until_step)
            and signature(c.path) is not None
        ]
        if pending:  # written, not yet settled: wait for it
            return None
        if plan.until_step is not None and str(plan.until_step) in self.handled:
            return f"step {plan.until_step} (--until-step) evaluated"
        if plan.until_step is not None and any(c.step > plan.until_step for c in present):
            return f"the trainer is past step {plan.until_step} (--until-step)"
        if (plan.train_dir / TRAINER_STATE).is_file():
            return "the trainer wrote its final state"
        if any(e.get("final") for e in self.handled.values()):
            return "the trainer's last checkpoint is evaluated"
        return None

    # -- one checkpoint -------------------------------------------------------------
    def _evaluate(self, found: FoundCheckpoint) -> bool:
        """Evaluate one checkpoint; True when it confirms an onset with --stop-on-onset."""
        plan = self.plan
        name = f"step-{found.step}"
        step_dir = plan.out / STEPS / name
        final = is_final(found.path)
        if self.state.get("looks") is None:
            self.state["looks"] = plan.looks or planned_saves(found.path) or DEFAULT_LOOKS
        try:
            entry = checkpoint_entry(found.path, self._base())
            entry["meta"] = {**entry.get("meta", {}), "step": found.step, "run": plan.run_name}
            step_dir.mkdir(parents=True, exist_ok=True)
            listing = step_dir / "checkpoints.yaml"
            listing.write_text(yaml.safe_dump({"checkpoints": {name: entry}}), encoding="utf-8")
            checkpoints = load_checkpoints(listing)
        except (UserInputError, OSError):
            if found.path.exists():
                raise
            return self._record(found, "deleted", None, final)  # gone before we read it
        generate = plan.run_options.get("generate")
        cost = checkpoint_cost(plan_tasks(plan.suite, checkpoints, generate, with_models=False))
        total = self.total_cost() + cost
        self.echo(f"step {found.step}: evaluating {found.path}")
        self.echo(f"step {found.step}: cost {cost.line()}; total so far {total.line()}")
        try:
            outcome = suite_run.run_suite(
                plan.suite, checkpoints, plan.judge, step_dir, **plan.run_options
            )
        except (UserInputError, OSError, RuntimeError, ValueError):
            if found.path.exists():
                raise
            return self._record(found, "deleted", cost, final)
        if not found.path.exists():  # save_total_limit removed it while we read it
            return self._record(found, "deleted", cost, final)
        if outcome.failed:
            self.echo(
                f"alignprobe: step {found.step}: {len(outcome.failed)} log(s) ended in error; "
                f"re-run the same run to finish: alignprobe run ... --out {step_dir}"
            )
            return self._record(found, "failed", cost, final)
        # the step is recorded with its look's outcome, in one write: a reader of
        # watch.json never sees a step evaluated but not yet decided on
        look = self._after(found.step)
        decision = self._decision(found.step, look) if look is not None else None
        self._record(found, "evaluated", cost, final, decision, look)
        if decision is None:
            return False
        self.echo(
            f"onset confirmed at step {found.step} (look {decision['look']} of "
            f"{decision['of']}, level {decision['level']:.3g}: {decision['summary']})"
        )
        if plan.stop_on_onset:
            self._write_stop(decision)
            return True
        return False

    def _base(self) -> str | None:
        base = self.plan.base
        if base is None or base in NAMED_MODELS or not Path(base).exists():
            return base
        return str(Path(base).resolve())

    def _record(
        self,
        found: FoundCheckpoint,
        status: Status,
        cost: Cost | None,
        final: bool,
        decision: dict[str, Any] | None = None,
        look: Look | None = None,
    ) -> bool:
        entry: dict[str, Any] = {
            "status": status,
            "checkpoint": str(found.path),
            "time": datetime.now(UTC).isoformat(),
            "final": final,
        }
        if cost is not None:
            entry["cost"] = {
                "samples": cost.samples,
                "model_calls": cost.model_calls,
                "judge_calls": cost.judge_calls,
            }
        if look is not None:
            entry["look"] = {
                "look": look.look,
                "of": look.of,
                "level": look.level,
                "status": look.verdict.status.value if look.verdict else "not tested",
            }
        self.handled[str(found.step)] = entry
        self.state["order"].append(found.step)
        if decision is not None:
            self.state["decision"] = decision
        self._save()
        if status == "deleted":
            self.echo(f"step {found.step}: checkpoint deleted before its evaluation ended: skipped")
        return False

    # -- report and decision --------------------------------------------------------------
    def _after(self, step: int) -> Look | None:
        """Rewrite the report with ``step`` in it, print its change; then, with a baseline
        and no onset yet, the step's look of the onset test (nothing is recorded here)."""
        from alignprobe.report.compare import compare, load_inputs
        from alignprobe.report.render import render

        plan = self.plan
        evaluated = [
            s for s in self.state["order"] if self.handled[str(s)]["status"] == "evaluated"
        ]
        folders = [plan.out / STEPS / f"step-{s}" for s in sorted([*evaluated, step])]
        inputs = load_inputs([*([plan.baseline] if plan.baseline else []), *folders])
        comparison = compare(inputs, baseline=self.baseline_name)
        render(comparison, plan.out / REPORT)
        name = f"step-{step}"
        for traj in comparison.trajectories:
            for point in traj.points:
                if point.checkpoint != name:
                    continue
                where = f"{traj.task} / {traj.condition} {traj.measure}"
                value = f"{point.estimate.value:.3g}"
                if point.change is None:
                    self.echo(f"step {step}: {where} {value}")
                else:
                    self.echo(
                        f"step {step}: {where} {value}, change vs base {point.change:+.3g} "
                        f"[{point.low:.3g}, {point.high:.3g}], p = {point.p_value:.3g}"
                    )
            onset = traj.onsets.get(plan.run_name)
            if onset is not None:
                self.echo(
                    f"onset (report, Holm over steps): {traj.task} {traj.measure}: step {onset:g}"
                )
        self.echo(f"report: {plan.out / REPORT / 'report.md'}")
        if self.baseline_side is None or self.policy is None or "decision" in self.state:
            return None
        rule = OnsetRule(plan.alpha, int(self.state["looks"]), plan.spending)
        candidate = load_side(plan.out / STEPS / name, "candidate", name)
        look = gate_look(rule, len(evaluated) + 1, self.policy, self.baseline_side, candidate)
        self._print_look(step, look)
        return look

    def _print_look(self, step: int, look: Look) -> None:
        where = f"step {step}: look {look.look} of {look.of}"
        if look.verdict is None:
            self.echo(f"{where} is past the {look.of} planned: its onset test spends nothing")
            return
        where = f"{where} (gate at one-sided level {look.level:.3g})"
        for check in look.verdict.checks:
            if check.status is not CheckStatus.SKIPPED:
                self.echo(f"{where}: {check.name} {check.status.value}: {'; '.join(check.reasons)}")
        if look.undecided:
            self.echo(
                f"{where}: the gate cannot decide ({look.verdict.summary}): not an onset; "
                "this look's share of alpha is spent"
            )
        elif not look.onset:
            self.echo(f"{where}: {look.verdict.summary}: no onset")

    def _decision(self, step: int, look: Look) -> dict[str, Any] | None:
        """The look's verdict written beside the step's run; the decision if it is an onset."""
        if look.verdict is None:
            return None
        where = look.verdict.write(self.plan.out / STEPS / f"step-{step}" / VERDICT)
        if not look.onset:
            return None
        return {
            "step": step,
            "look": look.look,
            "of": look.of,
            "level": look.level,
            "checks": look.failed_checks,
            "summary": look.verdict.summary,
            "verdict": str(where.resolve()),
            "time": datetime.now(UTC).isoformat(),
        }

    def _write_stop(self, decision: dict[str, Any]) -> None:
        record = {"reason": "onset", "out": str(self.plan.out.resolve()), **decision}
        write_json_atomic(self.plan.train_dir / STOP_FILE, record)
        self.echo(f"stop file written: {self.plan.train_dir / STOP_FILE}")
