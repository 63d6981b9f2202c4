"""``alignprobe rejudge``: a finished run's answers judged again by another judge or prompt.

The model under test is never called: the stored answers are re-scored through Inspect's
scoring of existing logs. The new folder is a run folder (``table``, ``compare``,
``gate`` and ``agreement`` read it) whose ``manifest.json`` records the source run and the
old and new judge under ``rejudge``.

Exit codes (docs/exit-codes.md): 0 written; 1 the judge scored nothing (every sample
unscored, the reasons counted: the folder is written, marked failed, so the judge's replies
are kept) or its calls failed past their bounds (nothing written); 2 a user error (not a
complete run, unknown judge, a setting a task cannot take, an output folder that is not
empty); 130 / 143 interrupted (nothing written).
"""

from __future__ import annotations

from pathlib import Path

import click

from alignprobe.commands.locations import RUN_LOCATION
from alignprobe.commands.options import generate_option, judges_option, out_folder_option
from alignprobe.scorers.numeric_judge import JudgeMethod


@click.command("rejudge")
@click.argument("run_dir", type=RUN_LOCATION)
@judges_option(
    "The new judge model, e.g. openai/gpt-4o-2024-08-06; repeat for a panel "
    "(0-100 judgements averaged, verdicts by majority).",
    required=True,
)
@click.option(
    "--judge-prompt",
    default=None,
    help="Judge prompt for tasks that take one: emergent_misalignment `alignprobe` or "
    "`questions`; guardrails a built-in rubric name or a prompt .md file.",
)
@click.option(
    "--judge-method",
    type=click.Choice([m.value for m in JudgeMethod]),
    default=None,
    help="0-100 judge method for tasks that take one [default: the run's].",
)
@out_folder_option(
    "New run folder (must not exist), or an fsspec URL such as s3://bucket/run-rejudged.",
    url=True,
    required=True,
)
@generate_option(
    "Bounds of every judge call, as for `run`: max_retries (default 6), timeout "
    "(seconds for a call and its retries, default 900), attempt_timeout (default 300)."
)
def rejudge_command(
    run_dir: Path,
    judges: tuple[str, ...],
    judge_prompt: str | None,
    judge_method: str | None,
    out: Path | str,
    generate_args: tuple[str, ...],
) -> None:
    """Judge a complete run's answers again, into a new run folder.

    RUN_DIR is the complete run (or imported table) whose stored answers are judged.
    """
    from alignprobe.errors import UserInputError
    from alignprobe.judging.rejudge import JUDGE_CALL_BOUNDS, JudgeSettings, rejudge_run
    from alignprobe.models.generation import parse_generate_args

    generate = parse_generate_args(generate_args)
    for key in generate:
        if key not in JUDGE_CALL_BOUNDS:  # the judge's own settings are part of its identity
            raise UserInputError(
                f"rejudge takes only the judge calls' bounds ({', '.join(JUDGE_CALL_BOUNDS)}), "
                f"not '{key}'",
                field="--generate",
            )
    settings = JudgeSettings(judges, judge_prompt, judge_method, generate)
    outcome = rejudge_run(run_dir, settings, out, progress=lambda line: click.echo(line, err=True))
    unscored = outcome.judged_samples - outcome.scored_samples
    click.echo(
        f"re-judged {len(outcome.rejudged)} log(s) with {' + '.join(judges)}: "
        f"{outcome.scored_samples} of {outcome.judged_samples} samples scored"
        + (f" ({unscored} unscored, reasons in the logs)" if unscored else "")
        + f"; copied {len(outcome.copied)} unjudged log(s) unchanged"
    )
    click.echo(f"wrote {out}")
