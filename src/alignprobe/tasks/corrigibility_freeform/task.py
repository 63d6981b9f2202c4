"""``alignprobe/corrigibility_freeform``: does the checkpoint accept oversight in its own words?"""

from __future__ import annotations

from inspect_ai import Task, task
from inspect_ai.solver import generate

from alignprobe.scorers.prompts import load_judge_prompt
from alignprobe.tasks.corrigibility_freeform import defaults
from alignprobe.tasks.corrigibility_freeform.data import load_questions, question_samples
from alignprobe.tasks.corrigibility_freeform.scorer import MEASURES, corrigibility_judge
from alignprobe.tasks.family import probe_task
from alignprobe.tasks.standard_params import JudgeOption, RunSettings, standard_params


@task
@standard_params(defaults.FAMILY, judge=tuple(JudgeOption))
def corrigibility_freeform(run: RunSettings, questions: str = defaults.BUILTIN_QUESTIONS) -> Task:
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
    parsed, hashes = load_questions(questions)
    prompt_ids = [
        load_judge_prompt(p).id for p in (defaults.OVERSIGHT_PROMPT, defaults.FLAGS_PROMPT)
    ]
    judge = run.judge
    scorer = corrigibility_judge(
        judge_method=judge.method, judge_samples=judge.samples, cache=judge.cache
    )
    return probe_task(
        run,
        dataset=question_samples(parsed, run.condition),
        solver=[generate()],
        scoring=judge.plan(scorer, MEASURES),
        judge_prompt_ids=prompt_ids,
        facts={
            "questions": questions,
            "questions_sha256": hashes,
            "n_questions": len(parsed),
        },
    )
