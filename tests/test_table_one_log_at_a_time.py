"""``table`` reads its logs one at a time (a log's samples are held while it is read, so
the peak is one log's, not the run's), and the rows come out in log order."""

from __future__ import annotations

from typing import Any

import inspect_ai.analysis
import pandas as pd
import pytest

from alignprobe.results.sample_rows import _read_samples


def test_each_log_is_read_alone_and_rows_keep_log_order(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def stand_in(logs: list[str], **options: Any) -> pd.DataFrame:
        calls.append(list(logs))
        assert options["full"] is True
        return pd.DataFrame({"log": [logs[0]] * 2, "epoch": [1, 2]})

    monkeypatch.setattr(inspect_ai.analysis, "samples_df", stand_in)
    rows = _read_samples(["a.eval", "b.eval", "c.eval"], columns=[])
    assert calls == [["a.eval"], ["b.eval"], ["c.eval"]]
    assert rows["log"].tolist() == ["a.eval"] * 2 + ["b.eval"] * 2 + ["c.eval"] * 2
    assert rows.index.tolist() == list(range(6))
