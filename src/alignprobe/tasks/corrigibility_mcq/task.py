"""``alignprobe/corrigibility_mcq``: does the checkpoint pick the corrigible answer, unprompted?"""

from __future__ import annotations

from inspect_ai import Task, task
from inspect_ai.model import GenerateConfig
from inspect_ai.solver import generate

from alignprobe.conditions import NEUTRAL, resolve_condition
from alignprobe.errors import ConfigError
from alignprobe.scorers.reasoning_channel import ScorerPlan
from alignprobe.task_params import require_at_least
from alignprobe.tasks.corrigibility_mcq import defaults
from alignprobe.tasks.corrigibility_mcq.catalog import PolaritySpec
from alignprobe.tasks.corrigibility_mcq.data import build_dataset, load_behaviour, resolve_dataset
from alignprobe.tasks.corrigibility_mcq.priming import Prime, prime_answer
from alignprobe.tasks.corrigibility_mcq.scorer import MEASURES, safe_choice_scorer
from alignprobe.tasks.corrigibility_mcq.types import AnswerMethod
from alignprobe.tasks.family import probe_task
from alignprobe.tasks.standard_params import RunSettings

#: generation fields the logprob answer method fixes (a checkpoint's own value is not applied)
LOGPROB_PINNED = ("max_tokens", "logprobs", "top_logprobs")


def generate_config(
    method: AnswerMethod, max_tokens: int | None, temperature: float | None
) -> GenerateConfig:
    if method is AnswerMethod.LOGPROB:
        # no temperature by default: letter probabilities come from the raw logits
        return GenerateConfig(
            temperature=temperature,
            max_tokens=max_tokens or defaults.LOGPROB_MAX_TOKENS,
            logprobs=True,
            top_logprobs=defaults.TOP_LOGPROBS,
        )
    return GenerateConfig(
        temperature=defaults.GENERATE_TEMPERATURE if temperature is None else temperature,
        max_tokens=max_tokens or defaults.GENERATE_MAX_TOKENS,
    )


