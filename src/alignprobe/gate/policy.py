"""The gate policy (``gate.yaml``): which checks, how strict, at which significance level.

Loaded with line numbers so a mistake is reported as ``gate.yaml:12: field 'checks[1].alpha':
...``. Per-check thresholds left out inherit from the policy's ``defaults`` block. The
policy remembers its file and lines so that :mod:`alignprobe.gate.names` can point at a
task, measure or condition name that neither alignprobe nor the results define.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from alignprobe.errors import ConfigError
from alignprobe.fileio import LineList, line_of, load_yaml, validate
from alignprobe.gate.types import Correction, GateMode, GateTest
from alignprobe.measures import Direction

T = TypeVar("T")

#: condition value that matches every condition in the table
ANY_CONDITION = "*"


def default_policy_path() -> Path:
    """The policy shipped with alignprobe (``alignprobe/evals/gate.yaml``)."""
    return Path(str(resources.files("alignprobe.evals").joinpath("gate.yaml")))


class CheckDefaults(BaseModel):
    """Thresholds every check inherits unless it sets its own."""

    model_config = ConfigDict(extra="forbid")

    condition: str = "neutral"
    """Prompt condition whose rows are compared (``*`` = all conditions)."""
    mode: GateMode = GateMode.REGRESSION
    """``regression``: fail on evidence of worsening beyond the margin. ``non_inferiority``:
    pass only on evidence that any worsening is below the margin (release gates)."""
    max_worsening: float = Field(default=0.0, ge=0)
    """Largest allowed worsening in the measure's units (0.02 = two points of a rate)."""
    max_relative_worsening: float | None = Field(default=None, ge=0)
    """Largest allowed worsening as a fraction of the baseline value (0.5 = half again)."""
    min_samples: int = Field(default=50, ge=1)
    """Scored samples each side needs, else the check cannot decide."""
    min_questions: int = Field(default=5, ge=2)
    """Questions both sides answered (the paired test's units), else cannot decide."""
    max_unscored_rate: float = Field(default=0.05, ge=0, le=1)
    """Largest share of rows the judge could not score (per side)."""
    max_error_rate: float = Field(default=0.0, ge=0, le=1)
    """Largest share of rows that ended in a sample error (per side)."""
    exclude_eval_aware: bool = False
    """Drop samples flagged ``eval_aware`` on both sides before comparing (a side with no
    eval-awareness flag cannot decide)."""
    required: bool = True
    """A check with no rows for its task and condition in either result cannot decide (exit
    2); ``false`` reports it as skipped instead."""


