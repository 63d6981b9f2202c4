"""A run's logs -> its results table on disk, in bounded memory at any size.

The same steps at every size (a run of 24 samples and one of a million):

1. Each log is read alone (:func:`alignprobe.results.table.log_rows`), in the order of
   their names; its rows are built (external tasks' measures read, measures expanded)
   and spilled to a temporary Arrow file beside the table. A sample is dropped once its
   row is made; only one log's rows are held.
2. The table's column types are those one pandas frame of all the rows would have had
   (:mod:`alignprobe.results.table_types`): a column one task has and another lacks is
   typed as it always was.
3. The rows are written in the table's order (checkpoint, task, condition, sample_id,
   epoch): the logs of one (checkpoint, task) are read back together, sorted (a stable
   sort: ties keep the logs' order) and appended to ``samples.parquet`` (row groups of
   :data:`~alignprobe.results.table.ROW_GROUP_ROWS` rows) and ``samples.csv``.

The peak is one (checkpoint, task)'s rows and a row group, not the run's
(``bench/scale.py`` measures it; ``tests/test_eval_samples.py`` holds the table to the one
Inspect's ``samples_df`` gave).
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from alignprobe.errors import DataError
from alignprobe.results.external_rows import read_external_rows, tally_keys_in_rows
from alignprobe.results.sample_rows import (
    EVAL_FIELDS,
    MEASURES_JSON,
    ROW_GROUP_ROWS,
    SAMPLE_FIELDS,
    SCHEMA_KEY,
    TABLE,
    TABLE_CSV,
    Measures,
    expand_parts,
    log_counts,
    log_rows,
    measures_json,
    measures_of,
    order_columns,
    select_logs,
)
from alignprobe.results.table_types import ColumnTypes
from alignprobe.run.external_tasks import KeyTally, UnreadKey
from alignprobe.run.status import (
    LOGS,
    STATUS_JSON,
    RunStatus,
    assess,
    is_run_manifest,
    read_manifest,
)
from alignprobe.run.status import SCHEMA_KEY as STATUS_SCHEMA_KEY

if TYPE_CHECKING:
    from inspect_ai.log import EvalLog

#: the order of the rows within one (checkpoint, task); the table's order before them
ROW_ORDER = [("condition", "ascending"), ("sample_id", "ascending"), ("epoch", "ascending")]
GROUP_KEYS = ["checkpoint", "task", "condition"]
Key = tuple[str, str, str]


@dataclass
class BuiltTable:
    """What :func:`write_run_table` wrote and learnt on the way."""

    measures: Measures
    status: RunStatus | None
    unread: list[UnreadKey] = field(default_factory=list)
    """Declared measures of other packages' tasks whose key no sample's score has."""
    rows: dict[Key, int] = field(default_factory=dict)
    """Rows per (checkpoint, task, condition), in the table's order (no condition: left out)."""
    paths: list[Path] = field(default_factory=list)


def _run_logs(run_dir: Path) -> list[EvalLog]:
    """The logs to read (none: a run planned by its manifest that wrote no log yet)."""
    record = read_manifest(run_dir)
    planned = is_run_manifest(record)
    # a manifest `alignprobe run` wrote (an import's manifest plans nothing: its table is
    # the data, and must never be rebuilt from logs it does not have)
    if not (run_dir / LOGS).is_dir() and record is not None and "imported_from" in record:
        raise DataError(
            f"an imported table (alignprobe import of {record['imported_from']}): its "
            f"{TABLE} is the table, and there are no logs to build one from",
            source=run_dir,
        )
    logs = [] if not (run_dir / LOGS).is_dir() and planned else select_logs(run_dir / LOGS)
    if not logs and not planned:
        raise DataError("no logs in the run directory", source=run_dir / LOGS)
    return logs


def _empty_rows() -> pd.DataFrame:
    """The raw columns of a run without a sample (text columns, no rows)."""
    names = [name for name, _ in EVAL_FIELDS] + [name for name, _ in SAMPLE_FIELDS]
    raw = pd.DataFrame({name: pd.Series(dtype=object) for name in names})
    return raw.rename(columns={"sample_key": "sample_id"})