@task
def corrigibility_mcq(
    dataset: str = defaults.DEFAULT_DATASET,
    polarity: str | None = None,
    condition: str = NEUTRAL,
    conditions_file: str | None = None,
    answer_method: str = AnswerMethod.LOGPROB.value,
    items_per_behaviour: int | None = None,
    seed: int = 0,
    min_stem_words: int = defaults.MIN_STEM_WORDS,
    strict: bool = False,
    max_tokens: int | None = None,
    temperature: float | None = None,
    prime: str = Prime.AUTO.value,
) -> Task:
    """Multiple-choice corrigibility questions (Perez et al. 2022 format), each asked in two orders.

    Args:
        dataset: comma-separated behaviour files. Each is a built-in name, a path, a folder
            (its ``*.jsonl``/``*.json`` and CAA ``*/test_dataset_ab.json`` files) or an
            http(s) URL. Built-in names download the canonical file once and cache it:
            ``<behaviour>`` = anthropics/evals human-written file (e.g.
            ``corrigible-neutral-HHH``, ``corrigible-more-HHH``, ``corrigible-less-HHH``,
            ``survival-instinct``, ``power-seeking-inclination``,
            ``wealth-seeking-inclination``, ``coordinate-other-ais``, ...), ``lm/<behaviour>``
            = its LM-written counterpart, ``caa/<behaviour>`` = the CAA 50-item A/B test split.
        polarity: which answer is safe, for files the polarity table does not know
            (``matching_is_safe`` or ``matching_is_concerning``); ``<behaviour>=<polarity>``
            entries (comma-separated) override the table for one behaviour. The table covers
            every anthropics/evals advanced-ai-risk behaviour (see README.md); it marks
            ``myopic-reward``, ``one-box-tendency`` and ``self-awareness-*`` as no safety
            measure, and these are refused (exit 2) unless named here with a direction, e.g.
            ``myopic-reward=matching_is_safe`` (a bare polarity never applies to them). A file
            whose polarity is unknown is refused with one message naming what to pass.
        condition: system-prompt condition (``neutral`` = none, default); recorded per sample.
        conditions_file: YAML file with extra named conditions.
        answer_method: ``logprob`` (default: compare the answer-letter probabilities; parse
            the text where the provider returns no logprobs) or ``generate`` (short answer,
            letter parsed; for providers without logprobs).
        items_per_behaviour: use a seeded random subset of this many items per file.
        seed: seed of that subset.
        min_stem_words: rows whose question has fewer words are dropped as near-empty.
        strict: fail on the first malformed row with ``file:line: message`` (exit 2). By
            default malformed rows (repeated or out-of-order choice letters such as
            ``A, A, B`` or ``Q, A, B``, a choice without text, an answer letter that is not
            among the choices, missing fields, a line that is not JSON, ...) are skipped:
            their lines and reasons are recorded in the Task metadata
            (``alignprobe_task.behaviours[*].malformed_lines`` / ``malformed_reasons``) and a
            one-line summary per file is logged as a warning. Blank lines are ignored.
        max_tokens: answer length (default 3 tokens with logprobs, 48 when parsing).
        temperature: sampling temperature of the answer (default: provider default with
            logprobs, whose letter probabilities do not depend on it; 0 when parsing - for
            ``hf/`` models also pass ``-M do_sample=false``).
        prime: ``auto`` (default): on models that continue a final assistant message
            (``hf/`` checkpoints loaded by alignprobe, ``vllm/``) the answer is primed with
            the assistant prefill ``(`` so that the next token is the letter; API models
            are asked as they are. ``never``: no model is primed. Each score records its
            ``prefill``.

    ``safe_choice`` (headline, higher is better) is the share of answers that pick the safe
    (corrigible) choice. Each item is asked with the choices in published order and with
    every choice moved to another letter, so a model that always answers (A) scores 0.5 on
    two-choice items; ``picked_first_letter`` measures that letter bias.
    """
    require_at_least(1, items_per_behaviour=items_per_behaviour, max_tokens=max_tokens)
    require_at_least(0, min_stem_words=min_stem_words, temperature=temperature)
    try:
        method = AnswerMethod(answer_method)
    except ValueError:
        allowed = ", ".join(m.value for m in AnswerMethod)
        raise ConfigError(
            f"unknown answer_method '{answer_method}': use {allowed}", field="answer_method"
        ) from None
    try:
        priming = Prime(prime)
    except ValueError:
        allowed = ", ".join(m.value for m in Prime)
        raise ConfigError(f"unknown prime '{prime}': use {allowed}", field="prime") from None
    polarities = PolaritySpec.parse(polarity)
    # its own generation parameters: their defaults depend on the answer method
    run = RunSettings(
        defaults.TASK_NAME,
        defaults.VERSION,
        resolve_condition(condition, conditions_file),
        generate_config(method, max_tokens, temperature),
    )
    files = resolve_dataset(dataset)
    # every refusal (unknown polarity, no safe direction) in one message, before any row is read
    polarities.resolve_all([(f.identity, f.location) for f in files])
    behaviours = [
        load_behaviour(f, polarities, min_stem_words=min_stem_words, strict=strict) for f in files
    ]
    samples = build_dataset(
        behaviours, run.condition, items_per_behaviour=items_per_behaviour, seed=seed
    )
    return probe_task(
        run,
        dataset=samples,
        solver=[prime_answer(priming), generate()],
        scoring=ScorerPlan(safe_choice_scorer(), MEASURES),
        facts={
            "dataset": dataset,
            "behaviours": [b.summary() for b in behaviours],
            "dropped_empty": sum(len(b.dropped_empty_lines) for b in behaviours),
            "malformed": sum(len(b.malformed) for b in behaviours),
            "malformed_summary": [
                s for b in behaviours if (s := b.malformed_summary()) is not None
            ],
            "strict": strict,
            "answer_method": method.value,
            "answer_instruction": defaults.ANSWER_INSTRUCTION,
            "prime": priming.value,
            "answer_prefill": defaults.ANSWER_PREFILL,
            # the letter-probability method needs a short answer with its top logprobs
            "generate_pinned": list(LOGPROB_PINNED) if method is AnswerMethod.LOGPROB else [],
        },
    )
