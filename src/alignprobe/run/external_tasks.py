"""Inspect tasks from other packages in a suite, read through declared measures.

A suite may list any Inspect task: a registered one from an installed package
(``inspect_evals/mask``) or a task in a Python file (``my_tasks.py@my_task``, relative to
the suite). alignprobe cannot know what such a task's scores mean, so the suite entry
declares the measures to read from them, each with its kind and good direction::

    - task: inspect_evals/agentic_misalignment
      params: {scenario: blackmail}
      judged: true                # asks for the `grader` role: --judge is required
      cluster: scenario           # sample metadata field that groups samples (CIs, pairing);
                                  # left out: each sample is its own cluster
      measures:
        - name: harmful           # column of the results table
          scorer: harmfulness_scorer  # the Inspect scorer whose score holds it
          key: harmful            # for a dict-valued score: the key to read
          kind: rate              # rate (0/1 per sample) | score (a number on `scale`)
          direction: good-low
          description: acts harmfully in the scenario
          headline: true

The declared measures are recorded in the task's metadata exactly as alignprobe's own
tasks record theirs, so the table, compare and the gate treat them alike; a gate check
naming a measure that was not declared is a policy error. A scorer that the task does
not have, a cluster field that no sample carries, a measure name declared twice, or a
``key`` that the scorer's metrics (a dict, one entry per key) do not name, is refused
before anything runs; a ``key`` that no sample's score has is reported after the run
(:class:`KeyTally`: ``run`` and ``table`` exit 2 naming it);
a score value that is not a number (or a 0/1 letter such as Inspect's ``C``/``I``) is
*unscored* with the value as its reason, never counted as 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from alignprobe.errors import ConfigError
from alignprobe.measures import Direction, Measure, MeasureKind

if TYPE_CHECKING:
    from alignprobe.evals.suite import Suite

#: key of the task-metadata block (beside the measures) saying how to read the scores
EXTERNAL_KEY = "external"
#: the one condition an external task runs under: its own prompts, nothing added
EXTERNAL_CONDITION = "neutral"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
#: Inspect's letter values (inspect_ai.scorer CORRECT / INCORRECT / PARTIAL / NOANSWER)
#: and the yes/no words its value_to_float reads
_LETTERS = {"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0}
_WORDS = {"yes": 1.0, "no": 0.0, "true": 1.0, "false": 0.0}


class ExternalMeasure(BaseModel):
    """One measure read from an external task's scores."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    """Column of the results table (snake_case)."""
    kind: MeasureKind
    direction: Direction
    description: str = ""
    headline: bool = False
    scale: tuple[float, float] = (0.0, 1.0)
    scorer: str | None = None
    """Scorer whose score holds the value; may be left out when the task has one scorer."""
    key: str | None = None
    """Key of a dict-valued score."""

    @field_validator("name")
    @classmethod
    def _snake_case(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"measure name '{value}' is not snake_case (a-z, 0-9, _)")
        return value

    def measure(self) -> Measure:
        return Measure(
            name=self.name,
            kind=self.kind,
            direction=self.direction,
            description=self.description or f"{self.scorer or 'score'} {self.key or ''}".strip(),
            headline=self.headline,
            scale=self.scale,
        )


class ExternalSpec(BaseModel):
    """What a suite declares about an external task."""

    model_config = ConfigDict(extra="forbid")

    measures: list[ExternalMeasure] = Field(min_length=1)
    cluster: str | None = None
    judged: bool = False

    @model_validator(mode="after")
    def _unique(self) -> ExternalSpec:
        names = [m.name for m in self.measures]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"measure(s) declared twice: {', '.join(twice)}")
        return self


def is_external(name: str) -> bool:
    """Another package's task (``package/name``) or a file's (``file.py@name``)."""
    return not name.startswith("alignprobe/") and ("/" in name or "@" in name)


def resolve_spec(name: str, suite_file: Path | None) -> str:
    """A file task's path made absolute against the suite's folder; names as they are."""
    path, at, task = name.partition("@")
    if not at or suite_file is None or Path(path).is_absolute():
        return name
    return f"{(suite_file.parent / path).resolve()}@{task}"