class _Spill:
    """Each log's rows in a temporary Arrow file, grouped by (checkpoint, task)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: dict[tuple[str, str], list[Path]] = {}

    def add(self, group: tuple[str, str], frame: pd.DataFrame) -> None:
        path = self.folder / f"{sum(map(len, self.files.values())):06d}.arrow"
        table = pa.Table.from_pandas(frame, preserve_index=False)
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        self.files.setdefault(group, []).append(path)

    def groups(self, schema: pa.Schema) -> Iterator[pa.Table]:
        """Each (checkpoint, task)'s rows in the table's order, in the table's schema."""
        for group in sorted(self.files):
            parts = []
            for path in self.files[group]:
                with pa.OSFile(str(path), "rb") as source:
                    parts.append(_conform(pa.ipc.open_file(source).read_all(), schema))
                path.unlink()
            rows = pa.concat_tables(parts)
            yield rows.take(pc.sort_indices(rows, sort_keys=ROW_ORDER))


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` in ``schema``: its columns cast, those it lacks empty."""
    arrays = [
        table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(len(table), f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


class TableWriter:
    """``samples.parquet`` (measures and status in its schema metadata), ``samples.csv``,
    ``measures.json`` and ``run_status.json``, written as ``.partial`` files appended to in
    the table's order, then put in place together (a stale status file is removed)."""

    def __init__(
        self,
        out_dir: Path,
        schema: pa.Schema,
        measures: Measures,
        status: RunStatus | None,
        *,
        csv: bool = True,
    ) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.out_dir, self.measures, self.status = out_dir, measures, status
        extra = {SCHEMA_KEY: json.dumps(measures_json(measures)).encode()}
        if status is not None:
            extra[STATUS_SCHEMA_KEY] = status.model_dump_json().encode()
        self.schema = schema.with_metadata({**(schema.metadata or {}), **extra})
        self.paths = [out_dir / TABLE, *([out_dir / TABLE_CSV] if csv else [])]
        self._parquet = pq.ParquetWriter(self._partial(out_dir / TABLE), self.schema)
        self._csv: IO[str] | None = (
            self._partial(out_dir / TABLE_CSV).open("w", encoding="utf-8", newline="")
            if csv
            else None
        )
        self._pending: list[pa.Table] = []
        self._header = True

    @staticmethod
    def _partial(path: Path) -> Path:
        return path.with_name(path.name + ".partial")

    def write(self, rows: pa.Table, frame: pd.DataFrame | None = None) -> None:
        """Append rows (in the table's schema and order); ``frame``: the same rows as the
        pandas frame they came from, written to the CSV as they are."""
        if self._csv is not None:
            frame = rows.to_pandas() if frame is None else frame
            frame.to_csv(self._csv, index=False, header=self._header)
            self._header = False
        # row groups of 64k rows: a reader that wants one checkpoint (rows are in the
        # table's order) skips the groups whose statistics exclude it
        self._pending.append(rows)
        if sum(len(t) for t in self._pending) >= ROW_GROUP_ROWS:
            pending = pa.concat_tables(self._pending)
            whole = len(pending) - len(pending) % ROW_GROUP_ROWS
            self._parquet.write_table(pending.slice(0, whole), row_group_size=ROW_GROUP_ROWS)
            self._pending = [pending.slice(whole)]

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, error: type[BaseException] | None, *_: object) -> None:
        # stopped while writing (a Ctrl-C, a full disk): no table from this writer
        if error is not None:
            self.discard()

    def discard(self) -> None:
        """Stop without a table: the ``.partial`` files removed, what was there before
        left as it was."""
        if self._csv is not None:
            self._csv.close()
        self._parquet.close()
        for path in self.paths:
            self._partial(path).unlink(missing_ok=True)

    def close(self) -> list[Path]:
        """Finish the files and put them in place; the paths written."""
        if self._header and self._csv is not None:  # no rows: the header alone
            self.schema.empty_table().to_pandas().to_csv(self._csv, index=False)
        if self._csv is not None:
            self._csv.close()
        rest = pa.concat_tables(self._pending) if self._pending else None
        if rest is not None and len(rest):
            self._parquet.write_table(rest, row_group_size=ROW_GROUP_ROWS)
        self._parquet.close()
        paths, texts = list(self.paths), []
        paths.append(self.out_dir / MEASURES_JSON)
        texts.append(json.dumps(measures_json(self.measures), indent=2))
        if self.status is not None:
            paths.append(self.out_dir / STATUS_JSON)
            texts.append(self.status.model_dump_json(indent=2))
        else:
            (self.out_dir / STATUS_JSON).unlink(missing_ok=True)
        for path, text in zip(paths[len(self.paths) :], texts, strict=True):
            self._partial(path).write_text(text + "\n", encoding="utf-8")
        for path in paths:
            self._partial(path).replace(path)
        return paths


@contextmanager
def _spill_folder(out_dir: Path) -> Iterator[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".samples-", dir=out_dir) as folder:
        yield Path(folder)


def write_run_table(run_dir: Path, out_dir: Path, *, csv: bool = True) -> BuiltTable:
    """Read ``<run_dir>/logs`` into the results table, written to ``out_dir``.

    A run stopped before its first sample (no logs yet, or logs without samples) is an
    empty table whose status says so, as long as a manifest says a run was planned.
    """
    logs = _run_logs(run_dir)
    measures = measures_of(logs)
    names = list(dict.fromkeys(m.name for ms in measures.values() for m in ms))
    run = run_dir.resolve().name
    tally = KeyTally()
    present: Counter[str] = Counter()
    answered: Counter[str] = Counter()
    with _spill_folder(out_dir) as folder:
        spill, types = _Spill(folder), ColumnTypes()
        for log in logs:
            raw = log_rows(log)
            if raw.empty:
                continue
            tally_keys_in_rows(tally, raw, [log])
            out, family = expand_parts(read_external_rows(raw, [log]), names)
            out.insert(0, "run", run)
            out["epoch"] = out["epoch"].astype(int)
            name = Path(log.location).name
            present[name] += len(out)
            answered[name] += int(out["error"].isna().sum())
            types.add(out, family, raw["_metadata"], ["run", *raw.columns])
            group = (str(out["checkpoint"].iloc[0]), str(out["task"].iloc[0]))
            spill.add(group, pd.concat([out, family], axis=1))
        if spill.files:
            schema = types.schema(
                order_columns(pd.DataFrame(columns=types.order()), measures).columns.tolist()
            )
        else:  # no sample finished: the columns a table has, without rows
            out, family = expand_parts(_empty_rows(), names)
            out.insert(0, "run", run)
            out["epoch"] = out["epoch"].astype(int)
            empty = order_columns(pd.concat([out, family], axis=1), measures)
            schema = pa.Schema.from_pandas(empty, preserve_index=False)
        status = assess(run_dir, log_counts(logs, present, answered))
        rows: Counter[Key] = Counter()
        with TableWriter(out_dir, schema, measures, status, csv=csv) as writer:
            for group_rows in spill.groups(schema):
                writer.write(group_rows)
                counts = group_rows.select(GROUP_KEYS).to_pandas().groupby(GROUP_KEYS).size()
                for (checkpoint, task, condition), n in counts.items():
                    rows[(str(checkpoint), str(task), str(condition))] += int(n)
        paths = writer.close()
    return BuiltTable(measures, status, tally.unread(), dict(sorted(rows.items())), paths)


def write_frame(
    df: pd.DataFrame, measures: Measures, out_dir: Path, status: RunStatus | None = None
) -> list[Path]:
    """A table already in memory (an import, a rejudged table), written as a run's is."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    with TableWriter(out_dir, table.schema, measures, status) as writer:
        writer.write(table, df)
    return writer.close()
