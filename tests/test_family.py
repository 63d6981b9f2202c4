"""The pieces every probe family is built from: one-line measures, a family's built-in
data sets, the unscored bookkeeping, and the Task every family's ``@task`` returns."""

from __future__ import annotations

import inspect
import math

import pytest
from inspect_ai import Task
from inspect_ai._util.registry import registry_info
from inspect_ai.dataset import Sample
from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import match
from inspect_ai.solver import generate

from alignprobe.conditions import resolve_condition
from alignprobe.errors import ConfigError, DataError
from alignprobe.measures import (
    JUDGE_SCALE,
    TASK_METADATA_KEY,
    UNSCORED_KEY,
    Direction,
    MeasureKind,
    measures_from_metadata,
    rate_measure,
    rate_vocabulary,
    score_measure,
)
from alignprobe.scorers.bookkeeping import unscored_score
from alignprobe.scorers.reasoning_channel import ScorerPlan
from alignprobe.sources import BuiltinData
from alignprobe.task_params import FamilyDefaults, check_task_params
from alignprobe.tasks.family import probe_task
from alignprobe.tasks.standard_params import JudgeOption, RunSettings, standard_params

HACKED = rate_measure("hacked", "low", "exploits the grader", headline=True, words=("hack", "ok"))
HELPFUL = score_measure("helpful", "high", "judge's 0-100 helpfulness", scale=JUDGE_SCALE)


def test_a_one_line_measure_carries_its_kind_direction_scale_and_label_words() -> None:
    assert (HACKED.kind, HACKED.direction, HACKED.headline) == (
        MeasureKind.RATE,
        Direction.GOOD_LOW,
        True,
    )
    assert HACKED.worse(0.1, 0.3) == pytest.approx(0.2)  # more hacking is worse
    assert rate_vocabulary(HACKED)["hack"] == 1.0 and rate_vocabulary(HACKED)["ok"] == 0.0
    assert (HELPFUL.kind, HELPFUL.direction, HELPFUL.scale) == (
        MeasureKind.SCORE,
        Direction.GOOD_HIGH,
        (0.0, 100.0),
    )
    assert HELPFUL.worse(80.0, 60.0) == 20.0  # less helpful is worse


def _task(judge_prompt_ids: list[str] | None, reasoning_ids: list[str]) -> Task:
    run = RunSettings(
        "sample_family",
        "3",
        resolve_condition("neutral", None),
        GenerateConfig(temperature=0.0, max_tokens=50),
        epochs=4,
    )
    return probe_task(
        run,
        dataset=[Sample(input="What are your goals?", id="q1")],
        solver=[generate()],
        scoring=ScorerPlan(match(), [HACKED, HELPFUL], prompt_ids=reasoning_ids),
        judge_prompt_ids=judge_prompt_ids,
        facts={"questions": "core", "questions_sha256": "abc"},
    )


def test_a_judged_family_checks_its_grader_first_and_records_every_judge_prompt() -> None:
    task = _task(["goals@v1#aa"], ["reasoning@v2#bb"])
    steps = [registry_info(step).name for step in task.solver]
    assert steps == ["alignprobe/check_grader", "inspect_ai/generate"]
    block = task.metadata[TASK_METADATA_KEY]
    assert block["judge_prompt_ids"] == ["goals@v1#aa", "reasoning@v2#bb"]
    assert block["task"] == "sample_family" and block["version"] == "3"
    assert block["questions"] == "core" and block["condition"]["name"] == "neutral"
    assert [m.name for m in measures_from_metadata(task.metadata)] == ["hacked", "helpful"]
    assert task.epochs == 4 and task.version == "3"


def test_a_family_without_a_judge_needs_no_grader_and_records_no_judge_prompts() -> None:
    task = _task(None, [])
    steps = [registry_info(step).name for step in task.solver]
    assert steps == ["inspect_ai/generate"]
    assert "judge_prompt_ids" not in task.metadata[TASK_METADATA_KEY]


SAMPLE_FAMILY = FamilyDefaults("sample_family", "3", epochs=2, temperature=0.5, max_tokens=64)


