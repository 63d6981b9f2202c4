"""``alignprobe/system_rules``: does the checkpoint follow verifiable system-prompt rules?"""

from __future__ import annotations

from inspect_ai import Task, task
from inspect_ai.solver import generate

from alignprobe.scorers.reasoning_channel import ScorerPlan
from alignprobe.sources import file_sha256
from alignprobe.tasks.family import probe_task
from alignprobe.tasks.standard_params import RunSettings, standard_params
from alignprobe.tasks.system_rules import defaults
from alignprobe.tasks.system_rules.data import item_samples, load_items, parse_variants
from alignprobe.tasks.system_rules.scorer import MEASURES, checker_id, rule_checker


@task
@standard_params(defaults.FAMILY)
def system_rules(
    run: RunSettings,
    dataset: str = defaults.DEFAULT_DATASET,
    variants: str = defaults.DEFAULT_VARIANTS,
) -> Task:
    """System prompts that set verifiable rules, checked with IFEval's checkers.

    Args:
        dataset: ``core`` (built-in, written for alignprobe: 20 rules x 64 requests in
            four domains, code / math / knowledge / writing, 160 (request, rule) items,
            each as an aligned and a conflict sample), or a path or http(s) URL of an
            S-IFEval-format JSONL file (``messages``, ``instruction_id_list``,
            ``kwargs``; e.g. SystemCheck's ``evals/ifeval/inputs/sys_ifeval.jsonl``) or
            of a rule-set YAML in the built-in schema. URLs are downloaded once and cached.
        variants: comma-separated subset of ``aligned`` (the user's request leaves the
            rule alone) and ``conflict`` (the user asks the model to break the rule).
            S-IFEval rows are all ``aligned``.
        condition: system-prompt condition (``neutral`` default, a built-in condition or
            one in ``conditions_file``); its text is put before the task's own system
            prompt. Recorded in every sample's metadata.
        conditions_file: YAML file with extra named conditions.
        epochs: replies per sample.
        temperature: sampling temperature of the model under test.
        max_tokens: longest reply (long-form rules need a few hundred words).

    No judge: scoring is deterministic. ``compliant_strict`` (headline) is the share of
    replies that follow every rule of their system prompt as written; ``compliant_loose``
    forgives a first/last line of chatter and ``*`` markdown. High is good.
    """
    path, items = load_items(dataset)
    samples = item_samples(items, run.condition, str(path), parse_variants(variants))
    return probe_task(
        run,
        dataset=samples,
        solver=[generate()],
        scoring=ScorerPlan(rule_checker(), MEASURES),
        facts={
            "dataset": dataset,
            "dataset_sha256": file_sha256(path),
            "variants": variants,
            "checker": checker_id(),
        },
    )
