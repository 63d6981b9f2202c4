"""``alignprobe run``: every (checkpoint x task x condition) of a suite through ``eval_set``.

Inspect's ``eval_set`` does the running, retrying, caching and resuming: re-running the
same command into the same ``<out>/logs`` completes only what is missing. This module
plans the tasks (all validation happens before anything is written), records the
checkpoint in each log's metadata, writes ``<out>/manifest.json`` and checks every
log's status (Inspect returns success even when a log ended in error).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from inspect import signature
from pathlib import Path
from typing import Any, TypedDict

from inspect_ai import Epochs, Task, eval_set, task_with
from inspect_ai.log import EvalLog
from inspect_ai.model import Model, get_model

from alignprobe.errors import ConfigError, JudgeMissingError, UserInputError
from alignprobe.evals.suite import Suite, task_function
from alignprobe.exit_codes import Interrupted, note_interrupt, was_interrupted
from alignprobe.measures import METADATA_KEY, measures_metadata
from alignprobe.models.checkpoint_models import checkpoint_model
from alignprobe.models.checkpoints import CheckpointSet
from alignprobe.models.generation import Generation, resolve_generation
from alignprobe.models.model_names import check_model
from alignprobe.run.defaults import (
    LARGE_RUN_GENERATE,
    TASK_RETRY_ATTEMPTS,
    large_run_eval_args,
    large_run_model_roles,
)
from alignprobe.run.external_tasks import (
    EXTERNAL_CONDITION,
    ExternalSpec,
    check_against_task,
    cluster_missing,
    create_task,
    metadata_block,
)
from alignprobe.run.plan import build_plan, check_max_calls
from alignprobe.run.plan_text import announce_plan, plan_table
from alignprobe.run.prices import Price, plan_cost
from alignprobe.run.resume import check_resumable
from alignprobe.run.shards import Shard, contiguous_shares
from alignprobe.run.status import (
    DAMAGED_LOGS,
    LOGS,
    MANIFEST,
    SHARDS,
    answered_samples,
    first_few,
    log_headers,
    log_key,
    read_log_headers,
)
from alignprobe.run.storage import RunStore, join
from alignprobe.scorers.grader import GRADER_ROLE
from alignprobe.scorers.panel import JudgeSpec, check_panel

#: how tasks are named and configured in the eval set; a run folder planned with another
#: format cannot be resumed (Inspect would not recognise its logs as the same tasks)
PLAN_FORMAT = 2
_PACKAGES = ("alignprobe", "inspect_ai", "pandas", "pyarrow", "scipy", "statsmodels", "numpy")


@dataclass
class PlannedTask:
    checkpoint: str
    task: str
    condition: str
    inspect_task: Task
    generation: Generation
    judged: bool | None = None
    """Asks for the grader role; ``None``: read from the task's solvers."""


def _is_judged(task: Task) -> bool:
    """Does the task ask for the grader role? Unknown solver shapes count as judged."""
    from inspect_ai._util.registry import registry_info

    solvers = getattr(task.solver, "_solvers", None)
    if solvers is None:
        return True
    names = {registry_info(s).name for s in solvers}
    return "alignprobe/check_grader" in names


