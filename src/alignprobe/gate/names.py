"""Refuse a policy that names a task, measure or condition that nothing defines.

A typo such as ``condition: neutrl`` selects no rows, and a check without rows must never
look like a pass. Known names are alignprobe's built-ins (the task families under
``alignprobe/tasks``, the measures each declares, the conditions in ``data/conditions.yaml``)
plus whatever either result holds (tasks, conditions, measures.json specs and measure
columns). Anything else is a :class:`ConfigError` naming the policy file, line and field.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
import pkgutil
from collections.abc import Iterable, Sequence
from pathlib import Path

from alignprobe.errors import ConfigError
from alignprobe.evals.suite import task_function
from alignprobe.gate.policy import ANY_CONDITION, GatePolicy
from alignprobe.gate.results import Side
from alignprobe.reasoning_measures import REASONING_MEASURES


def builtin_tasks() -> set[str]:
    """Short names of alignprobe's task families (one package each under ``alignprobe.tasks``)."""
    import alignprobe.tasks as families

    return {m.name for m in pkgutil.iter_modules(families.__path__) if m.ispkg}


@functools.cache
def builtin_measures(task: str) -> frozenset[str]:
    """The measures a built-in family declares (its scorer's ``MEASURES``, and the reasoning
    channel's where the task takes ``judge_reasoning``)."""
    if task not in builtin_tasks():
        return frozenset()
    scorer = importlib.import_module(f"alignprobe.tasks.{task}.scorer")
    names = {m.name for m in scorer.MEASURES}
    if "judge_reasoning" in inspect.signature(task_function(task)).parameters:
        names |= {m.name for m in REASONING_MEASURES}  # added with -T judge_reasoning=true
    return frozenset(names)


def builtin_condition_names() -> set[str]:
    from alignprobe.conditions import builtin_conditions

    return set(builtin_conditions())


def _column_values(side: Side, column: str) -> set[str]:
    if column not in side.table.columns:
        return set()
    return {str(v) for v in side.table[column].dropna().unique()}


#: numeric columns of the table that are not measures
_NOT_MEASURES = ("epoch", "sample_id", "question_id", "task_version")


def _result_measures(side: Side, task: str) -> set[str]:
    """``task``'s measures in measures.json, and numeric columns with a value in its rows."""
    declared = {m.name for m in side.measures.get(task, [])}
    if declared:  # a task that declares its measures has no others (a metadata number is none)
        return declared
    rows = side.table[side.table["task"].astype(str) == task].select_dtypes("number")
    return {str(c) for c in rows.columns[rows.notna().any()]} - set(_NOT_MEASURES)


def _field(loc: tuple[int | str, ...]) -> str:
    """``checks[1].task`` / ``defaults.condition``."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def _unknown(
    policy: GatePolicy,
    source: Path | None,
    loc: tuple[int | str, ...],
    what: str,
    value: str,
    known: Iterable[str],
    of: str = "",
) -> ConfigError:
    names = sorted(set(known))
    close = difflib.get_close_matches(value, names, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    return ConfigError(
        f"unknown {what} '{value}'{of} (not built in and not in either result); "
        f"{hint}known: {', '.join(names) or 'none'}",
        source=policy.source or source,
        line=policy.line(*loc),
        field=_field(loc),
    )


def check_names(
    policy: GatePolicy, sides: Sequence[Side], source: str | Path | None = None
) -> None:
    """Raise :class:`ConfigError` for the first check naming an unknown task, measure or
    condition (``source`` names the file when the policy was not read from one)."""
    path = Path(source) if source else None
    tasks = builtin_tasks().union(*(_column_values(s, "task") | set(s.measures) for s in sides))
    conditions = builtin_condition_names().union(*(_column_values(s, "condition") for s in sides))
    for index, spec in enumerate(policy.checks):
        if spec.task not in tasks:
            raise _unknown(policy, path, ("checks", index, "task"), "task", spec.task, tasks)
        measures = set[str]().union(*(_result_measures(s, spec.task) for s in sides))
        if spec.measure not in measures:  # built-in specs only when needed: imports the family
            measures |= builtin_measures(spec.task)
        if spec.measure not in measures:
            loc, of = ("checks", index, "measure"), f" of task '{spec.task}'"
            raise _unknown(policy, path, loc, "measure", spec.measure, measures, of)
        condition = policy.settings(spec).condition
        if condition != ANY_CONDITION and condition not in conditions:
            where: tuple[int | str, ...] = ("checks", index, "condition")
            if spec.condition is None:  # inherited
                where = ("defaults", "condition")
            raise _unknown(policy, path, where, "condition", condition, conditions)
