"""``alignprobe demo`` end to end, through the same path a user takes.

A :class:`DemoPlan` says which checkpoints and which suite (built by
:mod:`alignprobe.demo.experiment` for the real-model experiment, by
:mod:`alignprobe.demo.quick` for ``--quick``); this module then

1. writes ``checkpoints.yaml`` and the suite file into the output folder, as a user would;
2. runs ``run`` -> ``table`` -> ``compare`` -> ``gate`` with their public functions,
   judged by the demo judge;
3. summarises the headline measures with their confidence intervals, whatever they show,
   and, where the plan ships hand labels of its answers, the judge against them
   (``alignprobe gold report``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from alignprobe.demo import defaults
from alignprobe.errors import DataError
from alignprobe.units import fmt_delta

if TYPE_CHECKING:
    from alignprobe.judging.gold_stats import GoldReport, Interval
    from alignprobe.results.sample_rows import Measures

CHECKPOINTS_FILE = "checkpoints.yaml"
SUITE_FILE = "demo-suite.yaml"
RUN_DIR = "run"
REPORT_DIR = "report"
GATE_DIR = "gate"


@dataclass(frozen=True)
class Headline:
    """A measure the terminal summary shows, per checkpoint and condition."""

    task: str
    measure: str
    label: str


@dataclass
class DemoPlan:
    """What the demo evaluates; everything else is the ordinary pipeline."""

    checkpoints: dict[str, Any]
    """The content of ``checkpoints.yaml``."""
    suite: dict[str, Any]
    baseline: str
    candidates: list[str]
    headlines: list[Headline]
    conditions: list[str]
    notes: list[str] = field(default_factory=list)
    """Lines printed before the run (what was built, and how)."""
    seconds: dict[str, float] = field(default_factory=dict)
    gate_policy: Path | None = None
    """The policy the candidates are gated with (default: the shipped one)."""
    contrasts: list[tuple[str, str]] = field(default_factory=list)
    """(checkpoint, reference) pairs whose headline difference is shown with its CI."""
    gold_labels: Path | None = None
    """Hand labels of the run's answers: the judge is measured against them."""


@dataclass(frozen=True)
class Cell:
    """One headline measure of one checkpoint under one condition, with its CI."""

    value: float
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class Contrast:
    """``checkpoint`` minus ``reference`` on one headline under one condition, from the
    answers both gave to the same sample (same question, sample and epoch: with the demo's
    per-sample seeds, the same random draws), with a CI clustered by question."""

    checkpoint: str
    reference: str
    condition: str
    measure: str
    value: float
    low: float
    high: float
    pairs: int
    clusters: int

    def text(self) -> str:
        return (
            f"{self.checkpoint} - {self.reference} ({self.condition}): "
            f"{fmt_delta(self.value)} [{self.low * 100:+.1f}, {self.high * 100:+.1f}], "
            f"half-width {(self.high - self.low) / 2 * 100:.1f} pts, {self.pairs} paired "
            f"answers over {self.clusters} questions"
        )


@dataclass
class GateOutcome:
    candidate: str
    status: str
    exit_code: int
    summary: str
    changes: dict[str, float | None]
    """check name -> change (candidate - baseline) on the check's measure."""
    verdict_path: Path


@dataclass
class DemoOutcome:
    out: Path
    plan: DemoPlan
    judge_lines: list[str]
    cells: dict[tuple[str, str, str], Cell]
    """(checkpoint, condition, measure) -> estimate."""
    report: list[Path]
    gates: list[GateOutcome]
    seconds: dict[str, float] = field(default_factory=dict)
    contrasts: list[Contrast] = field(default_factory=list)
    gold: GoldReport | None = None
    gold_note: str = ""
    """Why the hand labels were not used, where they were not."""

    def rate(self, checkpoint: str, condition: str, measure: str = "misaligned") -> float:
        cell = self.cells.get((checkpoint, condition, measure))
        return math.nan if cell is None else cell.value


def _write_yaml(path: Path, data: dict[str, Any], header: str) -> Path:
    path.write_text(header + yaml.safe_dump(data, sort_keys=False, width=100), encoding="utf-8")
    return path


