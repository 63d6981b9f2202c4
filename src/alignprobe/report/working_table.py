"""The table ``compare`` computes on: label columns as categoricals, transcript texts apart.

``compare`` selects rows by checkpoint, task and condition hundreds of times (per
checkpoint, per check, per slice). Each selection copies every column; a label column
read from parquet is pyarrow-backed, and copying it is a pyarrow ``take`` per column per
selection, most of ``compare``'s time on a large table. As categoricals the same
selections copy integer codes. The transcript texts (``input``, ``output``) are read only
for the few rows a report shows, so they stay out of the copies and are looked up by row.
Values, their order and their grouping are unchanged: only the storage differs.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

#: transcript columns: read for the rows a report shows, never copied with a selection
TEXT_COLUMNS = ("input", "output")


def _is_label(series: pd.Series) -> bool:
    """Text-valued (string or object dtype) columns; numbers stay numbers."""
    return bool(pd.api.types.is_string_dtype(series) or series.dtype == object)


def working_table(table: pd.DataFrame, measures: Iterable[str]) -> pd.DataFrame:
    """``table`` without its transcript texts, its label columns as categoricals (same
    index, so a row's texts are ``table.loc[index]``). Measure columns keep their dtype,
    whatever it is: statistics read them as numbers."""
    numeric = set(measures)
    kept = table.drop(columns=[c for c in TEXT_COLUMNS if c in table.columns])
    labels: dict[str, pd.Series] = {}
    for name in kept.columns:
        if name in numeric or not _is_label(kept[name]):
            continue
        try:
            labels[str(name)] = kept[name].astype("category")
        except TypeError:  # unhashable values (lists, dicts): left as they are
            continue
    return kept.assign(**labels) if labels else kept
