"""A run plan as text: the ``--plan`` table and the one line every ``run`` prints first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alignprobe.evals.suite import Suite
from alignprobe.models.checkpoints import CheckpointSet
from alignprobe.run.plan import RunPlan, build_plan, check_max_calls
from alignprobe.run.prices import Cost, Price, plan_cost
from alignprobe.scorers.panel import JudgeSpec


def _n(value: int) -> str:
    return f"{value:,}"


def _tok(value: int) -> str:
    """Tokens, short: 1.2M, 340k, 900."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:,}"


def _calls(certain: int, conditional: int) -> str:
    return _n(certain) + (f" (+{_n(conditional)})" if conditional else "")


def one_line(plan: RunPlan, cost: Cost | None = None) -> str:
    """``plan: 292 samples, 292 model calls, 584 judge calls, ~0.2M input / <=0.2M output
    tokens[, cost <= 1.23]``."""
    t = plan.total
    text = (
        f"plan: {_n(t.samples)} samples, {_calls(t.model_calls, t.model_calls_conditional)} "
        f"model calls, {_calls(t.judge_calls, t.judge_calls_conditional)} judge calls, "
        f"~{_tok(t.model_input_tokens + t.judge_input_tokens)} input / "
        f"<={_tok(t.model_output_tokens + t.judge_output_tokens)} output tokens"
    )
    if cost is not None:
        text += f", cost {cost.certain:,.2f} (<= {cost.total:,.2f})"
        if cost.unpriced:
            text += f" (+ unpriced: {', '.join(cost.unpriced)})"
    return text


def plan_table(plan: RunPlan, cost: Cost | None = None) -> str:
    """Per checkpoint x task x condition, then totals, per-model use and the cost."""
    header = (
        "checkpoint",
        "task",
        "condition",
        "samples",
        "model calls",
        "judge calls",
        "input tok",
        "output tok",
    )
    rows: list[tuple[str, ...]] = []
    for row in plan.rows:
        c = row.counts
        rows.append(
            (
                row.checkpoint,
                row.task,
                row.condition,
                _n(c.samples),
                _calls(c.model_calls, c.model_calls_conditional),
                _calls(c.judge_calls, c.judge_calls_conditional),
                _tok(c.model_input_tokens + c.judge_input_tokens),
                _tok(c.model_output_tokens + c.judge_output_tokens),
            )
        )
    t = plan.total
    rows.append(
        (
            "total",
            "",
            "",
            _n(t.samples),
            _calls(t.model_calls, t.model_calls_conditional),
            _calls(t.judge_calls, t.judge_calls_conditional),
            _tok(t.model_input_tokens + t.judge_input_tokens),
            _tok(t.model_output_tokens + t.judge_output_tokens),
        )
    )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.ljust(w) if i < 3 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [f"plan of suite {plan.suite}", line(header)]
    out += [line(r) for r in rows[:-1]]
    out += ["-" * len(line(header)), line(rows[-1]), ""]
    out.append("by model (calls, estimated input tokens, output tokens at most):")
    for model, use in plan.models.items():
        role = "judge" if model in plan.judges else "checkpoint"
        batch = ", batch API" if use.batch else ""
        out.append(
            f"  {model} ({role}{batch}): {_calls(use.calls, use.calls_conditional)} calls, "
            f"~{_tok(use.input_tokens)} in, <={_tok(use.output_tokens)} out"
        )
    if cost is not None:
        out.append("")
        out.append(
            f"cost: {cost.certain:,.2f} for the certain calls, at most {cost.total:,.2f} "
            "with every conditional call"
        )
        out += [f"  {model}: at most {value:,.2f}" for model, value in cost.by_model.items()]
        if cost.unpriced:
            out.append(f"  unpriced (not in the prices file): {', '.join(cost.unpriced)}")
        out += [f"  note: {note}" for note in cost.notes]
    out.append("")
    out.append(
        "(+N): calls made only for some answers (confession and report judges, tool turns), "
        "counted at their most; tokens ~4 characters each, answers at max_tokens."
    )
    if plan.assumed:
        out.append(
            f"judge prompts counted as one call per sample (not known to the planner): "
            f"{', '.join(sorted(plan.assumed))}"
        )
    return "\n".join(out)


def announce_plan(
    suite: Suite,
    planned: Sequence[Any],
    checkpoints: CheckpointSet,
    judge: JudgeSpec | None,
    *,
    only: Sequence[Any] | None = None,
    judge_batch: bool = False,
    max_calls: int | None = None,
    prices: dict[str, Price] | None = None,
) -> str:
    """The plan's one-line total, for ``run`` to print before the first call; refuses a
    plan above ``max_calls`` (called before any model is loaded or anything is written)."""
    models = {name: spec.model for name, spec in checkpoints.specs.items()}
    plan = build_plan(suite, planned, judge, models, judge_batch=judge_batch, only=only)
    check_max_calls(plan, max_calls)
    cost = plan_cost(plan, prices) if prices is not None else None
    return f"alignprobe: {one_line(plan, cost)}"