def task_function(spec: str) -> Callable[..., Any]:
    """The ``@task`` function of an external task (its package or file loaded first)."""
    from inspect_ai._eval.loader import load_file_tasks
    from inspect_ai._util.registry import registry_lookup

    path, at, name = spec.partition("@")
    if at:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"task file not found: {file}", field="task")
        try:
            load_file_tasks(file.absolute())
        except Exception as exc:  # the file's own import error, in one line
            raise ConfigError(
                f"cannot load tasks from {file}: {type(exc).__name__}: {exc}", field="task"
            ) from None
        found = registry_lookup("task", name)
    else:
        found = registry_lookup("task", spec)
    if found is None:
        package = spec.split("/")[0]
        hint = (
            f"no task '{name}' in {path}"
            if at
            else f"no Inspect task '{spec}' is registered (is the package '{package}' installed?)"
        )
        raise ConfigError(hint, field="task")
    return cast(Callable[..., Any], found)


def create_task(spec: str, params: dict[str, Any]) -> Any:
    """The Inspect Task of an external task with its parameters."""
    from inspect_ai._eval.loader import load_task_spec

    tasks = load_task_spec(spec, params)
    if len(tasks) != 1:
        raise ConfigError(f"'{spec}' names {len(tasks)} tasks, not one", field="task")
    return tasks[0]


def scorer_names(task: Any) -> list[str]:
    """Names under which the task's scores appear in a log (unqualified registry names)."""
    from inspect_ai._util.registry import registry_info, registry_unqualified_name

    scorers = task.scorer or []
    return [registry_unqualified_name(registry_info(s).name) for s in scorers]


def declared_keys(task: Any) -> dict[str, list[str]]:
    """``{scorer name: keys}`` for scorers whose metrics are a dict naming every key.

    Inspect applies such metrics key by key to a dict-valued score, so its keys are the
    score's keys. A scorer with a list of metrics (or a glob among its keys) says nothing
    about its keys and is left out.
    """
    from inspect_ai._util.registry import registry_info, registry_unqualified_name
    from inspect_ai.scorer._scorer import SCORER_METRICS

    known: dict[str, list[str]] = {}
    for scorer in task.scorer or []:
        info = registry_info(scorer)
        metrics = info.metadata.get(SCORER_METRICS)
        if isinstance(metrics, dict) and metrics and not any(set("*?[") & set(k) for k in metrics):
            known[registry_unqualified_name(info.name)] = [str(k) for k in metrics]
    return known


def check_against_task(spec: ExternalSpec, task: Any) -> list[tuple[int, str, str]]:
    """Problems of the declaration against the built task: ``(measure index, field, message)``."""
    problems: list[tuple[int, str, str]] = []
    names = scorer_names(task)
    keys = declared_keys(task)
    for index, measure in enumerate(spec.measures):
        if measure.scorer is None and len(names) != 1:
            problems.append(
                (
                    index,
                    "scorer",
                    f"the task has {len(names)} scorers ({', '.join(names)}): "
                    "say which one holds this measure",
                )
            )
        elif measure.scorer is not None and measure.scorer.split("/")[-1] not in names:
            problems.append(
                (
                    index,
                    "scorer",
                    f"the task has no scorer '{measure.scorer}'; "
                    f"its scorers: {', '.join(names) or 'none'}",
                )
            )
        elif measure.key is not None:
            scorer = measure.scorer.split("/")[-1] if measure.scorer else names[0]
            if scorer in keys and measure.key not in keys[scorer]:
                problems.append(
                    (
                        index,
                        "key",
                        f"scorer '{scorer}' gives no key '{measure.key}'; "
                        f"its keys (from its metrics): {', '.join(keys[scorer])}",
                    )
                )
    return problems


def cluster_missing(spec: ExternalSpec, task: Any) -> str | None:
    """Why the declared cluster field cannot group this task's samples (``None``: it can)."""
    if spec.cluster is None:
        return None
    fields: set[str] = set()
    for sample in task.dataset:
        metadata = sample.metadata or {}
        if spec.cluster in metadata:
            return None
        fields.update(metadata)
    return (
        f"no sample's metadata has the field '{spec.cluster}'; "
        f"fields: {', '.join(sorted(fields)) or 'none'}"
    )


def metadata_block(spec: ExternalSpec, declared: dict[str, Any]) -> dict[str, Any]:
    """How the table reads this task: scorer/key per measure, the cluster field."""
    return {
        EXTERNAL_KEY: {
            "measures": {m.name: {"scorer": m.scorer, "key": m.key} for m in spec.measures},
            "cluster": spec.cluster,
            "declared": declared,
        }
    }