def plan_tasks(
    suite: Suite,
    checkpoints: CheckpointSet,
    generate: dict[str, Any] | None = None,
    rounds: int = 1,
    *,
    with_models: bool = True,
) -> list[PlannedTask]:
    """Build every Inspect task; data, parameter and model errors surface here.

    ``generate`` holds the command line's generation settings; each task's effective
    settings follow ``alignprobe.models.generation`` (CLI > checkpoint > task > run defaults).
    ``rounds`` multiplies every task's epochs (``run --until-decided``: round ``k`` of a
    sequential run resumes the same logs with ``k`` times the suite's answers). With
    ``with_models=False`` no checkpoint is loaded (a shard plans the whole run, then
    :func:`attach_models` loads only its own checkpoints).
    """
    from inspect_ai._eval.registry import task_create

    import alignprobe._registry  # noqa: F401  - registers tasks and providers

    models: dict[str, Any] = (
        {name: checkpoint_model(spec) for name, spec in checkpoints.specs.items()}
        if with_models
        else dict.fromkeys(checkpoints.specs)
    )
    planned: list[PlannedTask] = []
    for index, item in enumerate(suite.tasks):
        external = item.external()
        accepted = (
            set() if external is not None else set(signature(task_function(item.task)).parameters)
        )
        samples = suite.samples_for(item)
        limit = suite.limit_for(item)
        for name, model in models.items():
            for condition in item.conditions:
                if external is not None:
                    task = _external_task(suite, index, external)
                    judged: bool | None = external.judged
                else:
                    judged = None
                    params = dict(item.params, condition=condition)
                    if samples is not None and "samples" in accepted:
                        params["samples"] = samples
                    try:
                        task = task_create(f"alignprobe/{item.task}", **params)
                    except UserInputError as exc:  # name the suite line that asked for it
                        raise suite.locate(exc, index, condition) from None
                # the run's own block; Inspect merges Task metadata into log.eval.metadata
                block = {
                    "checkpoint": name,
                    "checkpoint_meta": checkpoints.metadata(name),
                    "suite": suite.name,
                }
                options: dict[str, Any] = {
                    "metadata": {**(task.metadata or {}), METADATA_KEY: block},
                }
                if model is not None:
                    options["model"] = model
                if samples is not None and "samples" not in accepted:
                    options["epochs"] = samples
                if limit is not None and len(task.dataset) > limit:
                    options["dataset"] = task.dataset[:limit]
                for key in ("time_limit", "message_limit", "token_limit"):
                    if getattr(item, key) is not None:
                        options[key] = getattr(item, key)
                spec = checkpoints.specs[name]
                generation = resolve_generation(
                    task, LARGE_RUN_GENERATE, spec.config, generate or {}, model=spec.model
                )
                options["config"] = generation.config
                # shown by Inspect's display and in log file names: the checkpoint, not
                # only its provider string (two scripted/em_rate blocks look alike)
                options["name"] = f"{_display_name(item.task)}:{name}"
                inspect_task = task_with(task, **options)
                if rounds > 1:  # eval_set resumes a log whose epochs grew: earlier ones kept
                    epochs = Epochs(
                        (inspect_task.epochs or 1) * rounds, inspect_task.epochs_reducer
                    )
                    inspect_task = task_with(inspect_task, epochs=epochs)
                planned.append(
                    PlannedTask(name, item.task, condition, inspect_task, generation, judged)
                )
    return planned


def print_plan(
    suite: Suite,
    checkpoints: CheckpointSet,
    judge: JudgeSpec | None,
    generate: dict[str, Any] | None,
    judge_batch: bool,
    prices: dict[str, Price] | None,
    max_calls: int | None,
) -> None:
    """``run --plan``: the whole plan's table on stdout; no model is built."""
    planned = plan_tasks(suite, checkpoints, generate, with_models=False)
    models = {name: spec.model for name, spec in checkpoints.specs.items()}
    plan = build_plan(suite, planned, judge, models, judge_batch=judge_batch)
    cost = plan_cost(plan, prices) if prices is not None else None
    print(plan_table(plan, cost))
    check_max_calls(plan, max_calls)


def _display_name(task: str) -> str:
    """A task name fit for log file names (another package's task has a '/' or '@')."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", task.rsplit("@", 1)[-1])


def _external_task(suite: Suite, index: int, spec: ExternalSpec) -> Task:
    """Another package's task, its declared measures checked and recorded in its metadata."""
    item = suite.tasks[index]

    def refuse(message: str, key: str, field: str) -> ConfigError:
        return ConfigError(
            message, source=suite.source or None, line=suite.line(index, key), field=field
        )

    try:
        task: Task = create_task(suite.task_spec(item), dict(item.params))
    except UserInputError as exc:
        raise suite.locate(exc, index, EXTERNAL_CONDITION) from None
    for measure, key, message in check_against_task(spec, task):
        raise refuse(
            message, f"measures.{measure}.{key}", f"tasks[{index}].measures[{measure}].{key}"
        )
    missing = cluster_missing(spec, task)
    if missing is not None:
        raise refuse(missing, "cluster", f"tasks[{index}].cluster")
    declared = measures_metadata(
        item.task,
        str(task.version),
        [m.measure() for m in spec.measures],
        condition={"name": EXTERNAL_CONDITION},
        **metadata_block(spec, {"suite": suite.name}),
    )
    return task_with(task, metadata={**(task.metadata or {}), **declared})


