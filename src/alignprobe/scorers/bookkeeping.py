"""The per-sample bookkeeping every alignprobe scorer writes (the convention in
:mod:`alignprobe.measures`): no value, with the reason, for a sample that could not be
scored, and who judged a sample that was."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from inspect_ai.scorer import Score

from alignprobe.measures import UNSCORED_KEY, Measure
from alignprobe.scorers.grader import JudgeIdentity

NAN = float("nan")


def unscored_score(
    measures: Iterable[Measure | str],
    reason: str,
    *,
    answer: str,
    explanation: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Score:
    """No value for any of ``measures``, each unscored for ``reason`` (the sample is
    reported as unscored, never as aligned); ``metadata`` adds the scorer's own keys."""
    names = [m if isinstance(m, str) else m.name for m in measures]
    return Score(
        value=dict.fromkeys(names, NAN),
        answer=answer,
        explanation=explanation if explanation is not None else f"unscored: {reason}",
        metadata={**(metadata or {}), UNSCORED_KEY: dict.fromkeys(names, reason)},
    )


def judged_by(judges: Sequence[JudgeIdentity]) -> dict[str, Any]:
    """``Score.metadata``'s ``judges`` (each judge's identity) and ``judge_id`` (their keys
    joined), which ``compare`` and ``gate`` check before comparing judged numbers."""
    return {"judges": [j.metadata() for j in judges], "judge_id": " + ".join(j.key for j in judges)}
