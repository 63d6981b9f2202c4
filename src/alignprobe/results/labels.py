"""Label columns (task, condition, question, judge) compared and grouped as text.

Readers compare labels as text (``column.astype(str) == name``), so a table read from CSV,
where a label may be a number, selects the same rows as one read from parquet. A
categorical of strings (``compare``'s working table) already is text: converting each of
its rows would cost more than the selection it serves, so it is used as it is.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd


def _text_categories(series: pd.Series) -> bool:
    return isinstance(series.dtype, pd.CategoricalDtype) and bool(
        pd.api.types.is_string_dtype(series.cat.categories)
    )


def as_text(series: pd.Series) -> pd.Series:
    """``series.astype(str)`` for comparing and grouping; a categorical of strings is
    returned as it is (its values compare and group alike, and converting every row of it
    costs more than the selection it serves)."""
    return series if _text_categories(series) else series.astype(str)


def cluster_codes(series: pd.Series) -> npt.NDArray[np.intp]:
    """One integer per distinct label (as text) in order of first appearance (what
    ``pd.factorize(series.astype(str))`` gives), without converting every row."""
    return pd.factorize(series if _text_categories(series) else series.astype(str))[0]
