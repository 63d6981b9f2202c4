"""``alignprobe agreement``: how far two judgings of the same samples agree.

A and B are run folders or results tables holding the same answers judged twice (a run
and its ``alignprobe rejudge``, or two re-judgings). Writes ``agreement.md``,
``agreement.html`` and ``agreement.json`` and prints one line per measure.

Exit codes: 0 written, 2 a user error (no shared samples, no judged task in common).
"""

from __future__ import annotations

from pathlib import Path

import click

from alignprobe.commands.echo import beside, echo_written, upload_beside
from alignprobe.commands.locations import RUN_LOCATION
from alignprobe.commands.options import report_folder_option, shown_samples_option


@click.command("agreement")
@click.argument("a", type=RUN_LOCATION)
@click.argument("b", type=RUN_LOCATION)
@report_folder_option("B/agreement")
@shown_samples_option("--show", "Most-disagreeing samples listed per measure.")
def agreement_command(a: Path, b: Path, out: Path | None, show: int) -> None:
    """Measure how far two judgings of the same samples agree.

    A and B are judgings of the same samples: Cohen's kappa, Spearman, Krippendorff's alpha.
    """
    from alignprobe.judging.agreement import agreement
    from alignprobe.judging.pairs import pair_tables
    from alignprobe.judging.render import render_pair, stat
    from alignprobe.run.suite_run import write_json_atomic

    report = agreement(pair_tables(a, b), str(a), str(b), shown=show)
    folder = out if out is not None else beside(b, "agreement")
    paths = render_pair("agreement", folder, r=report)
    json_path = folder / "agreement.json"
    write_json_atomic(json_path, {"a": str(a), "b": str(b), "measures": report.summary()})
    for m in report.measures:
        if m.measure.kind.value == "rate":
            numbers = f"kappa {stat(m.kappa)}, agreement {stat(m.agreement)}"
        else:
            numbers = f"Spearman {stat(m.spearman)}, alpha {stat(m.alpha)}"
        click.echo(f"{m.task} {m.measure.name}: {numbers} (n={m.both})")
    echo_written([*paths, json_path], upload_beside(b, out, "agreement"))