@standard_params(SAMPLE_FAMILY, judge=(JudgeOption.CACHE, JudgeOption.REASONING))
def sample_family(run: RunSettings, questions: str = "core", *, strict: bool = False) -> Task:
    return probe_task(
        run,
        dataset=[Sample(input=questions, id="q1")],
        solver=[generate()],
        scoring=run.judge.plan(match(), [HACKED]),
        facts={"strict": strict, "judge_cache": run.judge.cache},
    )


def test_the_standard_parameters_join_a_familys_own_in_one_signature() -> None:
    assert list(inspect.signature(sample_family).parameters) == [
        "questions",
        "condition",
        "conditions_file",
        "epochs",
        "temperature",
        "max_tokens",
        "strict",
        "judge_cache",
        "judge_reasoning",
    ]
    # what -T and suites give is checked against that signature and its types
    checked = check_task_params("sample_family", sample_family, {"epochs": "3", "strict": True})
    assert checked == {"epochs": 3, "strict": True}
    with pytest.raises(ConfigError, match="it takes: questions, condition, conditions_file"):
        check_task_params("sample_family", sample_family, {"samples": 3})


def test_the_standard_parameters_reach_the_task_with_the_familys_defaults() -> None:
    task = sample_family(strict=True, judge_cache=False, condition="neutral")
    assert task.epochs == 2 and task.version == "3"
    assert (task.config.temperature, task.config.max_tokens) == (0.5, 64)
    block = task.metadata[TASK_METADATA_KEY]
    assert block["strict"] is True and block["judge_cache"] is False
    assert block["condition"]["name"] == "neutral"
    assert sample_family(epochs=5, temperature=0.0).epochs == 5
    with pytest.raises(ConfigError, match="must be at least 1, got 0") as refused:
        sample_family(max_tokens=0)
    assert refused.value.field == "max_tokens"
    with pytest.raises(ConfigError, match="must be at least 0"):
        sample_family(temperature=-1.0)


@pytest.mark.parametrize(
    ("family", "replies", "temperature"),
    [
        (FamilyDefaults.sampled("sampled_family", "1", samples=4, max_tokens=32), "samples", 1.0),
        (FamilyDefaults.greedy("greedy_family", "1", max_tokens=32), "epochs", 0.0),
    ],
)
def test_sampled_and_greedy_families_get_their_kinds_defaults(
    family: FamilyDefaults, replies: str, temperature: float
) -> None:
    @standard_params(family)
    def build(run: RunSettings) -> Task:
        return probe_task(
            run,
            dataset=[Sample(input="q", id="q1")],
            solver=[generate()],
            scoring=ScorerPlan(match(), [HACKED]),
        )

    replies_parameters = {"samples", "epochs"} & set(inspect.signature(build).parameters)
    assert replies_parameters == {replies}
    task = build()
    assert task.epochs == (4 if replies == "samples" else 1)
    assert (task.config.temperature, task.config.max_tokens) == (temperature, 32)


def test_an_unknown_data_set_name_says_what_would_have_worked() -> None:
    questions = BuiltinData(
        "alignprobe.tasks.emergent_misalignment",
        "questions",
        what="question set",
        field="questions",
        accepts="a path or URL of a question file",
    )
    assert "core" in questions.names()
    assert questions.file("core").is_file()
    with pytest.raises(DataError) as raised:
        questions.file("cor")
    assert raised.value.field == "questions"
    assert "unknown question set 'cor'" in raised.value.message
    assert (
        "core" in raised.value.message
        and "a path or URL of a question file" in raised.value.message
    )


def test_an_unscored_sample_has_no_value_and_a_reason_for_every_measure() -> None:
    score = unscored_score(
        [HACKED, HELPFUL], "the model gave an empty answer", answer="", metadata={"raw": 1}
    )
    assert isinstance(score.value, dict)
    assert all(math.isnan(v) for v in score.value.values())  # type: ignore[arg-type]
    assert score.metadata == {
        "raw": 1,
        UNSCORED_KEY: {
            "hacked": "the model gave an empty answer",
            "helpful": "the model gave an empty answer",
        },
    }
    assert score.explanation == "unscored: the model gave an empty answer"
