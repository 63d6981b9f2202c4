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
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from inspect import signature
from pathlib import Path
from typing import Any

from inspect_ai import Epochs, Task, eval_set, task_with
from inspect_ai.log import EvalLog

from alignprobe.checkpoint_models import checkpoint_model
from alignprobe.checkpoints import CheckpointSet
from alignprobe.errors import JudgeMissingError, UserInputError
from alignprobe.evals.suite import Suite, task_function
from alignprobe.generation import Generation, resolve_generation
from alignprobe.measures import METADATA_KEY
from alignprobe.model_names import check_model
from alignprobe.run_defaults import (
    LARGE_RUN_GENERATE,
    TASK_RETRY_ATTEMPTS,
    large_run_eval_args,
    large_run_model_roles,
)
from alignprobe.run_resume import check_resumable
from alignprobe.run_status import LOGS, MANIFEST
from alignprobe.scorers.grader import GRADER_ROLE

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
) -> list[PlannedTask]:
    """Build every Inspect task; data, parameter and model errors surface here.

    ``generate`` holds the command line's generation settings; each task's effective
    settings follow ``alignprobe.generation`` (CLI > checkpoint > task > run defaults).
    ``rounds`` multiplies every task's epochs (``run --until-decided``: round ``k`` of a
    sequential run resumes the same logs with ``k`` times the suite's answers).
    """
    from inspect_ai._eval.registry import task_create

    import alignprobe._registry  # noqa: F401  - registers tasks and providers

    models = {name: checkpoint_model(spec) for name, spec in checkpoints.specs.items()}
    planned: list[PlannedTask] = []
    for index, item in enumerate(suite.tasks):
        accepted = set(signature(task_function(item.task)).parameters)
        samples = suite.samples_for(item)
        limit = suite.limit_for(item)
        for name, model in models.items():
            for condition in item.conditions:
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
                    "model": model,
                    "metadata": {**(task.metadata or {}), METADATA_KEY: block},
                }
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
                options["name"] = f"{item.task}:{name}"
                inspect_task = task_with(task, **options)
                if rounds > 1:  # eval_set resumes a log whose epochs grew: earlier ones kept
                    epochs = Epochs(
                        (inspect_task.epochs or 1) * rounds, inspect_task.epochs_reducer
                    )
                    inspect_task = task_with(inspect_task, epochs=epochs)
                planned.append(PlannedTask(name, item.task, condition, inspect_task, generation))
    return planned


def check_judge(judge: str | None) -> None:
    """A judge given is a model Inspect knows, with its key set (checked before planning)."""
    if judge is not None:
        check_model(judge, field="--judge", role="judge")


def require_judge(planned: list[PlannedTask], judge: str | None) -> None:
    judged = sorted({p.task for p in planned if _is_judged(p.inspect_task)})
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
    judge: str | None,
    planned: list[PlannedTask],
    generate: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "plan_format": PLAN_FORMAT,
        "suite": {"name": suite.name, "source": suite.source, "sha256": suite.sha256},
        "checkpoints_file": str(checkpoints.source),
        "checkpoints": checkpoints.manifest(),
        "judge": judge,
        "generate": generate or {},
        "tasks": [
            {
                "checkpoint": p.checkpoint,
                "task": p.task,
                "condition": p.condition,
                "generate": p.generation.manifest(),
            }
            for p in planned
        ],
        "packages": _versions(),
        "git_commit": _git_commit(),
        "command": sys.argv,
    }


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


@dataclass
class RunOutcome:
    logs: list[EvalLog]
    failed: list[EvalLog]


def run_suite(
    suite: Suite,
    checkpoints: CheckpointSet,
    judge: str | None,
    out: Path,
    *,
    generate: dict[str, Any] | None = None,
    display: str | None = None,
    retry_attempts: int | None = None,
    retry_on_error: int | None = None,
    max_tasks: int | None = None,
    max_samples: int | None = None,
    rounds: int = 1,
    until_decided: dict[str, Any] | None = None,
) -> RunOutcome:
    """Plan (validating everything), then write the manifest and run the eval set.

    A run folder that already holds a run is resumed only if the plan is the same (suite,
    checkpoints, judge, generation settings); otherwise this refuses before writing
    anything, so a finished run's record is never overwritten.
    """
    check_judge(judge)
    planned = plan_tasks(suite, checkpoints, generate, rounds)
    require_judge(planned, judge)
    record = manifest(suite, checkpoints, judge, planned, generate)
    if until_decided is not None:  # part of the plan: a plain run may not resume it
        record["until_decided"] = until_decided
        record["rounds"] = rounds
    earlier = check_resumable(out, record)
    now = datetime.now(UTC).isoformat()
    if earlier is None:
        record["started"] = now
    else:  # keep the first start and the last outcome until this attempt ends
        record = {
            **record,
            **{k: earlier[k] for k in ("started", "finished", "status", "logs") if k in earlier},
            "resumed": [*earlier.get("resumed", []), now],
        }
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / MANIFEST, record)
    _report_not_applied(planned)
    _, logs = eval_set(
        [p.inspect_task for p in planned],
        log_dir=str(out / LOGS),
        model_roles=large_run_model_roles(
            {GRADER_ROLE: judge} if judge else None,
            attempt_timeout=(generate or {}).get("attempt_timeout"),
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
    failed = [log for log in logs if log.status != "success"]
    record["finished"] = datetime.now(UTC).isoformat()
    record["status"] = "error" if failed else "success"
    record["logs"] = [{"log": Path(log.location).name, "status": log.status} for log in logs]
    write_json_atomic(out / MANIFEST, record)
    return RunOutcome(logs, failed)
