"""``alignprobe run``: a suite over the checkpoints of ``checkpoints.yaml`` into one run dir.

Exit codes (docs/exit-codes.md): 0 every planned log succeeded, 1 some log ended in error
(re-run the same command to finish it), 2 a user error (bad suite or checkpoints file, no
judge), 130 / 143 interrupted by Ctrl-C / SIGTERM (recorded as interrupted; re-run the same
command to resume, finished samples are kept).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from alignprobe.commands.echo import echo_failed_logs
from alignprobe.commands.options import (
    checkpoint_pick_options,
    display_option,
    generate_option,
    judges_option,
    max_samples_option,
    out_folder_option,
    policy_option,
    spending_options,
    suite_option,
)
from alignprobe.exit_codes import CommandFailed

if TYPE_CHECKING:
    from inspect_ai.log import EvalLog

    from alignprobe.evals.suite import Suite
    from alignprobe.run.suite_run import RunSettings


@click.command("run")
@suite_option()
@click.option(
    "--checkpoints",
    "checkpoints_file",
    required=True,
    type=click.Path(path_type=Path),
    help="checkpoints.yaml",
)
@judges_option(
    "Judge model (Inspect model role 'grader'), e.g. openai/gpt-4o-2024-08-06; repeat "
    "for a panel (numbers averaged, verdicts by majority)."
)
@out_folder_option(
    "Run directory, or an fsspec URL such as s3://bucket/run [default: results/<suite>].",
    url=True,
)
@click.option(
    "--shard",
    "shard_spec",
    default=None,
    metavar="I/N",
    help="Run only share I of N of the plan (N machines, one shared --out); "
    "e.g. --shard ${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}.",
)
@display_option("Inspect progress display.", conversation=True)
@click.option(
    "--retry-attempts",
    type=click.IntRange(min=0),
    default=None,
    help="eval_set retries of failed logs within this invocation [default: 2].",
)
@click.option(
    "--retry-on-error",
    type=click.IntRange(min=0),
    default=None,
    help="Times a sample whose model or judge call failed is run again [default: 1].",
)
@generate_option(
    "Generation setting for every checkpoint (Inspect GenerateConfig field, e.g. "
    "max_tokens=400, temperature=0.7, max_retries=3, timeout=600); wins over the "
    "checkpoint's `generate:` and the task's defaults (repeatable)."
)
@click.option(
    "--max-tasks", type=click.IntRange(min=1), default=None, help="Tasks run in parallel."
)
@max_samples_option("Samples run in parallel per task.")
@click.option(
    "--until-decided",
    "until_decided",
    is_flag=True,
    help="Run in rounds (each the suite's answers once more, in the same logs) with a "
    "sequential gate look after each; stop once every check is decided. Exit 0 pass, "
    "1 regression, 2 cannot decide (docs/ci.md).",
)
@click.option(
    "--baseline",
    type=click.Path(path_type=Path),
    default=None,
    help="--until-decided: the finished baseline (run dir, table or import folder).",
)
@checkpoint_pick_options(
    "--until-decided: baseline checkpoint.",
    "--until-decided: the checkpoint decided on (when checkpoints.yaml lists several).",
)
@policy_option("--until-decided: gate policy YAML [default: built-in gate.yaml].")
@click.option(
    "--max-looks",
    type=click.IntRange(min=2),
    default=None,
    help="--until-decided: most rounds (looks) [default: 4].",
)
@spending_options(default=None, mode="--until-decided: ")
@click.option(
    "--plan",
    "show_plan",
    is_flag=True,
    help="Print what the run would do (samples, model and judge calls, tokens, and the cost "
    "with --prices) per checkpoint x task x condition, and exit; builds no model, calls "
    "nothing.",
)
@click.option(
    "--prices",
    "prices_file",
    type=click.Path(path_type=Path),
    default=None,
    help="YAML of per-million-token prices per model (docs/cost.md): the plan's cost.",
)
@click.option(
    "--max-calls",
    type=click.IntRange(min=1),
    default=None,
    help="Refuse (exit 2, nothing run) a plan that can make more model + judge calls.",
)
@click.option(
    "--judge-batch",
    is_flag=True,
    default=None,
    help="Send judge calls through the provider's batch API where Inspect has one (about "
    "half price, minutes to hours of latency; docs/cost.md) [default: the suite's "
    "judge_batch].",
)
def run_command(
    suite_name: str,
    checkpoints_file: Path,
    judges: tuple[str, ...],
    out: Path | str | None,
    shard_spec: str | None,
    display: str | None,
    retry_attempts: int | None,
    retry_on_error: int | None,
    generate_args: tuple[str, ...],
    max_tasks: int | None,
    max_samples: int | None,
    until_decided: bool,
    baseline: Path | None,
    baseline_checkpoint: str | None,
    candidate_checkpoint: str | None,
    policy: Path | None,
    max_looks: int | None,
    spending: str | None,
    futility_spending: str | None,
    binding_futility: bool | None,
    show_plan: bool,
    prices_file: Path | None,
    max_calls: int | None,
    judge_batch: bool | None,
) -> None:
    """Run a suite on every checkpoint; re-running it resumes.

    Re-running the same command finishes what is missing.

    Generation settings: --generate beats the checkpoint's `generate:`, which beats the
    task's defaults, which beat alignprobe's run defaults (see manifest.json per task).
    """
    from alignprobe.errors import UserInputError
    from alignprobe.evals.suite import load_suite
    from alignprobe.models.checkpoints import load_checkpoints
    from alignprobe.models.generation import parse_generate_args
    from alignprobe.run.shards import parse_shard
    from alignprobe.run.suite_run import run_suite
    from alignprobe.run.until_decided import DEFAULT_LOOKS, UntilDecided
    from alignprobe.scorers.panel import judge_spec

    shard = parse_shard(shard_spec) if shard_spec is not None else None

    sequential = {
        "--baseline": baseline,
        "--baseline-checkpoint": baseline_checkpoint,
        "--candidate-checkpoint": candidate_checkpoint,
        "--policy": policy,
        "--max-looks": max_looks,
        "--spending": spending,
        "--futility-spending": futility_spending,
        "--binding-futility": binding_futility or None,
    }
    given = [name for name, value in sequential.items() if value is not None]
    if given and not until_decided:
        raise UserInputError(f"{given[0]} goes with --until-decided", field=given[0])
    generate = parse_generate_args(generate_args)
    suite = load_suite(suite_name)
    checkpoints = load_checkpoints(checkpoints_file)
    from alignprobe.run.prices import load_prices

    prices = load_prices(prices_file) if prices_file is not None else None
    batch = suite.judge_batch if judge_batch is None else judge_batch
    if show_plan:
        from alignprobe.run.suite_run import print_plan

        print_plan(suite, checkpoints, judge_spec(judges), generate, batch, prices, max_calls)
        return
    run_dir = out if out is not None else Path("results") / suite.name
    settings: RunSettings = {
        "generate": generate,
        "display": display,
        "retry_attempts": retry_attempts,
        "retry_on_error": retry_on_error,
        "max_tasks": max_tasks,
        "max_samples": max_samples,
        "judge_batch": batch,
        # with --until-decided round k's plan is the run's through round k: --max-calls
        # bounds the whole run
        "max_calls": max_calls,
        "prices": prices,
    }
    if until_decided:
        from alignprobe.commands.run_rounds import run_rounds

        if baseline is None:
            raise UserInputError("--until-decided needs --baseline", field="--baseline")
        if shard is not None or not isinstance(run_dir, Path):
            # its rounds and looks live in one local folder, decided by one process
            raise UserInputError(
                "--until-decided runs in one local --out folder, without --shard",
                field="--until-decided",
            )
        plan = UntilDecided(
            baseline,
            max_looks or DEFAULT_LOOKS,
            baseline_checkpoint,
            candidate_checkpoint,
            policy,
            spending or "obrien-fleming",
            futility_spending,
            bool(binding_futility),
        )
        run_rounds(suite, checkpoints, judge_spec(judges), run_dir, plan, **settings)
        return  # run_rounds exits with the decision's code
    outcome = run_suite(suite, checkpoints, judge_spec(judges), run_dir, shard=shard, **settings)
    if shard is not None and not outcome.logs and not outcome.failed:
        click.echo(f"shard {shard}: nothing of the plan falls to this shard")
    for log in outcome.logs:
        click.echo(f"{log.status}: {log.location}")
    if outcome.failed:
        echo_failed_logs(outcome.failed)
        raise CommandFailed(
            f"{len(outcome.failed)} of {len(outcome.logs)} log(s) ended in error; re-run the "
            "same command to finish the missing samples"
        )
    _refuse_unread_keys(suite, outcome.logs)
    if shard is not None and shard.count > 1:
        click.echo(f"shard {shard} complete: {run_dir} (the run is complete when every shard is)")
    else:
        click.echo(f"run complete: {run_dir}")


def _refuse_unread_keys(suite: Suite, logs: list[EvalLog]) -> None:
    """A declared measure whose key no sample's score has is a suite error, not a result."""
    from alignprobe.results.external_rows import unread_keys_in_logs
    from alignprobe.run.external_tasks import unread_key_error

    unread = unread_keys_in_logs(logs)
    if unread:
        raise unread_key_error(suite, unread)