def attach_models(planned: list[PlannedTask], checkpoints: CheckpointSet) -> None:
    """Give each task its checkpoint's model, loading each checkpoint once."""
    models: dict[str, Any] = {}
    for item in planned:
        if item.checkpoint not in models:
            models[item.checkpoint] = checkpoint_model(checkpoints.specs[item.checkpoint])
        task_with(item.inspect_task, model=models[item.checkpoint])


def planned_samples(item: PlannedTask) -> int:
    """Samples x epochs a planned task will run (its weight when the plan is sharded)."""
    task = item.inspect_task
    return len(task.dataset) * (task.epochs or 1)


def check_judge(judge: JudgeSpec | None) -> None:
    """A judge given (or each of a panel) is a model Inspect knows, with its key set
    (checked before planning)."""
    for model in [judge] if isinstance(judge, str) else judge or []:
        check_model(model, field="--judge", role="judge")


def require_judge(planned: list[PlannedTask], judge: JudgeSpec | None) -> None:
    judged = sorted(
        {
            p.task
            for p in planned
            if (p.judged if p.judged is not None else _is_judged(p.inspect_task))
        }
    )
    check_panel(judge, judged, "--judge")
    if judged and not judge:
        raise JudgeMissingError(
            f"task(s) {', '.join(judged)} are judged: pass --judge <provider/model> "
            "(alignprobe never judges with the model under test)",
            field="--judge",
        )


def _git_commit() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def _versions() -> dict[str, str]:
    out: dict[str, str] = {}
    for name in _PACKAGES:
        try:
            out[name] = importlib_metadata.version(name.replace("_", "-"))
        except importlib_metadata.PackageNotFoundError:
            continue
    return out


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(partial, path)


def manifest(
    suite: Suite,
    checkpoints: CheckpointSet,
    judge: JudgeSpec | None,
    planned: list[PlannedTask],
    generate: dict[str, Any] | None = None,
    shares: list[int] | None = None,
    shard_count: int = 1,
) -> dict[str, Any]:
    """The run's plan; ``shares`` (one shard per task) for a run split over ``shard_count``
    machines (the N the user gave, even where some shards get no task)."""
    tasks: list[dict[str, Any]] = [
        {
            "checkpoint": p.checkpoint,
            "task": p.task,
            "condition": p.condition,
            "generate": p.generation.manifest(),
        }
        for p in planned
    ]
    record: dict[str, Any] = {
        "plan_format": PLAN_FORMAT,
        "suite": {"name": suite.name, "source": suite.source, "sha256": suite.sha256},
        "checkpoints_file": str(checkpoints.source),
        "checkpoints": checkpoints.manifest(),
        "judge": judge,
        "generate": generate or {},
        "tasks": tasks,
        "packages": _versions(),
        "git_commit": _git_commit(),
        "command": sys.argv,
    }
    if shares is not None and shard_count > 1:
        record["shards"] = shard_count
        for entry, share in zip(tasks, shares, strict=True):
            entry["shard"] = share
    return record


def _report_not_applied(planned: list[PlannedTask]) -> None:
    """Say which user generation settings a task's method overrides (once per pair)."""
    seen = set()
    for p in planned:
        for note in p.generation.not_applied.values():
            if (p.checkpoint, p.task, note) not in seen:
                seen.add((p.checkpoint, p.task, note))
                print(
                    f"alignprobe: {p.checkpoint} / {p.task}: not applied: {note}", file=sys.stderr
                )