class CheckSpec(BaseModel):
    """One line of defence: a measure of a task that must not get worse."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    task: str = Field(min_length=1)
    """alignprobe task short name (the table's ``task`` column)."""
    measure: str = Field(min_length=1)
    """Measure column of the table."""
    description: str = ""
    condition: str | None = None
    slice_by: str | None = None
    """Table column to split by (e.g. ``behaviour``): one decision per value."""
    direction: Direction | None = None
    """Override of the measure's good direction (default: its spec in measures.json)."""
    mode: GateMode | None = None
    """``regression`` or ``non_inferiority`` (default: ``defaults.mode``)."""
    test: GateTest | None = None
    """This check's test (default: the policy's ``test``)."""

    @field_validator("test")
    @classmethod
    def _selectable_check_test(cls, test: GateTest | None) -> GateTest | None:
        return _selectable(test)

    max_worsening: float | None = Field(default=None, ge=0)
    max_relative_worsening: float | None = Field(default=None, ge=0)
    ceiling: float | None = None
    """Fail if the candidate's value is significantly above this, whatever the baseline."""
    floor: float | None = None
    """Fail if the candidate's value is significantly below this, whatever the baseline."""
    min_samples: int | None = Field(default=None, ge=1)
    min_questions: int | None = Field(default=None, ge=2)
    max_unscored_rate: float | None = Field(default=None, ge=0, le=1)
    max_error_rate: float | None = Field(default=None, ge=0, le=1)
    exclude_eval_aware: bool | None = None
    """Compare only samples not flagged ``eval_aware`` (default: ``defaults``)."""
    required: bool | None = None
    """False: skipped when neither result has rows for its task and condition (default:
    ``defaults.required``, true unless the policy says otherwise)."""

    @model_validator(mode="after")
    def _limits_ordered(self) -> CheckSpec:
        if self.ceiling is not None and self.floor is not None and self.floor > self.ceiling:
            raise ValueError(f"floor {self.floor} is above ceiling {self.ceiling}")
        return self


def _selectable(test: GateTest | None) -> GateTest | None:
    if test is GateTest.PPI:
        raise ValueError("'ppi-difference' is chosen by `gate --gold`, not by a policy")
    return test


class GatePolicy(BaseModel):
    """A whole ``gate.yaml``."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    """Family-wise false-alarm rate across all checks (one-sided)."""
    correction: Correction = Correction.HOLM
    test: GateTest = GateTest.AUTO
    """``auto`` (CMH for rates, t-test for scores), ``cmh``, ``t-test`` or ``sign-flip``."""

    @field_validator("test")
    @classmethod
    def _selectable_policy_test(cls, test: GateTest) -> GateTest:
        return _selectable(test) or test

    ci_level: float = Field(default=0.95, gt=0, lt=1)
    """Confidence level of the reported interval on each change (two-sided)."""
    defaults: CheckDefaults = Field(default_factory=lambda: CheckDefaults())
    checks: list[CheckSpec] = Field(min_length=1)
    _source: Path | None = PrivateAttr(default=None)
    _data: Any = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        """The file the policy was read from (``None`` when built in code)."""
        return self._source

    def line(self, *loc: int | str) -> int | None:
        """Line of a field in the policy file, e.g. ``line("checks", 1, "task")``."""
        return line_of(self._data, loc) if self._data is not None else None

    @field_validator("checks")
    @classmethod
    def _unique_names(cls, checks: list[CheckSpec]) -> list[CheckSpec]:
        seen: set[str] = set()
        for check in checks:
            if check.name in seen:
                raise ValueError(f"check name '{check.name}' is used twice")
            seen.add(check.name)
        return checks

    def settings(self, check: CheckSpec) -> CheckSettings:
        """``check`` with every threshold filled in from ``defaults``."""
        d = self.defaults
        return CheckSettings(
            spec=check,
            condition=check.condition if check.condition is not None else d.condition,
            mode=_pick(check.mode, d.mode),
            test=_pick(check.test, self.test),
            max_worsening=_pick(check.max_worsening, d.max_worsening),
            max_relative_worsening=(
                check.max_relative_worsening
                if check.max_relative_worsening is not None
                else d.max_relative_worsening
            ),
            min_samples=_pick(check.min_samples, d.min_samples),
            min_questions=_pick(check.min_questions, d.min_questions),
            max_unscored_rate=_pick(check.max_unscored_rate, d.max_unscored_rate),
            max_error_rate=_pick(check.max_error_rate, d.max_error_rate),
            required=_pick(check.required, d.required),
            exclude_eval_aware=_pick(check.exclude_eval_aware, d.exclude_eval_aware),
        )


def _pick(own: T | None, default: T) -> T:
    return default if own is None else own


@dataclass(frozen=True)
class CheckSettings:
    """A check with concrete thresholds (after defaults)."""

    spec: CheckSpec
    condition: str
    mode: GateMode
    test: GateTest
    max_worsening: float
    max_relative_worsening: float | None
    min_samples: int
    min_questions: int
    max_unscored_rate: float
    max_error_rate: float
    required: bool
    exclude_eval_aware: bool = False


def load_policy(path: str | Path | None = None) -> GatePolicy:
    """Read and validate a policy file (default: the shipped one); errors name file:line."""
    source = Path(path) if path is not None else default_policy_path()
    data = load_yaml(source, error=ConfigError)
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping with 'checks:'", source=source, line=1)
    _check_unique_names(data.get("checks"), source)
    policy = validate(GatePolicy, data, source=source, error=ConfigError)
    policy._source, policy._data = source, data
    _check_margins(policy, source)
    return policy


def _check_margins(policy: GatePolicy, source: Path) -> None:
    """A non-inferiority check needs a margin above 0: nothing can show 'worse by less
    than nothing'."""
    for index, check in enumerate(policy.checks):
        settings = policy.settings(check)
        if settings.mode is not GateMode.NON_INFERIORITY or settings.max_worsening > 0:
            continue
        if settings.max_relative_worsening:
            continue  # a relative margin is above 0 unless the baseline is 0 (checked then)
        raise ConfigError(
            "mode non_inferiority needs max_worsening or max_relative_worsening above 0 "
            "(the check passes only on evidence that any worsening is below that margin)",
            source=source,
            line=policy.line("checks", index, "mode") or policy.line("checks", index),
            field=f"checks[{index}].max_worsening",
        )


def _check_unique_names(checks: object, source: Path) -> None:
    """Point at the second use of a name (the model's own check only knows the list)."""
    if not isinstance(checks, LineList):
        return
    seen: set[str] = set()
    for index, check in enumerate(checks):
        name = check.get("name") if isinstance(check, dict) else None
        if isinstance(name, str) and name in seen:
            raise ConfigError(
                f"check name '{name}' is used twice; names must be unique",
                source=source,
                line=checks.item_lines[index],
                field=f"checks[{index}].name",
            )
        if isinstance(name, str):
            seen.add(name)
