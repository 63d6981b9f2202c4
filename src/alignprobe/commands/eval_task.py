"""``alignprobe eval``: run one alignprobe task through Inspect, with checked exit codes.

Unlike ``inspect eval`` (which exits 0 even when a log ends in error), this exits 1 if any
log did not finish successfully and 2 on a user error (bad data file, unknown task,
missing judge), with one line saying what was wrong.
"""

from __future__ import annotations

import sys

import click

from alignprobe.errors import JudgeMissingError, UserInputError
from alignprobe.tasks.registry import ALIGNPROBE_TASKS, resolve_task_name


@click.command("tasks")
def tasks_command() -> None:
    """List alignprobe's tasks."""
    for name in ALIGNPROBE_TASKS:
        click.echo(f"alignprobe/{name}")


@click.command("eval")
@click.argument("task_name")
@click.option(
    "--model", required=True, help="Model under test, e.g. hf//abs/path or openai/gpt-4o."
)
@click.option("--grader", default=None, help="Judge model (model role 'grader').")
@click.option("-T", "task_args", multiple=True, help="Task parameter key=value (repeatable).")
@click.option("-M", "model_args", multiple=True, help="Model argument key=value (repeatable).")
@click.option("--log-dir", default="results/logs", show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N samples.")
@click.option(
    "--max-connections",
    type=click.IntRange(min=1),
    default=None,
    help="Concurrent connections to the model's API [default: Inspect's, per provider].",
)
def eval_command(
    task_name: str,
    model: str,
    grader: str | None,
    task_args: tuple[str, ...],
    model_args: tuple[str, ...],
    log_dir: str,
    limit: int | None,
    max_connections: int | None,
) -> None:
    """Run one task (e.g. emergent_misalignment) on one model."""
    from inspect_ai import eval as inspect_eval
    from inspect_ai import task_with
    from inspect_ai._eval.registry import task_create

    import alignprobe._registry  # noqa: F401  - registers tasks and providers
    from alignprobe.evals.suite import task_function
    from alignprobe.models.checkpoint_models import checkpoint_model
    from alignprobe.models.checkpoints import hf_model_spec, loads_local_weights
    from alignprobe.models.generation import for_provider
    from alignprobe.models.model_names import check_model
    from alignprobe.run.defaults import large_run_eval_args, large_run_model_roles
    from alignprobe.run.suite_run import _is_judged
    from alignprobe.task_params import check_task_params, parse_key_values

    name = resolve_task_name(task_name)
    short = name.removeprefix("alignprobe/")
    params = check_task_params(
        short, task_function(short), parse_key_values(task_args, "-T"), field_prefix="-T "
    )
    check_model(model, field="--model", role="model under test")
    if grader is not None:
        check_model(grader, field="--grader", role="judge")
    # build the task first: data and config errors surface here, before any model call
    try:
        task = task_create(name, **params)
    except UserInputError as exc:
        if exc.source is None and exc.field in params:  # a task's own check of a -T value
            raise type(exc)(exc.message, field=f"-T {exc.field}") from None
        raise
    if grader is None and _is_judged(task):
        raise JudgeMissingError(
            f"task '{short}' is judged: pass --grader <provider/model> (e.g. "
            "--grader openai/gpt-4o-2024-08-06); alignprobe never judges with the model "
            "under test",
            field="--grader",
        )
    # local hf/ models (named ones built first) load like checkpoints; greedy settings in
    # a form the provider takes (alignprobe.models.generation.for_provider)
    spec = hf_model_spec(model, parse_key_values(model_args, "-M"))
    local = loads_local_weights(spec.model)
    config, _ = for_provider(spec.model, task.config)
    logs = inspect_eval(
        task_with(task, config=config),
        model=checkpoint_model(spec) if local else model,
        model_args={} if local else spec.model_args,
        model_roles=large_run_model_roles({"grader": grader} if grader else None),
        log_dir=log_dir,
        limit=limit,
        **large_run_eval_args(max_connections=max_connections),
    )
    failed = [log for log in logs if log.status != "success"]
    for log in logs:
        click.echo(f"{log.status}: {log.location}")
    if failed:
        for log in failed:
            message = log.error.message if log.error else log.status
            click.echo(f"alignprobe: log did not succeed: {message}", err=True)
        sys.exit(1)
