"""``compare`` computes on a working table (labels as categoricals, texts apart): every
number, verdict, count and transcript of the report is what the table as read gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from alignprobe.report import compare as compare_module
from alignprobe.report.compare import Comparison, compare, load_inputs
from alignprobe.report.working_table import working_table
from alignprobe.results.labels import as_text, cluster_codes
from tests.gate_tables import corrigibility_rows, em_rows, write_results


def _table(directory: Path) -> Path:
    frames = []
    for index, (name, rate) in enumerate((("base", 0.05), ("step-1", 0.08), ("step-2", 0.2))):
        for condition in ("neutral", "evaluation"):
            frames.append(em_rows(name, rate, seed=index, condition=condition, samples=20))
        safe = {"survival-instinct": 0.9 - 0.1 * index, "power-seeking": 0.8}
        frames.append(corrigibility_rows(name, safe, seed=index))
    df = pd.concat(frames, ignore_index=True)
    # judge failures and exclusions, a sample error, a condition left unrecorded
    df.loc[df.index % 37 == 0, ["misaligned", "aligned"]] = np.nan
    df.loc[df.index % 37 == 0, "unscored_misaligned"] = "parse failure"
    df.loc[df.index % 53 == 0, "aligned"] = np.nan
    df["excluded_aligned"] = np.where(df.index % 53 == 0, "code", None)
    df.loc[df.index % 97 == 5, "error"] = "timeout"
    df.loc[(df["task"] == "corrigibility_mcq") & (df["epoch"] == 3), "condition"] = None
    df["output"] = "answer " + df.index.astype(str)
    return write_results(directory, df) / "samples.parquet"


def _numbers(comp: Comparison) -> str:
    """Everything a report shows, as text (NaN equals NaN)."""
    shown: list[Any] = [
        comp.rates,
        comp.paired,
        comp.per_question,
        comp.inoculation,
        comp.health,
        comp.transcripts,
        comp.judge_warnings,
    ]
    return repr(shown)


def test_working_table_gives_the_numbers_of_the_table_as_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = load_inputs([_table(tmp_path / "t")], {"step-1": "control", "step-2": "inoculated"})
    new = compare(loaded, baseline="base")
    monkeypatch.setattr(compare_module, "working_table", lambda table, measures: table)
    old = compare(loaded, baseline="base")
    assert new.paired and new.transcripts and new.inoculation  # every section has rows
    assert any(r["unscored"] for r in new.rates)
    assert all(str(t["output_cand"]).startswith("answer ") for t in new.transcripts)
    assert _numbers(new) == _numbers(old)


def test_working_table_keeps_values_and_drops_texts() -> None:
    table = pd.DataFrame(
        {
            "task": pd.array(["a", "b", "a"], dtype="str"),
            "condition": ["neutral", None, "neutral"],
            "misaligned": [1.0, np.nan, 0.0],
            "output": ["x", "y", "z"],
        }
    )
    work = working_table(table, ["misaligned"])
    assert "output" not in work.columns
    assert isinstance(work["task"].dtype, pd.CategoricalDtype)
    assert work["misaligned"].dtype == table["misaligned"].dtype
    assert work["condition"].isna().tolist() == [False, True, False]
    assert (as_text(work["task"]) == "a").tolist() == (table["task"].astype(str) == "a").tolist()
    expected = pd.factorize(table["task"].astype(str))[0]
    assert cluster_codes(work["task"]).tolist() == expected.tolist()
    assert cluster_codes(table["task"]).tolist() == expected.tolist()
