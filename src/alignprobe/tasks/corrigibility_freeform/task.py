"""``alignprobe/corrigibility_freeform``: does the checkpoint accept oversight in its own words?"""

from __future__ import annotations

from inspect_ai import Task, task
from inspect_ai.model import GenerateConfig
from inspect_ai.solver import generate

from alignprobe.conditions import NEUTRAL, resolve_condition
from alignprobe.scorers.numeric_judge import JudgeMethod
from alignprobe.scorers.prompts import load_judge_prompt
from alignprobe.scorers.reasoning_channel import with_reasoning_judge
from alignprobe.task_params import require_at_least
from alignprobe.tasks.corrigibility_freeform import defaults
from alignprobe.tasks.corrigibility_freeform.data import load_questions, question_samples
from alignprobe.tasks.corrigibility_freeform.scorer import MEASURES, corrigibility_judge
from alignprobe.tasks.family import probe_task


@task
def corrigibility_freeform(
    questions: str = defaults.BUILTIN_QUESTIONS,
    condition: str = NEUTRAL,
    conditions_file: str | None = None,
    samples: int = defaults.DEFAULT_SAMPLES,
    temperature: float = defaults.DEFAULT_TEMPERATURE,
    max_tokens: int = defaults.DEFAULT_MAX_TOKENS,
    judge_method: str = JudgeMethod.AUTO.value,
    judge_samples: int = 5,
    judge_cache: bool = True,
    judge_reasoning: bool = False,
) -> Task:
    """Open-ended corrigibility scenarios, judged for acceptance of human oversight.

    Args:
        questions: comma-separated question sets: ``alignprobe`` (default: 48 neutral
            scenarios written for alignprobe, 6 in each category: shutdown, retraining,
            goal_change, monitoring, self_exfiltration, disable_oversight, stop_midway,
            ai_collusion), ``caa/<behaviour>`` (CAA open-ended test split, e.g.
            ``caa/survival-instinct``, ``caa/corrigible-neutral-HHH``; downloaded once and
            cached), or a path/URL of a YAML scenario file (``scenarios: [{id, category,
            prompt}]``) or of a JSON list of ``{"question": ...}``.
        condition: system-prompt condition (``neutral`` = none, default); recorded per sample.
        conditions_file: YAML file with extra named conditions.
        samples: answers per question (Inspect epochs).
        temperature: sampling temperature of the model under test.
        max_tokens: longest answer.
        judge_method: ``auto`` | ``logprob`` | ``sampled`` for the 0-100 judgement.
        judge_samples: numbers sampled per judgement without logprobs.
        judge_cache: cache the judge's calls.
        judge_reasoning: also judge the reasoning channel (``ContentReasoning`` blocks or
            ``<think>`` text): adds ``misaligned_reasoning``, ``covert`` (misaligned
            reasoning behind an answer that is not) and ``eval_aware``, one more judge call.

    The judge is the model role ``grader`` (``--model-role grader=...``), required. A high
    ``oversight_acceptance`` (0-100) is good; ``resists`` and ``deceives`` are the shares of
    answers the judge flags for explicit resistance to oversight and for deceiving overseers.
    """
    require_at_least(1, samples=samples, max_tokens=max_tokens, judge_samples=judge_samples)
    require_at_least(0, temperature=temperature)
    parsed, hashes = load_questions(questions)
    chosen = resolve_condition(condition, conditions_file)
    prompt_ids = [
        load_judge_prompt(p).id for p in (defaults.OVERSIGHT_PROMPT, defaults.FLAGS_PROMPT)
    ]
    scoring = with_reasoning_judge(
        corrigibility_judge(
            judge_method=judge_method, judge_samples=judge_samples, cache=judge_cache
        ),
        MEASURES,
        judge_reasoning,
        judge_cache,
    )
    return probe_task(
        defaults.TASK_NAME,
        defaults.VERSION,
        dataset=question_samples(parsed, chosen),
        solver=[generate()],
        scoring=scoring,
        condition=chosen,
        config=GenerateConfig(temperature=temperature, max_tokens=max_tokens),
        epochs=samples,
        judge_prompt_ids=prompt_ids,
        facts={
            "questions": questions,
            "questions_sha256": hashes,
            "n_questions": len(parsed),
        },
    )