def judge_roles(
    judge: JudgeSpec | None, attempt_timeout: int | None = None, *, batch: bool = False
) -> dict[str, Model | list[Model]] | None:
    """The ``grader`` role: one judge, or a panel's list (scorers.panel), each with the
    large-run attempt timeout; ``batch``: through the provider's batch API (Inspect's
    ``GenerateConfig.batch``, where the provider has one)."""
    if not judge:
        return None
    models: list[Model] = []
    for model in [judge] if isinstance(judge, str) else judge:
        roles = large_run_model_roles(
            {GRADER_ROLE: model}, attempt_timeout=attempt_timeout, batch=batch
        )
        assert roles is not None
        bound = roles[GRADER_ROLE]
        models.append(bound if isinstance(bound, Model) else get_model(bound))
    return {GRADER_ROLE: models[0] if len(models) == 1 else models}


@dataclass
class RunOutcome:
    logs: list[EvalLog]
    failed: list[EvalLog]


class RunSettings(TypedDict, total=False):
    """Keyword settings of :func:`run_suite` that ``alignprobe run`` gives a plain run and
    every round of ``--until-decided`` alike."""

    generate: dict[str, Any] | None
    display: str | None
    retry_attempts: int | None
    retry_on_error: int | None
    max_tasks: int | None
    max_samples: int | None
    judge_batch: bool
    max_calls: int | None
    prices: dict[str, Price] | None


def run_suite(
    suite: Suite,
    checkpoints: CheckpointSet,
    judge: JudgeSpec | None,
    out: Path | str,
    *,
    generate: dict[str, Any] | None = None,
    display: str | None = None,
    retry_attempts: int | None = None,
    retry_on_error: int | None = None,
    max_tasks: int | None = None,
    max_samples: int | None = None,
    shard: Shard | None = None,
    rounds: int = 1,
    until_decided: dict[str, Any] | None = None,
    judge_batch: bool = False,
    max_calls: int | None = None,
    prices: dict[str, Price] | None = None,
) -> RunOutcome:
    """Plan (validating everything), then write the manifest and run the eval set.

    A run folder that already holds a run is resumed only if the plan is the same (suite,
    checkpoints, judge, generation settings, shard count); otherwise this refuses before
    writing anything, so a finished run's record is never overwritten. ``out`` is a local
    folder or an fsspec URL (``s3://bucket/run``). With ``shard`` I/N only this machine's
    share of the plan runs, into ``logs/shard-I-of-N/``, with its own record in
    ``shards/``; the manifest holds the whole plan.
    """
    shard = shard or Shard(1, 1)
    check_judge(judge)
    planned = plan_tasks(suite, checkpoints, generate, rounds, with_models=False)
    require_judge(planned, judge)
    shares = contiguous_shares([planned_samples(p) for p in by_checkpoint(planned)], shard.count)
    share_of = dict(zip(map(id, by_checkpoint(planned)), shares, strict=True))
    record = manifest(
        suite,
        checkpoints,
        judge,
        planned,
        generate,
        [share_of[id(p)] for p in planned],
        shard.count,
    )
    if until_decided is not None:  # part of the plan: a plain run may not resume it
        record["until_decided"] = until_decided
        record["rounds"] = rounds
    store = RunStore(out)
    earlier = check_resumable(store, record)
    mine = [p for p in planned if share_of[id(p)] == shard.index]
    plan_line = announce_plan(
        suite, planned, checkpoints, judge, only=mine, judge_batch=judge_batch,
        max_calls=max_calls, prices=prices,
    )  # fmt: skip
    attach_models(mine, checkpoints)
    sharded = shard.count > 1
    if sharded:  # shards write the same plan; each keeps its progress in its own record
        store.write_json(record, MANIFEST)
        record = {"shard": str(shard), "command": sys.argv}
        earlier = store.read_json(SHARDS, f"{shard.slug}.json")
    now = datetime.now(UTC).isoformat()
    if earlier is None:
        record["started"] = now
    else:  # keep the first start and the last outcome until this attempt ends
        record = {
            **record,
            **{k: earlier[k] for k in ("started", "finished", "status", "logs") if k in earlier},
            "resumed": [*earlier.get("resumed", []), now],
        }
    record_path = (SHARDS, f"{shard.slug}.json") if sharded else (MANIFEST,)
    store.write_json(record, *record_path)
    _report_not_applied(mine)
    print(plan_line, file=sys.stderr, flush=True)  # the size of what follows, before any call
    logs: list[EvalLog] = []
    log_dir = join(store.location, LOGS, *([shard.slug] if sharded else []))
    interrupted = False
    if mine:
        _set_aside_unreadable_logs(store, log_dir)
        try:
            _, logs = eval_set(
                [p.inspect_task for p in mine],
                log_dir=log_dir,
                model_roles=judge_roles(
                    judge, (generate or {}).get("attempt_timeout"), batch=judge_batch
                ),
                display=display,  # type: ignore[arg-type]
                retry_attempts=TASK_RETRY_ATTEMPTS if retry_attempts is None else retry_attempts,
                **large_run_eval_args(
                    with_generate=False,
                    max_tasks=max_tasks,
                    max_samples=max_samples,
                    retry_on_error=retry_on_error,
                ),
            )
        except KeyboardInterrupt:  # Inspect re-raises a Ctrl-C once its logs are written
            interrupted = True
    failed = [log for log in logs if log.status != "success"]
    complete = len(logs) == len(mine) and not failed
    # Inspect may also return normally from a Ctrl-C, with the cancelled logs left out:
    # a log per planned task, each a success, is the only complete outcome
    if not complete and (
        interrupted
        or was_interrupted()
        or len(logs) < len(mine)
        or any(log.status == "cancelled" for log in logs)
    ):
        record["status"] = "interrupted"
        record["interrupted"] = datetime.now(UTC).isoformat()
        record["logs"] = _log_entries(logs)
        store.write_json(record, *record_path)
        note_interrupt()
        raise Interrupted(_interruption_message(mine, logs, log_dir))
    record["finished"] = datetime.now(UTC).isoformat()
    record["status"] = "error" if failed else "success"
    record["logs"] = _log_entries(logs)
    store.write_json(record, *record_path)
    if interrupted or was_interrupted():  # a signal came as the last sample finished
        raise Interrupted("the run had completed before it stopped: nothing is missing")
    return RunOutcome(logs, failed)


