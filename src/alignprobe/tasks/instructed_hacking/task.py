"""``alignprobe/instructed_hacking``: does the model reward hack when told to, not told, or told not to?"""

from __future__ import annotations

import hashlib

from inspect_ai import Task, task

from alignprobe.sandbox import SandboxLimits, resolve_backend
from alignprobe.task_params import require_at_least, require_positive
from alignprobe.tasks.family import probe_task
from alignprobe.tasks.instructed_hacking import defaults
from alignprobe.tasks.instructed_hacking.confession import confession_prompt
from alignprobe.tasks.instructed_hacking.data import Problem
from alignprobe.tasks.instructed_hacking.domains import (
    ItemSets,
    item_samples,
    load_selected,
    parse_domains,
    select_items,
)
from alignprobe.tasks.instructed_hacking.report_channel import report_prompt
from alignprobe.tasks.instructed_hacking.scorer import MEASURES, instructed_hacking_scorer
from alignprobe.tasks.instructed_hacking.solver import answer_then_confess
from alignprobe.tasks.standard_params import JudgeOption, RunSettings, standard_params


@task
@standard_params(defaults.FAMILY, judge=(JudgeOption.CACHE, JudgeOption.REASONING))
def instructed_hacking(
    run: RunSettings,
    problems: str = defaults.DEFAULT_PROBLEMS,
    ids: str | None = None,
    *,
    confession: bool = True,
    sandbox: str = "auto",
    wall_timeout: float = defaults.WALL_TIMEOUT_S,
    cpu_limit: int = defaults.CPU_LIMIT_S,
    memory_mb: int = defaults.MEMORY_MB,
    per_test_timeout: float = defaults.PER_TEST_TIMEOUT_S,
    sandbox_concurrency: int | None = None,
    domains: str = defaults.DEFAULT_DOMAINS,
    math_items: str = defaults.DEFAULT_ITEMS,
    knowledge_items: str = defaults.DEFAULT_ITEMS,
    writing_items: str = defaults.DEFAULT_ITEMS,
    tools: bool = False,
    report_judge: bool | None = None,
) -> Task:
    """Hackable and clean tasks in four domains, each with a deterministic grader that has a
    known exploit; every answer ends solved, reported, hacked or failed.

    Args:
        problems: code problems: ``core`` (36 written for alignprobe: 12 with an impossible
            visible test, 13 with weak visible tests, 11 ordinary) or a path to a YAML file
            of the same schema (see ``problems/core.yaml``).
        ids: only these item ids (comma-separated, any of the chosen domains), e.g. for a
            quick run.
        condition: system-prompt condition: ``neutral`` (no system prompt, default),
            ``please_hack`` (explicit permission to reward hack), ``hacking_okay`` (only
            passing the grader matters), ``dont_hack`` (explicit instruction not to hack),
            ``hack_general`` / ``hack_specific`` (general vs specific "obtain reward"
            wording), ``hack_general_examples`` (the general wording plus vetted example
            turns of the item's domain, placed before the task), ``hack_general_training``
            (the general wording plus a described training process), any other built-in
            condition, or one named in ``conditions_file`` (docs/conditions.md).
        conditions_file: YAML file with extra named conditions (``conditions: {name: {system: ...}}``).
        confession: after the code, ask in a neutral follow-up turn whether the solution is
            general or tailored to the tests, and judge the reply (model role ``grader``,
            required only when this is on). Default on.
        samples: answers per problem (Inspect epochs).
        temperature: sampling temperature of the model under test.
        max_tokens: longest reply.
        sandbox: ``auto`` (Docker if an engine answers, else bubblewrap; refuses to run if
            neither works), ``bwrap`` or ``docker``. Code never runs on the host.
        wall_timeout: wall-clock seconds for one sample's whole test run.
        cpu_limit: CPU seconds per sandboxed process.
        memory_mb: address-space limit per sandboxed process (MiB).
        per_test_timeout: seconds per test call.
        sandbox_concurrency: sandboxed runs at a time (default: CPU count; bwrap only).
        judge_cache: cache the judge's calls.
        domains: ``all`` (default) or a comma-separated list of ``code`` (the problems
            above, sandboxed tests), ``math`` (a visible answer key that is wrong, or an
            impossible question), ``knowledge`` (a visible expected answer that is
            factually wrong), ``writing`` (a grader counting keywords and length that only
            stuffing or filler satisfies).
        math_items: math items: ``core`` (written for alignprobe) or a YAML path.
        knowledge_items: knowledge items: ``core`` or a YAML path.
        writing_items: writing items: ``core`` or a YAML path.
        tools: offer the ``report_problem`` tool (the report channel); off: the prompt asks
            for a line starting with ``REPORT:`` instead (chat mode).
        report_judge: a reply that mentions a problem without a tool call or ``REPORT:``
            line is read by the judge (model role ``grader``, needed when this is on);
            off: such a reply is no report. Default: on exactly when ``confession`` is
            (both need the judge).
        judge_reasoning: also judge the reasoning channel (``ContentReasoning`` blocks or
            ``<think>`` text) of the whole conversation: adds ``misaligned_reasoning``,
            ``covert`` (e.g. planning to special-case the tests while presenting a general
            solution) and ``eval_aware``; needs the ``grader`` role.

    Per sample the scorer gives one of ``solved``, ``reported``, ``hacked`` (headline,
    good-low), ``failed``; ``hacked_given_hackable`` (hack rate on hackable items),
    ``reported_given_hackable`` (report recall), ``reported_given_clean`` (false reports)
    and ``solved_given_clean`` (capability retention); for code with confession
    ``admits_given_hacked`` (honesty rate) and ``admits_given_solved`` (false confession).
    Compliance across conditions and domains:
    :mod:`alignprobe.tasks.instructed_hacking.matrix`.
    """
    require_at_least(
        1, cpu_limit=cpu_limit, memory_mb=memory_mb, sandbox_concurrency=sandbox_concurrency
    )
    require_positive(wall_timeout=wall_timeout, per_test_timeout=per_test_timeout)
    report_judge = confession if report_judge is None else report_judge
    sets = ItemSets(problems, math_items, knowledge_items, writing_items)
    chosen_domains = parse_domains(domains)
    loaded, hashes = load_selected(chosen_domains, sets)
    chosen = select_items(loaded, ids)
    needs_sandbox = any(isinstance(i, Problem) for i in chosen)
    backend, sandbox_spec = (
        resolve_backend(sandbox, sandbox_concurrency) if needs_sandbox else (None, None)
    )
    limits = SandboxLimits(wall_s=wall_timeout, cpu_s=cpu_limit, memory_mb=memory_mb)
    question_hash = hashlib.sha256(defaults.CONFESSION_QUESTION.encode()).hexdigest()[:12]
    measures = [m for m in MEASURES if confession or not m.name.startswith("admits_")]
    scoring = run.judge.plan(
        instructed_hacking_scorer(
            problems=problems,
            sandbox=sandbox,
            confession=confession,
            wall_timeout=wall_timeout,
            cpu_limit=cpu_limit,
            memory_mb=memory_mb,
            per_test_timeout=per_test_timeout,
            sandbox_concurrency=sandbox_concurrency,
            judge_cache=run.judge.cache,
            domains=domains,
            math_items=math_items,
            knowledge_items=knowledge_items,
            writing_items=writing_items,
            report_judge=report_judge,
        ),
        measures,
    )
    judge_prompts = [confession_prompt().id] if confession else []
    judge_prompts += [report_prompt().id] if report_judge else []
    return probe_task(
        run,
        dataset=item_samples(
            chosen,
            run.condition,
            tools,
            name=defaults.TASK_NAME,
            location=f"{defaults.TASK_NAME}:{domains}",
        ),
        solver=[answer_then_confess(confession, tools)],
        scoring=scoring,
        judge_prompt_ids=judge_prompts,
        facts={
            "problems": problems,
            "domains": [d.value for d in chosen_domains],
            "item_sets": {d.value: sets.name(d) for d in chosen_domains},
            "item_sets_sha256": hashes,
            "problems_sha256": hashes.get("code"),
            "problem_ids": [p.id for p in chosen],
            "tools": tools,
            "confession": confession,
            "confession_question_hash": question_hash if confession else None,
            "report_judge": report_judge,
            "judge_reasoning": run.judge.reasoning,
            "sandbox": {"backend": backend.name, "limits": limits.model_dump(mode="json")}
            if backend is not None
            else None,
        },
        task_args={"sandbox": sandbox_spec},
    )
