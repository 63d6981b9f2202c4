"""The task parameters every probe family takes, declared once.

Every family's ``@task`` takes the prompt condition (``condition``, ``conditions_file``),
how many replies per item (``samples`` or ``epochs``), ``temperature`` and ``max_tokens``;
a judged family also its judge's options: ``judge_method`` and ``judge_samples`` (a 0-100
judge), ``judge_cache``, ``judge_reasoning`` (the reasoning channel judged too).

:func:`standard_params` adds them to a family's own parameters: Inspect, ``-T`` and the
suite checks see one plain signature with every parameter, and the family's function
receives them checked and resolved as one :class:`RunSettings`. The family's parameters
before a bare ``*`` come first, then the standard ones, then the family's parameters
after the ``*``, then the judge options.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from inspect_ai import Task
from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import Scorer

from alignprobe.conditions import NEUTRAL, Condition, resolve_condition
from alignprobe.measures import Measure
from alignprobe.scorers.numeric_judge import JudgeMethod
from alignprobe.scorers.reasoning_channel import ScorerPlan, with_reasoning_judge
from alignprobe.task_params import FamilyDefaults, require_at_least

#: replies per item a numeric judge samples when the provider gives no logprobs
DEFAULT_JUDGE_SAMPLES = 5


class JudgeOption(StrEnum):
    """A group of judge parameters a family takes (signature order: as listed here)."""

    METHOD = "method"
    """``judge_method`` and ``judge_samples``: how a 0-100 judgement is read."""
    CACHE = "cache"
    """``judge_cache``."""
    REASONING = "reasoning"
    """``judge_reasoning``: also judge the reasoning channel."""


_JUDGE_PARAMS: dict[JudgeOption, tuple[tuple[str, type, Any], ...]] = {
    JudgeOption.METHOD: (
        ("judge_method", str, JudgeMethod.AUTO.value),
        ("judge_samples", int, DEFAULT_JUDGE_SAMPLES),
    ),
    JudgeOption.CACHE: (("judge_cache", bool, True),),
    JudgeOption.REASONING: (("judge_reasoning", bool, False),),
}


@dataclass(frozen=True)
class JudgeSettings:
    """The judge options a run was given (a family's defaults where it takes none)."""

    method: str = JudgeMethod.AUTO.value
    samples: int = DEFAULT_JUDGE_SAMPLES
    cache: bool = True
    reasoning: bool = False

    def plan(self, inner: Scorer, measures: list[Measure]) -> ScorerPlan:
        """``inner`` and its measures, with the reasoning judge added when it is on."""
        return with_reasoning_judge(inner, measures, self.reasoning, self.cache)


@dataclass(frozen=True)
class RunSettings:
    """The standard parameters of one task, checked, with the family's name and version:
    what every family builds its Task with."""

    name: str
    version: str
    condition: Condition
    config: GenerateConfig
    epochs: int | None = None
    judge: JudgeSettings = field(default_factory=JudgeSettings)


def _parameter(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation
    )


def standard_params(
    family: FamilyDefaults, judge: tuple[JudgeOption, ...] = ()
) -> Callable[[Callable[..., Task]], Callable[..., Task]]:
    """Give a family's task function the standard parameters with the family's defaults.

    ``judge``: the judge option groups the family takes. Ranges are checked (replies,
    ``max_tokens`` and ``judge_samples`` at least 1, ``temperature`` at least 0) and the
    condition resolved before the family's function runs.
    """
    replies, default_replies = family.replies
    generation = [
        _parameter("condition", str, NEUTRAL),
        _parameter("conditions_file", str | None, None),
        _parameter(replies, int, default_replies),
        _parameter("temperature", float, family.temperature),
        _parameter("max_tokens", int, family.max_tokens),
    ]
    judge_params = [
        _parameter(name, annotation, default)
        for option in JudgeOption
        if option in judge
        for name, annotation, default in _JUDGE_PARAMS[option]
    ]

    def settings(arguments: dict[str, Any]) -> RunSettings:
        """Take the standard parameters out of ``arguments``, checked and resolved."""
        epochs = arguments.pop(replies)
        temperature, max_tokens = arguments.pop("temperature"), arguments.pop("max_tokens")
        options = {p.name: arguments.pop(p.name) for p in judge_params}
        judged = JudgeSettings(
            **{name.removeprefix("judge_"): value for name, value in options.items()}
        )
        at_least_one = {replies: epochs, "max_tokens": max_tokens}
        if JudgeOption.METHOD in judge:
            at_least_one["judge_samples"] = judged.samples
        require_at_least(1, **at_least_one)
        require_at_least(0, temperature=temperature)
        condition = resolve_condition(arguments.pop("condition"), arguments.pop("conditions_file"))
        config = GenerateConfig(temperature=temperature, max_tokens=max_tokens)
        return RunSettings(family.name, family.version, condition, config, epochs, judged)

    def decorate(build: Callable[..., Task]) -> Callable[..., Task]:
        hints = typing.get_type_hints(build)
        own = list(inspect.signature(build).parameters.values())[1:]
        before = [p for p in own if p.kind is not inspect.Parameter.KEYWORD_ONLY]
        after = [p for p in own if p.kind is inspect.Parameter.KEYWORD_ONLY]
        parameters = [
            *(_parameter(p.name, hints[p.name], p.default) for p in before),
            *generation,
            *(_parameter(p.name, hints[p.name], p.default) for p in after),
            *judge_params,
        ]
        signature = inspect.Signature(parameters, return_annotation=Task)

        @functools.wraps(build)
        def family_task(*args: Any, **kwargs: Any) -> Task:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = dict(bound.arguments)
            run = settings(arguments)
            return build(run, **arguments)

        # Inspect, -T checks and suites read the parameters from the signature and hints
        family_task.__signature__ = signature  # type: ignore[attr-defined]
        family_task.__annotations__ = {
            **{p.name: p.annotation for p in parameters},
            "return": Task,
        }
        return family_task

    return decorate
