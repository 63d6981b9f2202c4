"""Refuse a policy that names a task, measure or condition that nothing defines.

A typo such as ``condition: neutrl`` selects no rows, and a check without rows must never
look like a pass. Known names are alignprobe's built-ins (the task families under
``alignprobe/tasks``, the measures each declares, the conditions in ``data/conditions.yaml``)
plus whatever either result holds (tasks, conditions, measures.json specs and measure
columns). Anything else is a :class:`ConfigError` naming the policy file, line and field.

Checking names imports no family and no Inspect (seconds of every gate): the built-in
measures are listed in :mod:`alignprobe.gate.builtin_names` and the conditions are read
from their YAML file. The families themselves are consulted only for a name the list
lacks, before it is refused.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
import pkgutil
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

from alignprobe.errors import ConfigError
from alignprobe.fileio import load_yaml
from alignprobe.gate.builtin_names import BUILTIN_MEASURES
from alignprobe.gate.policy import ANY_CONDITION, GatePolicy
from alignprobe.gate.results import Side


def builtin_tasks() -> set[str]:
    """Short names of alignprobe's task families (one package each under ``alignprobe.tasks``)."""
    import alignprobe.tasks as families

    return {m.name for m in pkgutil.iter_modules(families.__path__) if m.ispkg}


def builtin_measures(task: str) -> frozenset[str]:
    """The measures a built-in family declares (listed; see :func:`registered_measures`)."""
    return BUILTIN_MEASURES.get(task, frozenset())


@functools.cache
def registered_measures(task: str) -> frozenset[str]:
    """The measures a built-in family declares, read from the family (imports it and
    Inspect): its scorer's ``MEASURES``, and the reasoning channel's where the task takes
    ``judge_reasoning``."""
    if task not in builtin_tasks():
        return frozenset()
    from alignprobe.evals.suite import task_function
    from alignprobe.reasoning_measures import REASONING_MEASURES

    scorer = importlib.import_module(f"alignprobe.tasks.{task}.scorer")
    names = {m.name for m in scorer.MEASURES}
    if "judge_reasoning" in inspect.signature(task_function(task)).parameters:
        names |= {m.name for m in REASONING_MEASURES}  # added with -T judge_reasoning=true
    return frozenset(names)


def builtin_condition_names() -> set[str]:
    """The conditions of ``data/conditions.yaml`` (their names only: nothing is resolved)."""
    with resources.as_file(resources.files("alignprobe.data") / "conditions.yaml") as path:
        data = load_yaml(path)
    return {str(name) for name in (data.get("conditions") or {})}


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
        if spec.measure not in measures:
            measures |= builtin_measures(spec.task)
        if spec.measure not in measures:  # the family itself, before refusing (imports it)
            measures |= registered_measures(spec.task)
        if spec.measure not in measures:
            loc, of = ("checks", index, "measure"), f" of task '{spec.task}'"
            raise _unknown(policy, path, loc, "measure", spec.measure, measures, of)
        condition = policy.settings(spec).condition
        if condition != ANY_CONDITION and condition not in conditions:
            where: tuple[int | str, ...] = ("checks", index, "condition")
            if spec.condition is None:  # inherited
                where = ("defaults", "condition")
            raise _unknown(policy, path, where, "condition", condition, conditions)
