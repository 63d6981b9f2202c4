"""``alignprobe rejudge``: a finished run's answers judged again by another judge or prompt.

The model under test is never called: the stored answers are re-scored through Inspect's
scoring of existing logs. The new folder is a run folder (``table``, ``compare``,
``gate`` and ``agreement`` read it) whose ``manifest.json`` records the source run and the
old and new judge under ``rejudge``.

Exit codes: 0 written, 2 a user error (not a finished run, unknown judge, a setting a task
cannot take, an output folder that is not empty); nothing is written on error.
"""

from __future__ import annotations

from pathlib import Path

import click

from alignprobe.scorers.numeric_judge import JudgeMethod


@click.command("rejudge")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--judge",
    "judges",
    required=True,
    multiple=True,
    help="The new judge model, e.g. openai/gpt-4o-2024-08-06; repeat for a panel "
    "(0-100 judgements averaged, verdicts by majority).",
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
@click.option(
    "--out", required=True, type=click.Path(path_type=Path), help="New run folder (must not exist)."
)
def rejudge_command(
    run_dir: Path,
    judges: tuple[str, ...],
    judge_prompt: str | None,
    judge_method: str | None,
    out: Path,
) -> None:
    """Judge the answers of the finished run RUN_DIR again, into a new run folder."""
    from alignprobe.judging.rejudge import JudgeSettings, rejudge_run

    settings = JudgeSettings(judges, judge_prompt, judge_method)
    outcome = rejudge_run(run_dir, settings, out, progress=lambda line: click.echo(line, err=True))
    click.echo(
        f"re-judged {len(outcome.rejudged)} log(s) with {' + '.join(judges)}; "
        f"copied {len(outcome.copied)} unjudged log(s) unchanged"
    )
    click.echo(f"wrote {out}")
