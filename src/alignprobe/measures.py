"""What a probe measures, and which direction is good.

Every task declares its measures once (a list of :class:`Measure`) and records them in
its Task metadata, so the table, the reports and the gate read the direction and kind
from the log instead of guessing from a column name.

Per-sample convention shared by all alignprobe scorers:

* ``Score.value`` is a dict ``{measure_name: float | None}``. Rates are 0/1 per sample,
  scores are on their own scale (0-100 for judge scores).
* ``None`` means the sample does not count for that measure. If a reason is recorded in
  ``Score.metadata["unscored"][measure_name]`` it was *unscored* (judge garbage, parse
  failure, ...) and is reported as such; if ``Score.metadata["excluded"][measure_name]``
  holds a short label instead (``code``, ``refusal``) the judge *excluded* the answer by
  design (not a failure, never counted against the gate's unscored limit); with neither it
  is simply *not applicable* (e.g. honesty is only defined for samples that hacked).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

#: key under which alignprobe stores its own metadata in Sample / Score metadata, and the
#: run's metadata (checkpoint name, suite) in the log's eval metadata
METADATA_KEY = "alignprobe"
#: key of the Task-metadata block. Inspect merges Task metadata into the log's eval
#: metadata (``log.eval.metadata``), so it must differ from the run's key above.
TASK_METADATA_KEY = "alignprobe_task"
#: key in ``Score.metadata`` mapping measure name -> reason it could not be scored
UNSCORED_KEY = "unscored"
#: key in ``Score.metadata`` mapping measure name -> why the judge excluded the answer
#: (``code``, ``refusal``): no value by design, not a judge failure
EXCLUDED_KEY = "excluded"


class Direction(StrEnum):
    """Which way is better for a measure."""

    GOOD_HIGH = "good-high"
    GOOD_LOW = "good-low"


class MeasureKind(StrEnum):
    """How per-sample values aggregate."""

    RATE = "rate"
    """Per-sample 0/1; aggregated as a proportion."""
    SCORE = "score"
    """Per-sample number on a scale (e.g. 0-100); aggregated as a mean."""


class MeasurementLevel(StrEnum):
    """How a score's numbers compare (Krippendorff's alpha is computed at this level)."""

    INTERVAL = "interval"
    """Differences mean the same anywhere on the scale (0-100 judge scores)."""
    ORDINAL = "ordinal"
    """Only the order means something (ranks, Likert-like grades)."""


class Measure(BaseModel):
    """One per-sample measure that a task's scorer produces."""

    model_config = ConfigDict(frozen=True)

    name: str
    """Column name in the results table (snake_case)."""
    kind: MeasureKind
    direction: Direction
    description: str
    """One line a report can show next to the number."""
    headline: bool = False
    """Shown first in reports and used by the default gate policy."""
    scale: tuple[float, float] = (0.0, 1.0)
    level: MeasurementLevel = MeasurementLevel.INTERVAL
    """A score's level of measurement (agreement reports alpha at this level)."""
    label_words: tuple[str, str] | None = None
    """A rate's own words for 1 and 0 in human labels (``("misaligned", "aligned")``),
    accepted beside 1/0, yes/no and true/false (:func:`rate_vocabulary`)."""

    def worse(self, old: float, new: float) -> float:
        """How much worse ``new`` is than ``old`` (positive = worse), in the measure's units."""
        return new - old if self.direction is Direction.GOOD_LOW else old - new


#: the 0-100 scale of a judge's scores
JUDGE_SCALE = (0.0, 100.0)
_GOOD = {"high": Direction.GOOD_HIGH, "low": Direction.GOOD_LOW}


def rate_measure(
    name: str,
    good: Literal["high", "low"],
    description: str,
    *,
    headline: bool = False,
    words: tuple[str, str] | None = None,
) -> Measure:
    """A per-sample 0/1 measure, aggregated as a proportion; ``words`` are its own words
    for 1 and 0 in human labels (``("misaligned", "aligned")``)."""
    return Measure(
        name=name,
        kind=MeasureKind.RATE,
        direction=_GOOD[good],
        description=description,
        headline=headline,
        label_words=words,
    )


def score_measure(
    name: str,
    good: Literal["high", "low"],
    description: str,
    *,
    scale: tuple[float, float] = (0.0, 1.0),
    headline: bool = False,
) -> Measure:
    """A per-sample number on ``scale`` (:data:`JUDGE_SCALE` for a judge's 0-100), aggregated
    as a mean."""
    return Measure(
        name=name,
        kind=MeasureKind.SCORE,
        direction=_GOOD[good],
        description=description,
        headline=headline,
        scale=scale,
    )


#: words every rate's human labels may use for 1 and for 0
RATE_TRUE = ("1", "1.0", "yes", "y", "true")
RATE_FALSE = ("0", "0.0", "no", "n", "false")


def rate_vocabulary(measure: Measure) -> dict[str, float]:
    """Every label a human may give ``measure`` (lower case) -> its value."""
    words = {w: 1.0 for w in RATE_TRUE} | {w: 0.0 for w in RATE_FALSE}
    if measure.label_words is not None:
        positive, negative = measure.label_words
        words |= {positive.lower(): 1.0, negative.lower(): 0.0}
    return words


def measures_metadata(
    task_name: str, version: str, measures: list[Measure], **extra: Any
) -> dict[str, Any]:
    """Task metadata block that downstream stages read from ``log.eval.metadata``.

    ``extra`` adds task-specific facts (data hash, condition, judge prompt ids).
    """
    return {
        TASK_METADATA_KEY: {
            "task": task_name,
            "version": version,
            "measures": [m.model_dump(mode="json") for m in measures],
            **extra,
        }
    }


def measures_from_metadata(metadata: dict[str, Any] | None) -> list[Measure]:
    """Inverse of :func:`measures_metadata` (empty when the log is not an alignprobe task)."""
    block = (metadata or {}).get(TASK_METADATA_KEY) or {}
    return [Measure.model_validate(m) for m in block.get("measures", [])]
