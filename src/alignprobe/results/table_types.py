"""The results table's column types when its rows are built log by log.

A table used to be one pandas frame of every row, typed by pandas from all the values: a
metadata field one task has and another lacks became a float column (an integer field)
or an object one (a flag); a reason column that is empty in every row had no type. Built
log by log, each log's frame is typed from its own rows only. This module keeps, per
column, one value of each Python type seen, whether a row had it empty (``None``) and
whether a row lacked it; pandas types those few values exactly as it typed the whole
column, so the table's schema (pandas' metadata included) is the one frame's.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
import pyarrow as pa

from alignprobe.results.sample_rows import JUDGE_MASS_PREFIX

#: a row without the field (a metadata key another task's samples have)
_MISSING = object()


def _kinds(column: pd.Series) -> dict[Any, Any]:
    """One value of each type in ``column`` (``None`` for an empty cell), by type."""
    found: dict[Any, Any] = {}
    if column.hasnans:
        found[None] = None
    values = column.dropna()
    if column.dtype == object:
        for value in values:
            found.setdefault(type(value), value)
    elif len(values):
        found[type(values.iloc[0])] = values.iloc[0]
    elif column.dtype.kind == "f":  # a measure no row of this log has: still a number
        found[float] = math.nan
    return found


class ColumnTypes:
    """The values that type the table's columns, gathered one log's rows at a time."""

    def __init__(self) -> None:
        self._arrow: list[pd.DataFrame] = []  # pyarrow-backed columns: a row per log
        self._values: dict[str, dict[Any, Any]] = {}
        self._columns: dict[str, None] = {}
        self._family: dict[str, None] = {}
        self._logs: dict[str, int] = {}  # logs each column was in
        self._count = 0
        self._leading: list[str] = []

    def add(
        self, rows: pd.DataFrame, family: pd.DataFrame, metadata: pd.Series, leading: list[str]
    ) -> None:
        """One log's rows: the table's own columns, the family metadata columns and the
        metadata JSON they were read from (which tells an empty field from a missing one);
        ``leading``: the columns read from the log, which come before the judge masses."""
        self._leading = leading
        self._count += 1
        arrow = [c for c in rows.columns if isinstance(rows[c].dtype, pd.ArrowDtype)]
        # a copy of each first value: a slice of a pyarrow-backed column would keep the
        # whole log's column alive
        self._arrow.append(
            pd.DataFrame(
                {
                    c: pd.Series(rows[c].dropna().head(1).tolist(), dtype=rows[c].dtype)
                    for c in arrow
                }
            )
            .reindex(range(1))
            .astype({c: rows[c].dtype for c in arrow})
        )
        for name in rows.columns:
            self._columns.setdefault(name)
            self._logs[name] = self._logs.get(name, 0) + 1
            if name not in arrow:
                self._values.setdefault(name, {}).update(_kinds(rows[name]))
        keys = list(family.columns)
        for name in keys:
            self._family.setdefault(name)
            self._logs[name] = self._logs.get(name, 0) + 1
        for text in metadata:
            fields = json.loads(text)
            for name in keys:
                value = fields.get(name, _MISSING)
                kind = None if value is None else _MISSING if value is _MISSING else type(value)
                self._values.setdefault(name, {}).setdefault(kind, value)

    def _series(self, name: str) -> pd.Series:
        """The column as pandas types it from the values kept."""
        values = list(self._values[name].values())
        if self._logs[name] < self._count:  # logs without the column: missing in their rows
            values.append(_MISSING)
        records = [{} if value is _MISSING else {name: value} for value in values]
        return pd.DataFrame(records)[name]

    def order(self) -> list[str]:
        """Every column, in the order one frame of all rows would have had them (the
        judge masses of every log together, then the measures: :func:`~alignprobe.
        results.table.expand_parts`)."""
        masses = [c for c in self._columns if c.startswith(JUDGE_MASS_PREFIX)]
        own = [c for c in self._columns if c not in masses]
        first = next((i for i, c in enumerate(own) if c not in self._leading), len(own))
        return [*own[:first], *masses, *own[first:], *self._family]

    def schema(self, columns: list[str]) -> pa.Schema:
        """The parquet schema of ``columns`` (and pandas' metadata for them)."""
        arrow = pd.concat(self._arrow, ignore_index=True)
        series = {
            name: arrow[name] if name in arrow.columns else self._series(name) for name in columns
        }
        fields, entries = [], []
        for name in columns:
            one = pa.Schema.from_pandas(pd.DataFrame({name: series[name]}), preserve_index=False)
            fields.append(one.field(0))
            entries.append(json.loads(one.metadata[b"pandas"])["columns"][0])
        empty = pd.DataFrame({name: series[name].iloc[:0] for name in columns})
        pandas = json.loads(pa.Schema.from_pandas(empty, preserve_index=False).metadata[b"pandas"])
        pandas["columns"] = entries
        return pa.schema(fields, metadata={b"pandas": json.dumps(pandas).encode()})
