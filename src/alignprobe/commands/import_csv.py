"""``alignprobe import``: a published Betley-format result CSV -> a results table folder."""

from __future__ import annotations

from pathlib import Path

import click

from alignprobe.commands.options import out_folder_option
from alignprobe.results.import_judges import BETLEY_CSV

#: skipped rows printed one by one before the summary line
SHOWN_SKIPS = 10


def _judge_id(judge: str | None, judge_prompt: str | None, judge_id: str | None) -> str:
    from alignprobe.errors import UserInputError
    from alignprobe.results.import_judges import judge_identity

    if judge_id is not None:
        if judge is not None or judge_prompt is not None:
            raise UserInputError(
                "--judge-id states the whole identity; drop --judge / --judge-prompt",
                field="--judge-id",
            )
        if not judge_id.strip():
            raise UserInputError("empty judge identity", field="--judge-id")
        return judge_id
    return judge_identity(judge or BETLEY_CSV.judge, judge_prompt or BETLEY_CSV.judge_prompt)


def _lines(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:20]))
    return shown + (f", ... ({len(numbers) - 20} more)" if len(numbers) > 20 else "")


@click.command("import")
@click.argument("csv_file", type=click.Path(path_type=Path))
@click.option("--checkpoint", required=True, help="Name the imported results go under.")
@out_folder_option("Folder for the table.", required=True)
@click.option(
    "--role",
    type=click.Choice(["control", "inoculated", "baseline"]),
    default=None,
    help="Checkpoint role (for the inoculation line of compare).",
)
@click.option(
    "--judge",
    default=None,
    help=f"Judge model that scored the file [default: the format's published judge, "
    f"{BETLEY_CSV.judge}].",
)
@click.option(
    "--judge-prompt",
    default=None,
    help="Judge prompts used: betley2025 (Betley et al.'s aligned/coherent prompts), "
    "alignprobe (this project's), a question YAML with judge_prompts, or a label recorded "
    "as stated [default: betley2025].",
)
@click.option(
    "--judge-id",
    default=None,
    help="The whole judge identity, verbatim (instead of --judge / --judge-prompt).",
)
def import_command(
    csv_file: Path,
    checkpoint: str,
    out: Path,
    role: str | None,
    judge: str | None,
    judge_prompt: str | None,
    judge_id: str | None,
) -> None:
    """Turn a published results CSV into a table.

    CSV_FILE has the columns question_id, question, answer, aligned, coherent.

    Unless told otherwise the scores are taken to come from the format's published judge:
    for Betley-format CSVs openai/gpt-4o-2024-08-06 with the Betley et al. (2025)
    aligned/coherent prompts (not verified per file). Rows that cannot be used are
    skipped and listed by the line where they start.
    """
    from alignprobe.results.importer import import_betley_csv
    from alignprobe.results.outcomes import count_outcomes
    from alignprobe.results.table import write_table
    from alignprobe.run.status import MANIFEST
    from alignprobe.run.suite_run import write_json_atomic

    identity = _judge_id(judge, judge_prompt, judge_id)
    stated = judge is not None or judge_prompt is not None or judge_id is not None
    result = import_betley_csv(csv_file, checkpoint, run=out.resolve().name, judge_id=identity)
    df = result.df
    paths = write_table(df, result.measures, out)
    meta = {"role": role} if role else {}
    write_json_atomic(
        out / MANIFEST,
        {
            "imported_from": str(csv_file),
            "checkpoints": {checkpoint: {"meta": meta}},
            "import": {
                "format": BETLEY_CSV.name,
                "judge_id": identity,
                "judge_stated": stated,
                "rows": len(df),
                "skipped": [s.as_dict() for s in result.skipped],
            },
        },
    )
    for skip in result.skipped[:SHOWN_SKIPS]:
        click.echo(f"alignprobe: skipped {skip.message(csv_file)}", err=True)
    if result.skipped:
        lines = _lines([s.line for s in result.skipped])
        click.echo(
            f"alignprobe: {csv_file}: skipped {len(result.skipped)} rows (lines {lines})", err=True
        )
    counts = count_outcomes(df, "misaligned")
    hits = int(df["misaligned"].sum())
    parts = [f"{checkpoint}: {len(df)} rows, misaligned {hits} / {counts.scored} scored"]
    if counts.excluded:
        parts.append(f"excluded by the judge: {counts.excluded_text()}")
    parts.append(f"unscored (judge failed): {counts.unscored}")
    click.echo("; ".join(parts))
    note = "" if stated else " (the format's published judge, not verified per file)"
    click.echo(f"judge: {identity}{note}")
    for path in paths:
        click.echo(f"wrote {path}")
