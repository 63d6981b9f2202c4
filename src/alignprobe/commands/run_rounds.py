"""``alignprobe run --until-decided``: the rounds' progress and decision on the terminal."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from alignprobe.commands.echo import echo_failed_logs
from alignprobe.evals.suite import Suite
from alignprobe.models.checkpoints import CheckpointSet
from alignprobe.run.until_decided import SEQUENTIAL, UntilDecided, run_until_decided
from alignprobe.scorers.panel import JudgeSpec


def run_rounds(
    suite: Suite,
    checkpoints: CheckpointSet,
    judge: JudgeSpec | None,
    out: Path,
    plan: UntilDecided,
    **run_options: Any,
) -> NoReturn:
    """Run until decided, print every look and the decision, exit with the gate's code."""
    from alignprobe.gate.report import append_step_summary, terminal_table

    outcome = run_until_decided(suite, checkpoints, judge, out, plan, **run_options)
    if outcome.resumed_decision:
        decision = outcome.record["decision"]
        click.echo(
            f"already decided at look {decision['look']} of {decision['of']}: "
            f"{decision['status'].upper()} ({decision['summary']}); see {out / SEQUENTIAL}"
        )
        sys.exit(outcome.exit_code)
    for look in outcome.record["looks"]:
        click.echo(f"look {look['look']} of {plan.looks}: {look['status']} ({look['summary']})")
    if outcome.failed is not None:
        echo_failed_logs(outcome.failed.failed)
        click.echo(
            "alignprobe: cannot decide: a round did not finish; re-run the same command to "
            "resume it",
            err=True,
        )
        sys.exit(outcome.exit_code)
    if outcome.verdict is not None:
        click.echo(terminal_table(outcome.verdict))
        append_step_summary(outcome.verdict)
    decision = outcome.record["decision"]
    click.echo(
        f"decided at look {decision['look']} of {decision['of']}: "
        f"{decision['status'].upper()}, exit {decision['exit_code']}; looks recorded in "
        f"{out / SEQUENTIAL}"
    )
    sys.exit(outcome.exit_code)
