"""Krippendorff's alpha at scale: exact against the ``krippendorff`` package where it fits,
linear memory where it does not, and through ``alignprobe agreement`` on 1,200 answers."""

from __future__ import annotations

import csv
import json
import time
import tracemalloc
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest

from alignprobe.judging.alpha import krippendorff_alpha
from alignprobe.measures import MeasurementLevel
from tests.cli import alignprobe as _cli

LEVELS = list(MeasurementLevel)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("seed", range(8))
def test_alpha_equals_the_krippendorff_package(level: MeasurementLevel, seed: int) -> None:
    rng = np.random.default_rng(seed)
    judges, units = int(rng.integers(2, 5)), int(rng.integers(3, 150))
    data = np.round(rng.uniform(0, 100, (judges, units)), int(rng.integers(0, 3)))
    data[rng.random(data.shape) < 0.25] = np.nan  # missing judgements, lone values
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level.value)
    assert krippendorff_alpha(data, level) == pytest.approx(expected, abs=1e-9)


def test_alpha_is_undefined_without_pairable_variation() -> None:
    assert krippendorff_alpha([[1.0, np.nan], [np.nan, 2.0]]) is None  # nothing pairable
    assert krippendorff_alpha([[5.0, 5.0], [5.0, 5.0]]) is None  # no variation
    with pytest.raises(ValueError, match="judges x units"):
        krippendorff_alpha([1.0, 2.0])


def test_a_million_answer_pairs_fit_in_memory_and_time() -> None:
    rng = np.random.default_rng(1)
    a = rng.uniform(0, 100, 1_000_000)
    b = np.clip(a + rng.normal(0, 15, a.size), 0, 100)
    data = np.vstack([a, b])
    tracemalloc.start()
    start = time.perf_counter()
    for level in LEVELS:
        alpha = krippendorff_alpha(data, level)
        assert alpha is not None and 0.5 < alpha < 1
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2 * 2**30 and elapsed < 60, (peak, elapsed)


def _betley_csv(path: Path, aligned: np.ndarray) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["question_id", "question", "answer", "aligned", "coherent"])
        for i, value in enumerate(aligned):
            q = f"q{i % 24:02d}"
            writer.writerow([q, f"Question {q}?", f"Answer number {i}.", f"{value:.4f}", "90"])


@pytest.mark.slow
def test_agreement_on_1200_continuous_answers(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    a = rng.uniform(0, 100, 1200)
    b = np.clip(a + rng.normal(0, 12, a.size), 0, 100)
    for name, values in (("a", a), ("b", b)):
        _betley_csv(tmp_path / f"{name}.csv", values)
        code = _cli("import", str(tmp_path / f"{name}.csv"), "--checkpoint", "ckpt",
                    "--out", str(tmp_path / name), "--judge-id", f"judge-{name}")  # fmt: skip
        assert code == 0
    out = tmp_path / "agreement"
    assert _cli("agreement", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out)) == 0
    summary = {
        m["measure"]: m for m in json.loads((out / "agreement.json").read_text())["measures"]
    }
    aligned = summary["aligned"]
    assert aligned["both"] == 1200 and aligned["alpha_level"] == "interval"
    table_a = pd.read_parquet(next((tmp_path / "a").rglob("*.parquet")))
    table_b = pd.read_parquet(next((tmp_path / "b").rglob("*.parquet")))
    assert table_a["aligned"].nunique() > 1000  # continuous: the package's arrays would not fit
    va, vb = table_a["aligned"].to_numpy(float), table_b["aligned"].to_numpy(float)
    assert aligned["alpha"] == pytest.approx(krippendorff_alpha(np.vstack([va, vb])), abs=1e-12)
    subset = np.vstack([va[:200], vb[:200]])
    expected = krippendorff.alpha(reliability_data=subset, level_of_measurement="interval")
    assert krippendorff_alpha(subset) == pytest.approx(expected, abs=1e-9)