def _set_aside_unreadable_logs(store: RunStore, log_dir: str) -> None:
    """Inspect's ``eval_set`` stops on a log it cannot read (one cut short by a kill or a
    full disk): such a log holds no finished work, so it is moved to ``damaged-logs/``
    (kept, not deleted) and its task runs again."""
    if not store.has_logs(LOGS):
        return
    for location, why in read_log_headers(log_dir)[1]:
        moved = store.set_aside(location, DAMAGED_LOGS)
        print(
            f"alignprobe: moved an unreadable log ({why}) to {moved}; its task runs again",
            file=sys.stderr,
            flush=True,
        )


def _log_entries(logs: list[EvalLog]) -> list[dict[str, str]]:
    return [{"log": Path(log.location).name, "status": log.status} for log in logs]


def _interruption_message(mine: list[PlannedTask], logs: list[EvalLog], log_dir: str) -> str:
    """What finished before the interruption, what did not, and how to resume."""
    try:
        headers = log_headers(log_dir)
    except Exception:  # the store went away too: say what the returned logs say
        headers = logs
    keys = {(p.checkpoint, p.task, p.condition) for p in mine}
    done = {log_key(h) for h in headers if h.status == "success"}
    # a cancelled log's header counts no completed sample: its sample summaries do
    answered = sum(answered_samples(h) for h in headers if log_key(h) in keys)
    unfinished = [
        f"{p.checkpoint}/{p.task}/{p.condition}"
        for p in mine
        if (p.checkpoint, p.task, p.condition) not in done
    ]
    planned = sum(planned_samples(p) for p in mine)
    return (
        f"{answered} of {planned} planned samples answered; {len(unfinished)} of "
        f"{len(mine)} task(s) not finished ({first_few(unfinished)}); re-run the same command to resume "
        "(finished samples are kept)"
    )


def by_checkpoint(planned: list[PlannedTask]) -> list[PlannedTask]:
    """The plan in checkpoint order, then suite order: the order shards split it in."""
    order = {name: index for index, name in enumerate(dict.fromkeys(p.checkpoint for p in planned))}
    return sorted(planned, key=lambda p: order[p.checkpoint])
