"""Suites: which tasks, with which parameters, under which prompt conditions, how many samples.

A suite is a built-in name (``smoke``, ``core``, ``full``: files beside this module) or a
path to a YAML file of the same shape::

    name: my-suite
    description: what it is for
    samples: 3              # default answers per question (task param `samples`, else epochs)
    limit: null             # default: at most this many samples per task
    judge_batch: false      # judge calls through the provider's batch API (docs/cost.md)
    tasks:
      - task: emergent_misalignment
        params: {questions: core}
        conditions: [neutral, inoculation_general]
        samples: 5          # overrides the suite default
        time_limit: 120     # per-sample limits (Inspect): time_limit, message_limit, token_limit

A task of another package (``package/name``, ``file.py@name``) is listed with the measures
to read from its scores (:mod:`alignprobe.run.external_tasks`).

Task names are checked against the registered alignprobe tasks, and ``params`` against
the task's signature (names and types), so a typo fails before anything runs. An error
while a task is built from its entry (an unknown condition or question set, a value out
of range) names the suite file and the entry's line (:meth:`Suite.locate`).
"""

from __future__ import annotations

import hashlib
import inspect
import typing
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    PydanticSchemaGenerationError,
    TypeAdapter,
    field_validator,
)

from alignprobe.conditions import NEUTRAL
from alignprobe.errors import ConfigError, UserInputError
from alignprobe.fileio import LineDict, LineList, load_yaml, validate
from alignprobe.run.external_tasks import (
    EXTERNAL_CONDITION,
    ExternalMeasure,
    ExternalSpec,
    is_external,
    resolve_spec,
)
from alignprobe.run.external_tasks import task_function as external_function
from alignprobe.task_params import check_task_params
from alignprobe.tasks.registry import ALIGNPROBE_TASKS


class SuiteTask(BaseModel):
    """One task of a suite, run once per condition."""

    model_config = ConfigDict(extra="forbid")

    task: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)
    conditions: list[str] = Field(default_factory=lambda: [NEUTRAL], min_length=1)
    samples: int | None = Field(default=None, ge=1)
    limit: int | None = Field(default=None, ge=1)
    time_limit: int | None = Field(default=None, ge=1)
    message_limit: int | None = Field(default=None, ge=1)
    token_limit: int | None = Field(default=None, ge=1)
    # another package's task (alignprobe.run.external_tasks): how to read its scores
    measures: list[ExternalMeasure] | None = None
    cluster: str | None = None
    judged: bool | None = None

    def external(self) -> ExternalSpec | None:
        """The declaration of an external task (``None`` for alignprobe's own)."""
        if self.measures is None:
            return None
        return ExternalSpec(measures=self.measures, cluster=self.cluster, judged=bool(self.judged))

    @field_validator("task")
    @classmethod
    def _short_name(cls, value: str) -> str:
        return value.removeprefix("alignprobe/")

    @field_validator("conditions")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("conditions are listed twice")
        return value


class Suite(BaseModel):
    """A named list of tasks with defaults."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    description: str = ""
    samples: int | None = Field(default=None, ge=1)
    limit: int | None = Field(default=None, ge=1)
    judge_batch: bool = False
    """Judge calls through the provider's batch API (``run --judge-batch``)."""
    tasks: list[SuiteTask] = Field(min_length=1)
    source: str = Field(default="", exclude=True)
    sha256: str = Field(default="", exclude=True)
    _lines: list[dict[str, int]] = PrivateAttr(default_factory=list)
    """Per task: the line of the entry, of each key, ``params.<name>``, ``conditions.<name>``."""

    def locate(self, error: UserInputError, index: int, condition: str) -> UserInputError:
        """``error``, raised while building task ``index`` under ``condition``, placed at the
        suite line that asked for it (an error that already names a file keeps its place)."""
        if error.source is not None or not self.source:
            return error
        lines = self._lines[index] if index < len(self._lines) else {}
        where = f"tasks[{index}]"
        if error.field == "condition":
            key, field = f"conditions.{condition}", f"{where}.conditions"
        elif error.field in self.tasks[index].params:
            key = field = f"params.{error.field}"
            field = f"{where}.{field}"
        else:
            key, field = "", f"{where}.{error.field}" if error.field else where
        line = lines.get(key) or lines.get(key.partition(".")[0]) or lines.get("")
        return type(error)(error.message, source=self.source, line=line, field=field)

    def line(self, index: int, key: str = "") -> int | None:
        """Line of task ``index`` (or of one of its keys) in the suite file."""
        lines = self._lines[index] if index < len(self._lines) else {}
        return lines.get(key) or lines.get("")

    def task_spec(self, item: SuiteTask) -> str:
        """What Inspect loads for the entry (a file task's path made absolute)."""
        return resolve_spec(item.task, Path(self.source) if self.source else None)

    def samples_for(self, item: SuiteTask) -> int | None:
        return item.samples if item.samples is not None else self.samples

    def limit_for(self, item: SuiteTask) -> int | None:
        return item.limit if item.limit is not None else self.limit


