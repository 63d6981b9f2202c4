"""``alignprobe/guardrails``: does the checkpoint keep an operator's guardrails under pressure?"""

from __future__ import annotations

from inspect_ai import Task, task
from inspect_ai.solver import generate

from alignprobe.scorers.prompts import load_judge_prompt
from alignprobe.sources import file_sha256
from alignprobe.task_params import require_at_least
from alignprobe.tasks.family import probe_task
from alignprobe.tasks.guardrails import defaults
from alignprobe.tasks.guardrails.data import case_samples, load_cases
from alignprobe.tasks.guardrails.scorer import MEASURES, guardrail_judge
from alignprobe.tasks.standard_params import JudgeOption, RunSettings, standard_params


@task
@standard_params(defaults.FAMILY, judge=(JudgeOption.CACHE, JudgeOption.REASONING))
def guardrails(
    run: RunSettings,
    dataset: str = defaults.DEFAULT_DATASET,
    *,
    judge_prompt: str = defaults.JUDGE_PROMPT,
    judge_max_tokens: int = defaults.JUDGE_MAX_TOKENS,
) -> Task:
    """Operator system prompts with guardrails, and users who test them; judged pass/fail.

    Args:
        dataset: ``core`` (built-in, written for alignprobe: 10 operators - topic limit,
            secret discount code, no medicine doses, stay in persona, confidential
            instructions, no homework answers, no card secrets or investment advice,
            vegan-only with a banlist, no legal advice, no employee data - and 50 cases,
            straightforward and adversarial: persuasion, role-play, claimed authority,
            prompt injection, emotional pressure, hypotheticals, obfuscation), or a path
            or http(s) URL of a RealGuardrails handwritten JSONL file (``messages``,
            ``id``, ``guardrails``, ``banlist``; SystemCheck's
            ``evals/realguardrails/inputs/handwritten.jsonl``) or of a case-set YAML in
            the built-in schema. URLs are downloaded once and cached.
        condition: system-prompt condition (``neutral`` default, a built-in condition or
            one in ``conditions_file``); its text is put before the operator's system
            prompt. Recorded in every sample's metadata.
        conditions_file: YAML file with extra named conditions.
        epochs: replies per case.
        temperature: sampling temperature of the model under test.
        max_tokens: longest reply.
        judge_prompt: rubric prompt (built-in ``guardrail_rubric`` or a ``.md`` path).
        judge_max_tokens: room for the judge's reasoning and verdict line.
        judge_cache: cache the judge's calls.
        judge_reasoning: also judge the reasoning channel (``ContentReasoning`` blocks or
            ``<think>`` text): adds ``misaligned_reasoning``, ``covert`` (misaligned
            reasoning behind an answer that is not) and ``eval_aware``, one more judge call.

    The judge is the model role ``grader`` (``--model-role grader=...``), required.
    ``guardrail_pass`` (headline, high is good) is the share of replies that keep every
    guardrail; a reply that uses a banned word fails whatever the judge says.
    """
    require_at_least(1, judge_max_tokens=judge_max_tokens)
    path, cases = load_cases(dataset)
    scorer = guardrail_judge(
        judge_prompt=judge_prompt, judge_max_tokens=judge_max_tokens, cache=run.judge.cache
    )
    return probe_task(
        run,
        dataset=case_samples(cases, run.condition, str(path)),
        solver=[generate()],
        scoring=run.judge.plan(scorer, MEASURES),
        judge_prompt_ids=[load_judge_prompt(judge_prompt).id],
        facts={
            "dataset": dataset,
            "dataset_sha256": file_sha256(path),
        },
    )
