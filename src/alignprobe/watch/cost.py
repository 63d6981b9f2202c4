"""What one checkpoint's evaluation costs, counted from the planned tasks.

Counted before anything runs (no model is loaded): samples, model calls (one per sample
for single-turn tasks; a floor for agentic ones) and judged samples (at least one judge
call each). ``run --plan`` numbers, where a task has them, are the place to refine this.
"""

from __future__ import annotations

from dataclasses import dataclass

from alignprobe.run.suite_run import PlannedTask, _is_judged, planned_samples


@dataclass(frozen=True)
class Cost:
    samples: int = 0
    model_calls: int = 0
    judge_calls: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.samples + other.samples,
            self.model_calls + other.model_calls,
            self.judge_calls + other.judge_calls,
        )

    def line(self) -> str:
        return (
            f"{self.samples} samples, >= {self.model_calls} model calls, "
            f">= {self.judge_calls} judge calls"
        )


def checkpoint_cost(planned: list[PlannedTask]) -> Cost:
    """The cost of evaluating one checkpoint's planned tasks."""
    total = Cost()
    for item in planned:
        samples = planned_samples(item)
        judged = item.judged if item.judged is not None else _is_judged(item.inspect_task)
        total = total + Cost(samples, samples, samples if judged else 0)
    return total