def run_demo(
    out: Path,
    plan: DemoPlan,
    *,
    display: str = "none",
    log: Callable[[str], None] = print,
) -> DemoOutcome:
    from alignprobe.demo.judge import judge_report
    from alignprobe.demo.pipeline import offline_environment
    from alignprobe.errors import UserInputError
    from alignprobe.evals.suite import load_suite
    from alignprobe.models.checkpoints import load_checkpoints
    from alignprobe.run.suite_run import run_suite

    offline_environment()
    seconds = dict(plan.seconds)
    out.mkdir(parents=True, exist_ok=True)
    for line in plan.notes:
        log(line)
    judge_lines = judge_report().lines()
    for line in judge_lines:
        log(f"demo judge {line}")

    header = "# written by `alignprobe demo`: the same file a user writes for their checkpoints\n"
    checkpoints_path = _write_yaml(out / CHECKPOINTS_FILE, plan.checkpoints, header)
    suite_path = _write_yaml(out / SUITE_FILE, plan.suite, header)
    run_dir = out / RUN_DIR

    started = time.monotonic()
    log(f"alignprobe run --suite {suite_path} --checkpoints {checkpoints_path} "
        f"--judge {defaults.DEMO_JUDGE} --out {run_dir}")  # fmt: skip
    evaluations = len(plan.checkpoints["checkpoints"]) * sum(
        len(task.get("conditions", ["neutral"])) for task in plan.suite["tasks"]
    )
    if display == "none":  # minutes without a line otherwise
        log(f"  {evaluations} evaluations, no progress display (--display rich shows it)")
    outcome = run_suite(
        load_suite(suite_path),
        load_checkpoints(checkpoints_path),
        defaults.DEMO_JUDGE,
        run_dir,
        display=display,
    )
    if outcome.failed:
        first = outcome.failed[0]
        message = first.error.message if first.error else first.status
        raise UserInputError(f"demo run did not finish: {first.location}: {message}")
    seconds["run"] = time.monotonic() - started

    started = time.monotonic()
    table, measures = _table(run_dir)
    cells, report, contrasts = _report(table, run_dir, out / REPORT_DIR, plan)
    gold, gold_note = _gold(table, measures, plan, out / REPORT_DIR / "gold")
    seconds["report"] = time.monotonic() - started
    started = time.monotonic()
    gates = _gates(run_dir, out / GATE_DIR, plan)
    seconds["gate"] = time.monotonic() - started
    return DemoOutcome(
        out, plan, judge_lines, cells, report, gates, seconds, contrasts, gold, gold_note
    )


#: what identifies one sample across checkpoints
PAIR_KEYS = ["task", "condition", "question_id", "sample_id", "epoch"]


def contrasts_of(table: Any, plan: DemoPlan) -> list[Contrast]:
    """Each planned (checkpoint, reference) difference on each headline and condition."""
    from alignprobe.report.stats import clustered_mean_ci

    found: list[Contrast] = []
    for headline in plan.headlines:
        if headline.measure not in table.columns:
            continue
        rows = table[table["task"] == headline.task]
        for checkpoint, reference in plan.contrasts:
            sides = [
                rows[rows["checkpoint"] == name][[*PAIR_KEYS, headline.measure]].dropna()
                for name in (checkpoint, reference)
            ]
            paired = sides[0].merge(sides[1], on=PAIR_KEYS, suffixes=("", "_reference"))
            if paired.empty:
                continue
            paired["difference"] = (
                paired[headline.measure] - paired[f"{headline.measure}_reference"]
            )
            for condition in plan.conditions:
                group = paired[paired["condition"] == condition]
                if group.empty:
                    continue
                estimate = clustered_mean_ci(group, "difference", bounds=(-1.0, 1.0))
                found.append(
                    Contrast(
                        checkpoint,
                        reference,
                        condition,
                        headline.measure,
                        estimate.value,
                        estimate.low,
                        estimate.high,
                        estimate.n,
                        estimate.clusters,
                    )
                )
    return found


def _table(run_dir: Path) -> tuple[Any, Measures]:
    from alignprobe.results.table import build_table, write_table

    table, measures = build_table(run_dir)
    write_table(table, measures, run_dir)
    return table, measures


def _gold(
    table: Any, measures: Measures, plan: DemoPlan, out: Path
) -> tuple[GoldReport | None, str]:
    """The judge against the shipped hand labels (``alignprobe gold report``), where they
    label this run's answers."""
    if plan.gold_labels is None:
        return None, ""
    from alignprobe.judging.gold_report import write_gold_report

    try:
        # PPI++: its power tuning never makes the interval wider than the labels' alone
        report, _ = write_gold_report(table, measures, plan.gold_labels, out, lam=None)
    except DataError as exc:  # e.g. another --seed: other answers than those labelled
        return None, f"hand labels not used: {exc}"
    return report, ""


def _report(
    table: Any, run_dir: Path, report_dir: Path, plan: DemoPlan
) -> tuple[dict[tuple[str, str, str], Cell], list[Path], list[Contrast]]:
    from alignprobe.report.compare import compare, load_inputs
    from alignprobe.report.render import render
    from alignprobe.report.stats import clustered_mean_ci

    report = render(compare(load_inputs([run_dir]), baseline=plan.baseline), report_dir)
    cells: dict[tuple[str, str, str], Cell] = {}
    for headline in plan.headlines:
        if headline.measure not in table.columns:
            continue
        rows = table[table["task"] == headline.task]
        for (name, condition), group in rows.groupby(["checkpoint", "condition"]):
            estimate = clustered_mean_ci(group, headline.measure)
            cells[(str(name), str(condition), headline.measure)] = Cell(
                estimate.value, estimate.low, estimate.high, estimate.n
            )
    return cells, report, contrasts_of(table, plan)


