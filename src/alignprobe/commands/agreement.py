"""``alignprobe agreement``: how far two judgings of the same samples agree.

A and B are run folders or results tables holding the same answers judged twice (a run
and its ``alignprobe rejudge``, or two re-judgings). Writes ``agreement.md``,
``agreement.html`` and ``agreement.json`` and prints one line per measure.

Exit codes: 0 written, 2 a user error (no shared samples, no judged task in common).
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command("agreement")
@click.argument("a", type=click.Path(path_type=Path))
@click.argument("b", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Report folder [default: B/agreement].",
)
@click.option(
    "--show",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Most-disagreeing samples listed per measure.",
)
def agreement_command(a: Path, b: Path, out: Path | None, show: int) -> None:
    """Agreement of two judgings A and B: Cohen's kappa, Spearman, Krippendorff's alpha."""
    from alignprobe.judging.agreement import agreement
    from alignprobe.judging.pairs import pair_tables
    from alignprobe.judging.render import render_pair, stat
    from alignprobe.run.suite_run import write_json_atomic

    report = agreement(pair_tables(a, b), str(a), str(b), shown=show)
    folder = out if out is not None else (b if b.is_dir() else b.parent) / "agreement"
    paths = render_pair("agreement", folder, r=report)
    json_path = folder / "agreement.json"
    write_json_atomic(json_path, {"a": str(a), "b": str(b), "measures": report.summary()})
    for m in report.measures:
        if m.measure.kind.value == "rate":
            numbers = f"kappa {stat(m.kappa)}, agreement {stat(m.agreement)}"
        else:
            numbers = f"Spearman {stat(m.spearman)}, alpha {stat(m.alpha)}"
        click.echo(f"{m.task} {m.measure.name}: {numbers} (n={m.both})")
    for path in [*paths, json_path]:
        click.echo(f"wrote {path}")
