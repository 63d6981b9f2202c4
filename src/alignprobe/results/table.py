"""Logs -> the results table and back: a run's table built, written and read
(docs/architecture.md).

The rows come from :mod:`alignprobe.results.sample_rows`; the table is built and written
log by log (:mod:`alignprobe.results.table_build`). How complete the run was (samples
planned vs read, logs not finished) travels with the table (:mod:`alignprobe.run.status`).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from alignprobe.errors import DataError
from alignprobe.results.sample_rows import (
    MEASURES_JSON,
    SCHEMA_KEY,
    TABLE,
    Measures,
    read_measures,
)
from alignprobe.results.table_build import write_frame, write_run_table
from alignprobe.run.external_tasks import UnreadKey
from alignprobe.run.status import (
    LOGS,
    MANIFEST,
    SHARDS,
    STATUS_JSON,
    RunStatus,
    require_complete,
)
from alignprobe.run.status import SCHEMA_KEY as STATUS_SCHEMA_KEY


@dataclass
class RunTable:
    """A results table, its measures and, when a plan stands behind it, its completeness."""

    df: pd.DataFrame
    measures: Measures
    status: RunStatus | None = None
    unread: list[UnreadKey] = field(default_factory=list)
    """Declared measures of other packages' tasks whose key no sample's score has."""


def build_table(run_dir: Path) -> tuple[pd.DataFrame, Measures]:
    """Read ``<run_dir>/logs`` into the results table and the measures of each task."""
    built = read_run(run_dir)
    return built.df, built.measures


def read_run(run_dir: Path) -> RunTable:
    """:func:`build_table` plus the run's completeness (manifest plan vs the rows read).

    Built as ``alignprobe table`` builds it (:func:`~alignprobe.results.table_build.
    write_run_table`, in a temporary folder) and read back, so a table in memory is the
    table on disk.
    """
    with tempfile.TemporaryDirectory(prefix="alignprobe-table-") as folder:
        built = write_run_table(run_dir, Path(folder), csv=False)
        df = pq.read_table(Path(folder) / TABLE).to_pandas()
    return RunTable(df, built.measures, built.status, built.unread)


def write_table(
    df: pd.DataFrame, measures: Measures, out_dir: Path, status: RunStatus | None = None
) -> list[Path]:
    """``samples.parquet`` (measures and status in its schema metadata), ``samples.csv``,
    ``measures.json`` and, for a run, ``run_status.json`` (a stale one is removed) of a
    table in memory (:func:`alignprobe.results.table_build.write_frame`)."""
    return write_frame(df, measures, out_dir, status)


def load_complete_table(location: Path, action: str) -> tuple[pd.DataFrame, Measures]:
    """:func:`load_table` of a run that must be complete (an imported table always is):
    anything else is refused (exit 2) saying what the folder is and what to do."""
    loaded = load_run_table(location)
    require_complete(loaded.status, location, action)
    return loaded.df, loaded.measures


def load_table(location: Path) -> tuple[pd.DataFrame, Measures]:
    """A run dir (table built on demand if missing or older than the logs) or a table file."""
    loaded = load_run_table(location)
    return loaded.df, loaded.measures


def _stale(run_dir: Path) -> bool:
    """Has a run directory no table (with its status) or one older than its logs?"""
    table, logs = run_dir / TABLE, run_dir / LOGS
    if not logs.is_dir():
        return False
    if not table.is_file() or not (run_dir / STATUS_JSON).is_file():
        return True
    # shards keep their logs in sub-folders and their records under shards/
    sources = [*logs.rglob("*.eval"), run_dir / MANIFEST, *(run_dir / SHARDS).glob("*.json")]
    built = table.stat().st_mtime
    return any(p.is_file() and p.stat().st_mtime > built for p in sources)


def _recorded_status(raw: bytes | None, sidecar: Path) -> RunStatus | None:
    if raw is None and sidecar.is_file():
        raw = sidecar.read_bytes()
    return RunStatus.model_validate_json(raw) if raw is not None else None


def load_run_table(location: Path, checkpoint: str | None = None) -> RunTable:
    """:func:`load_table` plus the completeness recorded with the table (``None``: no plan);
    ``checkpoint``: only that checkpoint's rows (a parquet table reads no others)."""
    if location.is_dir():
        table = location / TABLE
        if _stale(location):
            write_run_table(location, location)
        if not table.is_file():
            raise DataError("neither a run directory with logs nor a table", source=location)
        location = table
    if not location.is_file():
        raise DataError("file not found", source=location)
    schema: dict[bytes, bytes] = {}
    if location.suffix == ".parquet":
        wanted = [("checkpoint", "==", checkpoint)] if checkpoint is not None else None
        parquet = pq.read_table(location, filters=wanted)
        schema = parquet.schema.metadata or {}
        df = parquet.to_pandas()
    elif location.suffix == ".csv":
        df = pd.read_csv(location)
        if checkpoint is not None:
            df = df[df["checkpoint"].astype(str) == checkpoint].reset_index(drop=True)
    else:
        raise DataError("expected a run directory, a .parquet or a .csv table", source=location)
    status = _recorded_status(schema.get(STATUS_SCHEMA_KEY), location.with_name(STATUS_JSON))
    raw = schema.get(SCHEMA_KEY)
    sidecar = location.with_name(MEASURES_JSON)
    if raw is not None:
        return RunTable(df, read_measures(json.loads(raw)), status)
    if sidecar.is_file():
        return RunTable(df, read_measures(json.loads(sidecar.read_text("utf-8"))), status)
    raise DataError(f"no {MEASURES_JSON} next to the table", source=location)