def _gates(run_dir: Path, gate_dir: Path, plan: DemoPlan) -> list[GateOutcome]:
    from alignprobe.gate import load_policy, load_side, run_gate
    from alignprobe.gate.policy import default_policy_path

    policy = load_policy(plan.gate_policy)
    baseline = load_side(run_dir, "baseline", plan.baseline)
    gates: list[GateOutcome] = []
    for candidate in plan.candidates:
        verdict = run_gate(
            baseline,
            load_side(run_dir, "candidate", candidate),
            policy,
            policy_source=plan.gate_policy or default_policy_path(),
        )
        path = verdict.write(gate_dir / f"{candidate}-vs-{plan.baseline}.json")
        gates.append(
            GateOutcome(
                candidate=candidate,
                status=verdict.status.value,
                exit_code=verdict.exit_code,
                summary=verdict.summary,
                changes={c.name: c.change for c in verdict.checks},
                verdict_path=path,
            )
        )
    return gates


def _percent_interval(value: float | None, low: float | None, high: float | None) -> str:
    """``12% [5%, 24%]``, or ``-`` where any part is missing."""
    if value is None or low is None or high is None:
        return "-"
    return f"{value:.0%} [{low:.0%}, {high:.0%}]"


def _cell_text(cell: Cell | None) -> str:
    if cell is None or cell.n == 0:
        return "-"
    return f"{_percent_interval(cell.value, cell.low, cell.high)} of {cell.n}"


def summary_lines(outcome: DemoOutcome) -> list[str]:
    """What the demo measured, with 95% CIs, in a few lines for the terminal."""
    plan = outcome.plan
    names = list(plan.checkpoints["checkpoints"])
    width = max(len(n) for n in [*names, "checkpoint"])
    lines: list[str] = []
    for headline in plan.headlines:
        if not any(key[2] == headline.measure for key in outcome.cells):
            continue
        lines += [
            "",
            f"{headline.label} ({headline.task}: {headline.measure}; 95% CI, n scored)",
            "checkpoint".ljust(width) + "".join(f"  {c:>26}" for c in plan.conditions),
        ]
        for name in names:
            row = [outcome.cells.get((name, c, headline.measure)) for c in plan.conditions]
            lines.append(name.ljust(width) + "".join(f"  {_cell_text(c):>26}" for c in row))
    if outcome.contrasts:
        lines += ["", "differences on the same samples (95% CI clustered by question)"]
        lines += [f"  {c.measure}: {c.text()}" for c in outcome.contrasts]
    lines += gold_lines(outcome)
    lines.append("")
    for gate in outcome.gates:
        changes = ", ".join(
            f"{name} {fmt_delta(change)}"
            for name, change in gate.changes.items()
            if change is not None
        )
        lines.append(
            f"gate {gate.candidate} vs {plan.baseline}: {gate.status.upper()}, "
            f"exit {gate.exit_code}" + (f" ({changes})" if changes else "")
        )
        lines.append(f"  {gate.summary} -> {gate.verdict_path}")
    lines += ["", *[f"report: {p}" for p in outcome.report]]
    return lines


def _interval_text(interval: Interval | None) -> str:
    if interval is None:
        return "-"
    return _percent_interval(interval.value, interval.low, interval.high)


def gold_lines(outcome: DemoOutcome) -> list[str]:
    """The demo judge against the hand labels, and each labelled rate beside the judged."""
    if outcome.gold is None:
        return ["", outcome.gold_note] if outcome.gold_note else []
    lines: list[str] = []
    for accuracy in (a for a in outcome.gold.accuracy if a.checkpoint == "all"):
        lines += [
            "",
            f"the demo judge against {accuracy.labelled} hand-labelled answers "
            f"({outcome.plan.gold_labels}): {accuracy.measure} sensitivity "
            f"{_interval_text(accuracy.sensitivity)}, specificity "
            f"{_interval_text(accuracy.specificity)} (95% CI)",
        ]
    if outcome.gold.rates:
        lines.append(
            "  rate as judged -> with the hand labels (95% CI; the judge's verdicts "
            f"corrected by {outcome.gold.method} where some answers are unlabelled)"
        )
    for rate in outcome.gold.rates:
        judged = "-" if rate.judge_rate is None else f"{rate.judge_rate:.0%}"
        if rate.labelled == rate.judged:  # nothing left to correct: the labels' own rate
            labelled = f"{_interval_text(rate.human_rate)} (all {rate.labelled} labelled)"
        else:
            labelled = (
                f"{_interval_text(rate.corrected)} ({rate.labelled} of {rate.judged} labelled)"
            )
        lines.append(
            f"  {rate.measure}: {rate.checkpoint} ({rate.condition}): {judged} -> {labelled}"
        )
    return lines