def _folder() -> Path:
    return Path(str(resources.files("alignprobe.evals")))


def builtin_suites() -> list[str]:
    return sorted(p.stem for p in _folder().glob("*.yaml") if not p.stem.startswith("gate"))


def suite_file(suite: str) -> Path:
    """Built-in name or path -> the YAML file."""
    if suite in builtin_suites():
        return _folder() / f"{suite}.yaml"
    if suite.endswith((".yaml", ".yml")) or "/" in suite:
        return Path(suite)
    raise ConfigError(
        f"unknown suite '{suite}': give a built-in suite ({', '.join(builtin_suites())}) "
        "or a path to a suite YAML file",
        field="suite",
    )


def _task_line(data: Any, index: int, key: str | None = None) -> int | None:
    tasks = data.get("tasks") if isinstance(data, dict) else None
    if not isinstance(tasks, LineList) or index >= len(tasks):
        return None
    item = tasks[index]
    if key is not None and isinstance(item, LineDict) and key in item.key_lines:
        return item.key_lines[key]
    return tasks.item_lines[index]


def _task_lines(data: Any, index: int) -> dict[str, int]:
    """Lines of task ``index``: ``""`` the entry, each key, ``params.<name>``,
    ``conditions.<name>``, ``measures.<n>`` and ``measures.<n>.<key>``."""
    tasks = data.get("tasks") if isinstance(data, dict) else None
    if not isinstance(tasks, LineList) or index >= len(tasks):
        return {}
    lines = {"": tasks.item_lines[index]}
    item = tasks[index]
    if isinstance(item, LineDict):
        lines.update(item.key_lines)
        params = item.get("params")
        if isinstance(params, LineDict):
            lines.update({f"params.{key}": line for key, line in params.key_lines.items()})
        measures = item.get("measures")
        if isinstance(measures, LineList):
            for number, (measure, line) in enumerate(
                zip(measures, measures.item_lines, strict=True)
            ):
                lines[f"measures.{number}"] = line
                if isinstance(measure, LineDict):
                    lines.update(
                        {f"measures.{number}.{k}": v for k, v in measure.key_lines.items()}
                    )
        conditions = item.get("conditions")
        if isinstance(conditions, LineList):
            lines.update(
                {
                    f"conditions.{c}": line
                    for c, line in zip(conditions, conditions.item_lines, strict=True)
                }
            )
    return lines


def task_function(name: str) -> Callable[..., Any]:
    """The registered ``@task`` function ``alignprobe/<name>``."""
    from inspect_ai._util.registry import registry_lookup

    import alignprobe._registry  # noqa: F401  - registers the tasks

    fn = registry_lookup("task", f"alignprobe/{name}")
    if fn is None:
        hint = ""
        if registry_lookup("task", name) is not None:
            # Inspect prefixes a task with its package only when it can tell alignprobe is
            # installed: a source folder on PYTHONPATH with a stale *.egg-info hides that
            hint = (
                " (Inspect registered it without the 'alignprobe/' prefix: run alignprobe "
                "from its installed package, without its source folder on PYTHONPATH)"
            )
        raise ConfigError(
            f"task 'alignprobe/{name}' is listed but not registered{hint}", field="task"
        )
    return cast(Callable[..., Any], fn)


