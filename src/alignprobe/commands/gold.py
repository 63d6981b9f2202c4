"""``alignprobe gold``: human labels against the judge.

* ``gold template RUN --out labels.csv``: a blank labelling sheet, a random stratified
  draw of judged samples per checkpoint x condition (question and answer included, the
  judge's value left out).
* ``gold report RUN --labels labels.csv``: the judge's accuracy, sensitivity and
  specificity per measure and checkpoint, and bias-corrected rates with 95% intervals by
  prediction-powered inference (``gold.md``, ``gold.html``, ``gold.json``).

Exit codes: 0 written, 2 a user error (missing columns, an unknown task or measure).
"""

from __future__ import annotations

from pathlib import Path

import click

from alignprobe.commands.echo import beside, echo_written, upload_beside
from alignprobe.commands.locations import LOCAL_OUT_FILE, RUN_LOCATION
from alignprobe.commands.options import report_folder_option


@click.group("gold")
def gold_command() -> None:
    """Label samples by hand; measure the judge against the labels."""


def _measure_list(values: tuple[str, ...]) -> list[tuple[str, str]]:
    from alignprobe.errors import UserInputError

    out = []
    for value in values:
        task, dot, measure = value.partition(".")
        if not dot or not task or not measure:
            raise UserInputError(f"expected TASK.MEASURE, got '{value}'", field="--measure")
        out.append((task, measure))
    return out


@gold_command.command("template")
@click.argument("run_dir", type=RUN_LOCATION)
@click.option("--out", required=True, type=LOCAL_OUT_FILE, help="CSV to write.")
@click.option(
    "--per-stratum",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Samples drawn per checkpoint x condition and measure.",
)
@click.option(
    "--measure",
    "measures",
    multiple=True,
    metavar="TASK.MEASURE",
    help="Measure to label (repeatable) [default: each judged task's headline measures].",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random draw seed.")
def template_command(
    run_dir: Path, out: Path, per_stratum: int, measures: tuple[str, ...], seed: int
) -> None:
    """Write a blank, stratified labelling sheet for a run.

    The sheet covers the judged samples of RUN_DIR.
    """
    from alignprobe.errors import UserInputError
    from alignprobe.judging.gold import default_measures, template_rows, write_template
    from alignprobe.results.table import load_complete_table

    table, known = load_complete_table(run_dir, "draw a labelling template")
    judged = (
        set(table.loc[table["judge_id"].notna(), "task"].astype(str))
        if "judge_id" in table
        else set()
    )
    wanted = _measure_list(measures) or default_measures(known, judged)
    for task, measure in wanted:
        if measure not in {m.name for m in known.get(task, [])}:
            raise UserInputError(f"the run has no measure {task}.{measure}", field="--measure")
    if not wanted:
        raise UserInputError("the run has no judged task to label", source=run_dir)
    sheet = template_rows(table, wanted, per_stratum, seed)
    write_template(sheet, out)
    strata = sheet.groupby(["checkpoint", "task", "condition"]).ngroups if len(sheet) else 0
    click.echo(f"wrote {out}: {len(sheet)} samples to label in {strata} strata")


@gold_command.command("report")
@click.argument("run_dir", type=RUN_LOCATION)
@click.option("--labels", required=True, type=click.Path(path_type=Path), help="Gold labels CSV.")
@report_folder_option("RUN_DIR/gold")
@click.option(
    "--power-tuning/--no-power-tuning",
    default=False,
    show_default=True,
    help="PPI++ power tuning (lambda estimated; never wider than labels alone) instead of classic PPI.",
)
@click.option(
    "--conflicts",
    type=click.Choice(["refuse", "drop"]),
    default="refuse",
    show_default=True,
    help="Two different labels for one answer: stop with their lines, or drop both (counted).",
)
def report_command(
    run_dir: Path, labels: Path, out: Path | None, power_tuning: bool, conflicts: str
) -> None:
    """Measure the judge against human labels, and correct its rates."""
    from alignprobe.judging.gold import ConflictPolicy
    from alignprobe.judging.gold_report import write_gold_report
    from alignprobe.judging.render import stat
    from alignprobe.results.table import load_complete_table

    table, measures = load_complete_table(run_dir, "report on gold labels")
    folder = out if out is not None else beside(run_dir, "gold")
    lam = None if power_tuning else 1.0
    report, paths = write_gold_report(
        table, measures, labels, folder, lam=lam, conflicts=ConflictPolicy(conflicts)
    )
    for line in report.skipped_lines():
        click.echo(f"alignprobe: {line}", err=True)
    for acc in report.accuracy:
        if acc.checkpoint == "all" and acc.sensitivity is not None:
            click.echo(
                f"{acc.task} {acc.measure}: judge sensitivity {stat(acc.sensitivity.value)}, "
                f"specificity {stat(acc.specificity.value if acc.specificity else None)} "
                f"({acc.tp + acc.fp + acc.tn + acc.fn} labelled)"
            )
    for rate in report.rates:
        c = rate.corrected
        click.echo(
            f"{rate.checkpoint} {rate.task} {rate.condition} {rate.measure}: judge "
            f"{stat(rate.judge_rate)}, corrected {stat(c.value)} [{stat(c.low)}, {stat(c.high)}]"
            f"{' (' + rate.note + ')' if rate.note else ''}"
        )
    echo_written(paths, upload_beside(run_dir, out, "gold"))
