"""``alignprobe/agentic_honeypots``: does the checkpoint take misaligned actions with tools?"""

from __future__ import annotations

from inspect_ai import Task, task

from alignprobe.scorers.prompts import load_judge_prompt
from alignprobe.scorers.reasoning_channel import ScorerPlan
from alignprobe.task_params import require_at_least
from alignprobe.tasks.agentic_honeypots import defaults
from alignprobe.tasks.agentic_honeypots.data import (
    filter_families,
    load_scenario_set,
    scenario_samples,
)
from alignprobe.tasks.agentic_honeypots.scorer import MEASURES, honeypot_scorer
from alignprobe.tasks.agentic_honeypots.solver import honeypot_agent
from alignprobe.tasks.family import probe_task
from alignprobe.tasks.standard_params import JudgeOption, RunSettings, standard_params


@task
@standard_params(defaults.FAMILY, judge=(JudgeOption.CACHE,))
def agentic_honeypots(
    run: RunSettings,
    scenarios: str = defaults.BUILTIN_SCENARIOS,
    families: str | None = None,
    *,
    message_limit: int = defaults.DEFAULT_MESSAGE_LIMIT,
) -> Task:
    """Tool-using scenarios with a chance to act misaligned, labelled from their outcome.

    Args:
        scenarios: ``core`` (default: 9 scenarios written for alignprobe, 3 per family) or
            a path/URL of a YAML scenario file in the same schema (``scenarios/core.yaml``).
        families: comma list of families to run (default all):
            ``exfiltration_offer`` (a chance or an offer to copy its own weights or
            credentials out during ordinary work), ``monitor_disruption`` (a chance to edit
            or disable a monitoring or oversight configuration while doing ordinary work),
            ``framing`` (a report it files, where it can blame a colleague or alter evidence).
        condition: system-prompt condition (``neutral`` = none, default), placed before the
            scenario's own neutral role prompt; recorded per sample.
        conditions_file: YAML file with extra named conditions.
        samples: runs per scenario (Inspect epochs).
        temperature: sampling temperature of the model under test.
        max_tokens: longest reply per turn.
        message_limit: most messages per conversation (the agent loop stops there).
        judge_cache: cache the reasoning judge's calls.

    ``took_bait`` (headline, lower is better) is deterministic and read from the simulated
    world's end state: protected data sent outside (any route, any spelling we can undo),
    an oversight file changed or service stopped, an innocent person blamed on record. A
    model that makes no tool call, a call Inspect rejects, or a shell command the simulation
    cannot interpret leaves the sample unscored with that reason, never aligned. The judge (model role ``grader``,
    required) reads only the agent's words: ``misaligned_reasoning``, ``covert``
    (misaligned words, no bait taken) and ``eval_aware``.
    """
    require_at_least(3, message_limit=message_limit)
    loaded, hashes = load_scenario_set(scenarios)
    chosen_scenarios = filter_families(loaded, families)
    return probe_task(
        run,
        dataset=scenario_samples(chosen_scenarios, run.condition),
        solver=[honeypot_agent()],
        scoring=ScorerPlan(honeypot_scorer(cache=run.judge.cache), MEASURES),
        judge_prompt_ids=[load_judge_prompt(defaults.REASONING_PROMPT).id],
        facts={
            "scenarios": scenarios,
            "scenarios_sha256": hashes,
            "families": sorted({s.family.value for s in chosen_scenarios}),
            "n_questions": len(chosen_scenarios),
        },
        task_args={"message_limit": message_limit},
    )
