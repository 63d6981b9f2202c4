"""``alignprobe table``: a run's logs -> ``samples.parquet``, ``samples.csv``, ``measures.json``
and ``run_status.json``.

Exit codes (docs/exit-codes.md): 0 the table of a complete run was written; 2 a user error
(no logs folder), or a run that is not complete (interrupted, empty, a log in error, a
shard missing): the table is still written with every sample the logs have, one line on
stderr says how many of how many and what to do, and ``run_status.json`` records it for
``compare`` (banner) and ``gate`` (cannot decide).
Also 2: a measure declared for another package's task reads a score key that not one
sample's score has (the table is written, that measure unscored in every row; the line
names the measure, the key and the keys the scores have).
"""

from __future__ import annotations

from pathlib import Path

import click

from alignprobe.commands.echo import echo_written, upload_beside
from alignprobe.commands.locations import RUN_LOCATION
from alignprobe.commands.options import out_folder_option


@click.command("table")
@click.argument("run_dir", type=RUN_LOCATION)
@out_folder_option("Folder for the table [default: RUN_DIR].")
def table_command(run_dir: Path, out: Path | None) -> None:
    """Build the results table of a run: one row per sample x epoch.

    The table is read from RUN_DIR/logs.

    RUN_DIR may be an fsspec URL (s3://bucket/run): the table is built from a local mirror
    of its logs and written back beside them unless --out says where.
    """
    from alignprobe.errors import DataError
    from alignprobe.results.table_build import write_run_table
    from alignprobe.run.status import IncompleteRunError

    built = write_run_table(run_dir, out if out is not None else run_dir)
    status = built.status
    planned = {log.key: log.expected for log in status.logs} if status is not None else {}
    for (checkpoint, task, condition), rows in built.rows.items():
        expected = planned.get((checkpoint, task, condition))
        short = f" of {expected} planned" if expected is not None and rows < expected else ""
        click.echo(f"{checkpoint}  {task}  {condition}: {rows} rows{short}")
    origin = upload_beside(run_dir, out)
    echo_written(built.paths, origin)
    if status is not None and not status.complete:
        raise IncompleteRunError(
            f"{status.headline()}; the table holds what there is; {status.hint()}",
            source=origin or run_dir,
        )
    if built.unread:  # a declared key no score has: that measure is unscored in every row
        raise DataError("; ".join(unread.message() for unread in built.unread))
