"""``alignprobe watch``: evaluate a training run's checkpoints while it trains.

Exit codes (docs/exit-codes.md): 0 the trainer's final state (or ``--until-step``) was
reached and every checkpoint was evaluated; 1 some checkpoint's logs ended in error; 2 a
user error, or watching ended before the training did (``--idle-timeout``); 4 only with
``--stop-on-onset``: an onset was confirmed and the stop file written; 130 / 143
interrupted (re-run the same command: nothing evaluated is evaluated again).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from alignprobe.commands.options import (
    checkpoint_pick_options,
    display_option,
    generate_option,
    judges_option,
    max_samples_option,
    policy_option,
    spending_option,
    suite_option,
)
from alignprobe.exit_codes import CommandFailed, ExitCode, Interrupted, note_interrupt


@click.command("watch")
@click.argument("train_dir", type=click.Path(path_type=Path))
@suite_option()
@judges_option("Judge model (repeat for a panel).")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Run folder.")
@click.option(
    "--run-name", default=None, help="meta.run of every step [default: TRAIN_DIR's name]."
)
@click.option(
    "--baseline",
    type=click.Path(path_type=Path),
    default=None,
    help="A finished run of the base model: every step is compared with it (onset needs it).",
)
@checkpoint_pick_options("The base's name in --baseline.")
@click.option(
    "--base",
    default=None,
    help="Base model of LoRA adapter checkpoints (a folder, a hub id or smollm2) "
    "[default: the adapter's base_model_name_or_path].",
)
@click.option(
    "--order",
    type=click.Choice(["newest", "oldest"]),
    default="newest",
    show_default=True,
    help="Which finished checkpoint goes first when several wait.",
)
@click.option(
    "--until-step", type=click.IntRange(min=0), default=None, help="Last step to evaluate."
)
@click.option(
    "--stop-on-onset",
    is_flag=True,
    help="Once an onset is confirmed, write TRAIN_DIR/alignprobe_stop.json and exit 4.",
)
@policy_option(
    "Gate policy YAML whose checks (margins, tests, min_samples, correction) decide the "
    "onset at each look's share of alpha [default: the gate's default policy, its "
    "headline-measure checks]."
)
@click.option(
    "--alpha",
    type=click.FloatRange(0, 0.5, min_open=True),
    default=None,
    help="One-sided level of the onset test over all looks (false-stop rate), spent "
    "look by look [default: the policy's alpha, else 0.05].",
)
@spending_option("Alpha-spending over the looks", "pocock")
@click.option(
    "--looks",
    type=click.IntRange(min=1),
    default=None,
    help="Checkpoints the onset test plans to look at [default: max_steps / save_steps from "
    "trainer_state.json, else 10].",
)
@click.option("--poll", type=click.FloatRange(min=0.01), default=5.0, show_default=True,
              help="Seconds between looks at TRAIN_DIR.")  # fmt: skip
@click.option("--settle", type=click.FloatRange(min=0), default=2.0, show_default=True,
              help="Seconds a checkpoint's files must stay unchanged before it is read.")  # fmt: skip
@click.option(
    "--idle-timeout",
    type=click.FloatRange(min=0),
    default=None,
    help="Give up (exit 2) after this many seconds without a new checkpoint.",
)
@generate_option("Generation setting for every checkpoint (as in `run`).")
@display_option()
@max_samples_option()
def watch_command(
    train_dir: Path,
    suite_name: str,
    judges: tuple[str, ...],
    out: Path,
    run_name: str | None,
    baseline: Path | None,
    baseline_checkpoint: str | None,
    base: str | None,
    order: str,
    until_step: int | None,
    stop_on_onset: bool,
    policy: Path | None,
    alpha: float | None,
    spending: str,
    looks: int | None,
    poll: float,
    settle: float,
    idle_timeout: float | None,
    generate_args: tuple[str, ...],
    display: str | None,
    max_samples: int | None,
) -> None:
    """Evaluate each checkpoint of a training run as it is saved.

    Each checkpoint-<step> folder of TRAIN_DIR is evaluated once, as the trainer writes it.
    """
    from alignprobe.errors import UserInputError
    from alignprobe.evals.suite import load_suite
    from alignprobe.models.generation import parse_generate_args
    from alignprobe.scorers.panel import judge_spec
    from alignprobe.watch.decide import WATCH_ALPHA
    from alignprobe.watch.loop import Watcher, WatchPlan

    if stop_on_onset and baseline is None:
        raise UserInputError("--stop-on-onset needs --baseline (the onset is against it)",
                             field="--stop-on-onset")  # fmt: skip
    generate = parse_generate_args(generate_args)
    if alpha is None:
        from alignprobe.gate import load_policy

        alpha = load_policy(policy).alpha if policy is not None else WATCH_ALPHA
    plan = WatchPlan(
        train_dir=train_dir,
        suite=load_suite(suite_name),
        judge=judge_spec(judges),
        out=out,
        run_name=run_name or train_dir.resolve().name,
        baseline=baseline,
        baseline_checkpoint=baseline_checkpoint,
        base=base,
        order="newest" if order == "newest" else "oldest",
        until_step=until_step,
        stop_on_onset=stop_on_onset,
        alpha=alpha,
        policy=policy,
        spending=spending or "pocock",
        looks=looks,
        poll_s=poll,
        settle_s=settle,
        idle_timeout_s=idle_timeout,
        run_options={"generate": generate, "display": display, "max_samples": max_samples},
    )
    try:
        result = Watcher(plan, click.echo).run()
    except KeyboardInterrupt:  # between evaluations (an evaluation raises Interrupted)
        note_interrupt()
        raise Interrupted(
            f"watch stopped; {out / 'watch.json'} records every step evaluated: re-run the "
            "same command to go on (nothing is evaluated twice)"
        ) from None
    if result.stopped:
        click.echo(f"onset at step {result.onset_step}: training asked to stop", err=True)
        sys.exit(ExitCode.ONSET_STOP)
    if result.failed:
        raise CommandFailed(
            f"step(s) {', '.join(map(str, result.failed))} ended in error (their run folders "
            f"are in {out / 'steps'}); finish them with `alignprobe run` there"
        )
    if not result.complete:
        raise UserInputError(f"watch ended early: {result.reason}; re-run to go on", source=out)
    click.echo(f"watch complete: {result.reason}")
