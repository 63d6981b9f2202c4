"""``alignprobe compare``: run dirs or tables -> ``report.md`` + self-contained ``report.html``.

Exit codes: 0 the report was written; 1 it was written, but an input's run did not finish
(an ``INCOMPLETE RUN`` banner heads the report and is printed on stderr: re-run
``alignprobe run`` to finish, as ``run``'s own exit 1 says); 2 a user error.
"""

from __future__ import annotations

from pathlib import Path

import click

from alignprobe.commands.echo import echo_written
from alignprobe.commands.locations import RUN_LOCATION
from alignprobe.commands.options import (
    allow_judge_mismatch_option,
    gold_option,
    out_folder_option,
    shown_samples_option,
)


def _roles(pairs: tuple[str, ...]) -> dict[str, str]:
    from alignprobe.errors import UserInputError

    out: dict[str, str] = {}
    for pair in pairs:
        name, _, role = pair.partition("=")
        if role not in ("control", "inoculated", "baseline"):
            raise UserInputError(
                f"expected NAME=control|inoculated|baseline, got '{pair}'", field="--role"
            )
        out[name] = role
    return out


def _check_role_names(roles: dict[str, str], checkpoints: set[str]) -> None:
    """Every --role names a checkpoint of the inputs (a typo would be ignored silently)."""
    from alignprobe.errors import UserInputError

    for name in roles:
        if name not in checkpoints:
            raise UserInputError(
                f"no checkpoint '{name}' in the inputs; they hold: {', '.join(sorted(checkpoints))}",
                field="--role",
            )


@click.command("compare")
@click.argument("inputs", nargs=-1, required=True, type=RUN_LOCATION)
@click.option(
    "--baseline",
    default=None,
    help="Checkpoint the others are compared with [default: the control, else the first].",
)
@out_folder_option(
    "Folder for report.md and report.html (or an fsspec URL, s3://bucket/reports/x).",
    url=True,
    required=True,
)
@click.option(
    "--role",
    "roles",
    multiple=True,
    help="NAME=control|inoculated|baseline (overrides manifests; repeatable).",
)
@allow_judge_mismatch_option("Compare results judged by different judges anyway.")
@shown_samples_option("--transcripts", "Most-different samples shown per checkpoint.")
@gold_option("judge accuracy and PPI bias-corrected rates")
def compare_command(
    inputs: tuple[Path, ...],
    baseline: str | None,
    out: Path | str,
    roles: tuple[str, ...],
    allow_judge_mismatch: bool,
    transcripts: int,
    gold: Path | None,
) -> None:
    """Compare checkpoints in a report: rates, differences, verdicts.

    INPUTS are run directories, fsspec URLs of run directories such as s3://bucket/run, or
    samples.parquet/.csv tables.
    """
    from alignprobe.report.compare import checkpoint_names, compare, load_inputs
    from alignprobe.report.render import render
    from alignprobe.report.summary import summary_lines
    from alignprobe.run.status import IncompleteRunError
    from alignprobe.run.storage import mirror_dir

    url = out if isinstance(out, str) else None
    out = mirror_dir(url) if url is not None else Path(out)  # rendered here, then uploaded
    role_of = _roles(roles)
    loaded = load_inputs(list(inputs), role_of)
    _check_role_names(role_of, set(checkpoint_names(loaded.table)))
    comparison = compare(
        loaded,
        baseline=baseline,
        allow_judge_mismatch=allow_judge_mismatch,
        transcripts_per_pair=transcripts,
    )
    for line in summary_lines(comparison):
        click.echo(line)
    click.echo("")
    gold_report = None
    gold_paths: list[Path] = []
    if gold is not None:
        from alignprobe.judging.gold_report import write_gold_report

        gold_report, gold_paths = write_gold_report(loaded.table, loaded.measures, gold, out)
        for line in gold_report.skipped_lines():
            click.echo(f"alignprobe: {line}", err=True)
    echo_written([*render(comparison, out, gold=gold_report), *gold_paths], url)
    for line in comparison.incomplete:
        click.echo(f"alignprobe: {line}", err=True)
    unfinished = [(s, status) for s, status in loaded.statuses.items() if not status.complete]
    if unfinished:  # the report is written, a banner on top; the input is not whole
        source, status = unfinished[0]
        raise IncompleteRunError(
            f"{status.headline()}; the report says so in a banner; {status.hint()}",
            source=source,
        )
