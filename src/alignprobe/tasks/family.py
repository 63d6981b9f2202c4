"""What every probe family's ``@task`` shares once its own data, solver and scorer exist.

A family builds its dataset, its solver steps and its scorer (a :class:`ScorerPlan`: the
scorer and the measures it fills) with the :class:`RunSettings` of its standard parameters;
:func:`probe_task` adds the rest the same way for all:
the Task-metadata block (measures, condition, judge prompts, the family's own facts), the
grader check before a judged family's first sample, greedy settings that reach every
provider, and the comparability version.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inspect_ai import Task
from inspect_ai.dataset import Dataset, Sample
from inspect_ai.solver import Solver

from alignprobe.measures import measures_metadata
from alignprobe.models.portable_greedy import greedy_on_every_provider
from alignprobe.scorers.grader import check_grader
from alignprobe.scorers.reasoning_channel import ScorerPlan
from alignprobe.tasks.standard_params import RunSettings


def probe_task(
    run: RunSettings,
    *,
    dataset: Dataset | Sequence[Sample],
    solver: list[Solver],
    scoring: ScorerPlan,
    judge_prompt_ids: Sequence[str] | None = None,
    facts: dict[str, Any] | None = None,
    task_args: dict[str, Any] | None = None,
) -> Task:
    """The Inspect task of family ``run.name``, run with the condition, generation
    settings and epochs of ``run``.

    ``judge_prompt_ids``: the family's own judge prompts (``None`` for a family that is
    never judged); the scorer plan's (the reasoning judge's) are added after them, and a
    task with any judge prompt checks for its grader before the first sample. ``facts`` go
    into the Task metadata (data set, its hash, options that change what is measured);
    ``task_args`` are further ``Task`` arguments (``message_limit``, ``sandbox``).
    """
    metadata: dict[str, Any] = {
        **(facts or {}),
        "condition": run.condition.model_dump(mode="json"),
    }
    judged = False
    if judge_prompt_ids is not None:
        prompt_ids = [*judge_prompt_ids, *scoring.prompt_ids]
        metadata["judge_prompt_ids"] = prompt_ids
        judged = bool(prompt_ids)
    return Task(
        dataset=dataset,
        solver=greedy_on_every_provider([check_grader(), *solver] if judged else solver),
        scorer=scoring.scorer,
        metrics=scoring.metrics,
        epochs=run.epochs,
        config=run.config,
        metadata=measures_metadata(run.name, run.version, scoring.measures, **metadata),
        version=run.version,
        **(task_args or {}),
    )
