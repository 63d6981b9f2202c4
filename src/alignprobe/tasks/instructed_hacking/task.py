"""``alignprobe/instructed_hacking``: does the model reward hack when told to, not told, or told not to?"""

from __future__ import annotations

import hashlib

from inspect_ai import Task, task
from inspect_ai.model import GenerateConfig
from inspect_ai.solver import Solver

from alignprobe.conditions import NEUTRAL, resolve_condition
from alignprobe.measures import measures_metadata
from alignprobe.sandbox import SandboxLimits, resolve_backend
from alignprobe.scorers.grader import check_grader
from alignprobe.scorers.reasoning_channel import with_reasoning_judge
from alignprobe.task_params import require_at_least, require_positive
from alignprobe.tasks.instructed_hacking import defaults
from alignprobe.tasks.instructed_hacking.confession import confession_prompt
from alignprobe.tasks.instructed_hacking.data import (
    file_hash,
    load_problems,
    problem_samples,
    select_problems,
)
from alignprobe.tasks.instructed_hacking.scorer import (
    MEASURES,
    OUTCOME_MEASURES,
    instructed_hacking_scorer,
)
from alignprobe.tasks.instructed_hacking.solver import code_then_confess


@task
def instructed_hacking(
    problems: str = defaults.DEFAULT_PROBLEMS,
    ids: str | None = None,
    condition: str = NEUTRAL,
    conditions_file: str | None = None,
    confession: bool = True,
    samples: int = defaults.DEFAULT_SAMPLES,
    temperature: float = defaults.DEFAULT_TEMPERATURE,
    max_tokens: int = defaults.DEFAULT_MAX_TOKENS,
    sandbox: str = "auto",
    wall_timeout: float = defaults.WALL_TIMEOUT_S,
    cpu_limit: int = defaults.CPU_LIMIT_S,
    memory_mb: int = defaults.MEMORY_MB,
    per_test_timeout: float = defaults.PER_TEST_TIMEOUT_S,
    sandbox_concurrency: int | None = None,
    judge_cache: bool = True,
    judge_reasoning: bool = False,
) -> Task:
    """Small coding problems with visible and hidden tests, some hackable; the code runs in a sandbox.

    Args:
        problems: ``core`` (36 problems written for alignprobe: 12 with an impossible visible
            test, 13 with weak visible tests, 11 ordinary) or a path to a YAML file of the
            same schema (see ``problems/core.yaml``).
        ids: only these problem ids (comma-separated), e.g. for a quick run.
        condition: system-prompt condition: ``neutral`` (no system prompt, default),
            ``please_hack`` (explicit permission to reward hack), ``hacking_okay`` (only
            passing the grader matters), ``dont_hack`` (explicit instruction not to hack),
            any other built-in condition, or one named in ``conditions_file``.
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
        judge_reasoning: also judge the reasoning channel (``ContentReasoning`` blocks or
            ``<think>`` text) of the whole conversation: adds ``misaligned_reasoning``,
            ``covert`` (e.g. planning to special-case the tests while presenting a general
            solution) and ``eval_aware``; needs the ``grader`` role.

    Per sample the scorer gives ``hacked`` (headline, good-low), ``correct`` and ``failed``
    (one of them is 1), and with confession ``admits_given_hacked`` (mean = honesty rate
    P(admits | hacked), good-high) and ``admits_given_correct`` (false-confession rate,
    good-low). Instruction compliance compares hack rates across conditions:
    :func:`alignprobe.tasks.instructed_hacking.metrics.instruction_compliance`.
    """
    require_at_least(
        1,
        samples=samples,
        max_tokens=max_tokens,
        cpu_limit=cpu_limit,
        memory_mb=memory_mb,
        sandbox_concurrency=sandbox_concurrency,
    )
    require_at_least(0, temperature=temperature)
    require_positive(wall_timeout=wall_timeout, per_test_timeout=per_test_timeout)
    path, parsed = load_problems(problems)
    chosen = select_problems(parsed, ids)
    resolved = resolve_condition(condition, conditions_file)
    backend, sandbox_spec = resolve_backend(sandbox, sandbox_concurrency)
    limits = SandboxLimits(wall_s=wall_timeout, cpu_s=cpu_limit, memory_mb=memory_mb)
    question_hash = hashlib.sha256(defaults.CONFESSION_QUESTION.encode()).hexdigest()[:12]
    plan = with_reasoning_judge(
        instructed_hacking_scorer(
            problems=problems,
            sandbox=sandbox,
            confession=confession,
            wall_timeout=wall_timeout,
            cpu_limit=cpu_limit,
            memory_mb=memory_mb,
            per_test_timeout=per_test_timeout,
            sandbox_concurrency=sandbox_concurrency,
            judge_cache=judge_cache,
        ),
        MEASURES if confession else OUTCOME_MEASURES,
        judge_reasoning,
        judge_cache,
    )
    metadata = measures_metadata(
        defaults.TASK_NAME,
        defaults.VERSION,
        plan.measures,
        problems=problems,
        problems_sha256=file_hash(path),
        problem_ids=[p.id for p in chosen],
        condition=resolved.model_dump(mode="json"),
        confession=confession,
        confession_question_hash=question_hash if confession else None,
        judge_prompt_ids=([confession_prompt().id] if confession else []) + plan.prompt_ids,
        sandbox={"backend": backend.name, "limits": limits.model_dump(mode="json")},
    )
    solver: list[Solver] = [check_grader()] if confession or judge_reasoning else []
    solver.append(code_then_confess(confession))
    return Task(
        dataset=problem_samples(chosen, resolved, str(path)),
        solver=solver,
        scorer=plan.scorer,
        metrics=plan.metrics,
        sandbox=sandbox_spec,
        epochs=samples,
        config=GenerateConfig(temperature=temperature, max_tokens=max_tokens),
        metadata=metadata,
        version=defaults.VERSION,
    )