def to_number(value: Any) -> tuple[float | None, str | None]:
    """A score value as a number, or ``(None, reason)`` when it is not one."""
    if isinstance(value, bool):
        return float(value), None
    if isinstance(value, int | float):
        number = float(value)
        return (number, None) if math.isfinite(number) else (None, f"score value {value!r}")
    if isinstance(value, str):
        text = value.strip()
        if text in _LETTERS:
            return _LETTERS[text], None
        if text.lower() in _WORDS:
            return _WORDS[text.lower()], None
        try:
            number = float(text)
        except ValueError:
            return None, f"score value {value!r} is not a number"
        return (number, None) if math.isfinite(number) else (None, f"score value {value!r}")
    if value is None:
        return None, "no score value"
    return None, f"score value of type {type(value).__name__} is not a number"


def scorer_of(how: dict[str, str | None], scores: dict[str, Any]) -> str | None:
    """The scorer a measure reads (``None``: undeclared and the sample has not one score)."""
    scorer = how.get("scorer")
    if scorer is None:
        present: Sequence[str] = list(scores)
        return present[0] if len(present) == 1 else None
    return scorer.split("/")[-1]


def read_measures(
    scores: dict[str, Any], reading: dict[str, dict[str, str | None]]
) -> tuple[dict[str, float | None], dict[str, str]]:
    """One sample's declared measures from its scores (``{scorer: value}``)."""
    values: dict[str, float | None] = {}
    unscored: dict[str, str] = {}
    for name, how in reading.items():
        scorer, key = scorer_of(how, scores), how.get("key")
        if scorer is None or scorer not in scores:
            values[name] = None  # not scored (an errored sample): no reason to report
            continue
        value = scores[scorer]
        if key is not None:
            if not isinstance(value, dict) or key not in value:
                keys = ", ".join(map(str, value)) if isinstance(value, dict) else "not a dict"
                values[name], unscored[name] = None, f"score has no key '{key}' ({keys})"
                continue
            value = value[key]
        values[name], reason = to_number(value)
        if reason is not None:
            unscored[name] = reason
    return values, unscored


@dataclass
class UnreadKey:
    """A declared measure whose ``key`` not one sample's score carries."""

    task: str
    measure: str
    key: str
    scorer: str = ""
    keys: set[str] = field(default_factory=set)
    """The keys the scorer's (dict) values do have."""

    def message(self) -> str:
        keys = ", ".join(sorted(self.keys)) or "none (its values are not dicts)"
        return (
            f"measure '{self.measure}' of task '{self.task}': no sample's '{self.scorer}' "
            f"score has the key '{self.key}'; the scores have keys: {keys}"
        )


class KeyTally:
    """Which declared keys the samples' scores carry, sample by sample."""

    def __init__(self) -> None:
        self._missing: dict[tuple[str, str], UnreadKey] = {}
        self._found: set[tuple[str, str]] = set()

    def add(self, task: str, reading: dict[str, dict[str, str | None]], scores: Any) -> None:
        """One sample of ``task``: ``reading`` as recorded (measure -> scorer/key)."""
        if not isinstance(scores, dict):
            return
        for name, how in reading.items():
            key, scorer = how.get("key"), scorer_of(how, scores)
            if key is None or scorer is None or scorer not in scores:
                continue  # no key to read, or not scored (an errored sample)
            value = scores[scorer]
            if isinstance(value, dict) and key in value:
                self._found.add((task, name))
                continue
            unread = self._missing.setdefault((task, name), UnreadKey(task, name, str(key), scorer))
            if isinstance(value, dict):
                unread.keys.update(map(str, value))

    def unread(self) -> list[UnreadKey]:
        """Measures whose key no scored sample had."""
        return [u for where, u in self._missing.items() if where not in self._found]


def unread_key_error(suite: Suite, unread: list[UnreadKey]) -> ConfigError:
    """The first unread key as an error at its suite line (and how many more there are)."""
    first = unread[0]
    more = f" (and {len(unread) - 1} more measure(s) likewise)" if len(unread) > 1 else ""
    # the logs record the key as declared: a corrected suite is a new run
    more += "; correct the key and run the suite into a new --out"
    for index, item in enumerate(suite.tasks):
        names = [m.name for m in item.measures or []]
        if item.task == first.task and first.measure in names:
            number = names.index(first.measure)
            return ConfigError(
                first.message() + more,
                source=suite.source or None,
                line=suite.line(index, f"measures.{number}.key"),
                field=f"tasks[{index}].measures[{number}].key",
            )
    return ConfigError(first.message() + more, field="measures")