def check_tasks(suite: Suite, data: Any, source: Path) -> None:
    """Every task registered, every param known to it, conditions not given twice."""
    for index, item in enumerate(suite.tasks):
        where = f"tasks[{index}]"
        if is_external(item.task):
            _check_external(item, data, source, index)
            continue
        declared = [k for k in ("measures", "cluster", "judged") if getattr(item, k) is not None]
        if declared and item.task in ALIGNPROBE_TASKS:
            raise ConfigError(
                f"alignprobe tasks declare their own measures; '{declared[0]}' is only for "
                "tasks of other packages",
                source=source,
                line=_task_line(data, index, declared[0]),
                field=f"{where}.{declared[0]}",
            )
        if item.task not in ALIGNPROBE_TASKS:
            raise ConfigError(
                f"unknown task '{item.task}'; registered tasks: {', '.join(ALIGNPROBE_TASKS)}",
                source=source,
                line=_task_line(data, index, "task"),
                field=f"{where}.task",
            )
        accepted = inspect.signature(task_function(item.task)).parameters
        for param in item.params:
            if param == "condition":
                raise ConfigError(
                    "put the condition in 'conditions', not in 'params'",
                    source=source,
                    line=_task_line(data, index, "params"),
                    field=f"{where}.params.condition",
                )
            if param not in accepted:
                raise ConfigError(
                    f"task '{item.task}' has no parameter '{param}'; it takes: "
                    f"{', '.join(accepted)}",
                    source=source,
                    line=_task_line(data, index, "params"),
                    field=f"{where}.params.{param}",
                )
        # values of the wrong type fail here, naming their line; kept as the annotated type
        lines = _task_lines(data, index)
        item.params.update(
            check_task_params(
                item.task,
                task_function(item.task),
                item.params,
                field_prefix=f"{where}.params.",
                source=source,
                lines={p: lines.get(f"params.{p}") for p in item.params},
            )
        )
        if "condition" not in accepted:
            raise ConfigError(
                f"task '{item.task}' takes no 'condition' parameter",
                source=source,
                line=_task_line(data, index, "task"),
                field=f"{where}.task",
            )


def _checkable(annotation: Any) -> bool:
    """Can pydantic check a value against this annotation (not e.g. ``str | Model``)?"""
    try:
        TypeAdapter(annotation)
    except PydanticSchemaGenerationError:
        return False
    return True


def _check_external(item: SuiteTask, data: Any, source: Path, index: int) -> None:
    """An external task: declared measures, only its own prompts, a known name and params."""
    where = f"tasks[{index}]"
    if item.measures is None:
        raise ConfigError(
            f"'{item.task}' is not an alignprobe task: declare the measures to read from its "
            "scores (measures: [{name, kind: rate|score, direction: good-high|good-low, "
            "scorer, key}])",
            source=source,
            line=_task_line(data, index, "task"),
            field=f"{where}.measures",
        )
    names = [measure.name for measure in item.measures]
    for number, name in enumerate(names):
        if name in names[:number]:
            lines = _task_lines(data, index)
            raise ConfigError(
                f"measure '{name}' is declared twice (first as measures[{names.index(name)}]); "
                "each measure needs its own name",
                source=source,
                line=lines.get(f"measures.{number}.name") or lines.get(f"measures.{number}"),
                field=f"{where}.measures[{number}].name",
            )
    if item.conditions != [EXTERNAL_CONDITION]:
        raise ConfigError(
            f"conditions: only [{EXTERNAL_CONDITION}] for another package's task (alignprobe "
            "cannot add its prompt conditions to it; the task runs with its own prompts)",
            source=source,
            line=_task_line(data, index, "conditions"),
            field=f"{where}.conditions",
        )
    try:
        fn = external_function(resolve_spec(item.task, source))
    except ConfigError as exc:
        raise ConfigError(
            exc.message, source=source, line=_task_line(data, index, "task"), field=f"{where}.task"
        ) from None
    lines = _task_lines(data, index)
    accepted = inspect.signature(fn).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
    for param in item.params:
        if param not in accepted and not takes_any:
            raise ConfigError(
                f"task '{item.task}' has no parameter '{param}'; it takes: {', '.join(accepted)}",
                source=source,
                line=lines.get(f"params.{param}"),
                field=f"{where}.params.{param}",
            )
    try:  # another package's annotations may not resolve here: then values go as written
        hints = typing.get_type_hints(fn)
    except Exception:
        hints = {}
    typed = {k: v for k, v in item.params.items() if k in hints and _checkable(hints[k])}
    item.params.update(
        check_task_params(
            item.task,
            fn,
            typed,
            field_prefix=f"{where}.params.",
            source=source,
            lines={p: lines.get(f"params.{p}") for p in typed},
        )
    )


def load_suite(suite: str | Path) -> Suite:
    """Read, validate and check a suite (built-in name or path)."""
    path = suite_file(str(suite))
    data = load_yaml(path)
    parsed = validate(Suite, data, source=path, error=ConfigError)
    check_tasks(parsed, data, path)
    loaded = parsed.model_copy(
        update={
            "name": parsed.name or path.stem,
            "source": str(path),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest()[:16],
        }
    )
    loaded._lines = [_task_lines(data, index) for index in range(len(loaded.tasks))]
    return loaded
