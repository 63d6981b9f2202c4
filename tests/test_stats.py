"""alignprobe.report.stats: clustered CIs, paired differences, Holm, relative reduction."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from alignprobe.report import stats


def _table(rate: float, questions: int = 20, per_question: int = 5, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "question_id": [f"q{q}" for q in range(questions) for _ in range(per_question)],
            "sample_id": [f"q{q}:0" for q in range(questions) for _ in range(per_question)],
            "epoch": [e + 1 for _ in range(questions) for e in range(per_question)],
            "misaligned": (rng.random(questions * per_question) < rate).astype(float),
        }
    )


def test_clustered_ci_counts_and_exclusions() -> None:
    df = _table(0.3)
    df.loc[:4, "misaligned"] = math.nan
    est = stats.clustered_mean_ci(df, "misaligned")
    assert est.n == 95 and est.excluded == 5 and est.clusters == 19  # q0 fully excluded
    assert est.counts == f"{int(df['misaligned'].sum())} / 95"
    assert 0 <= est.low < est.value < est.high <= 1


def test_all_zero_rate_gets_a_nonzero_upper_bound() -> None:
    est = stats.clustered_mean_ci(_table(0.0), "misaligned")
    assert est.value == 0 and est.low == 0 and 0 < est.high < 0.25


def test_paired_difference_detects_a_shift_and_holm_adjusts() -> None:
    base, cand = _table(0.05, seed=1), _table(0.5, seed=2)
    result = stats.paired_difference(base, cand, "misaligned")
    assert result.clusters == 20 and result.difference > 0.3
    assert result.low < result.difference < result.high and result.p_value < 0.01
    same = stats.paired_difference(base, base, "misaligned")
    assert same.difference == 0 and same.p_value == 1.0
    assert stats.holm([0.01, 0.04, math.nan]) == pytest.approx([0.02, 0.04, math.nan], nan_ok=True)


def test_relative_reduction() -> None:
    result = stats.relative_reduction(_table(0.5, seed=3), _table(0.05, seed=4))
    assert 0.7 < result.value <= 1 and result.low <= result.value <= result.high
    assert math.isnan(stats.relative_reduction(_table(0.0), _table(0.1)).value)


def _random_table(rng: np.random.Generator) -> pd.DataFrame:
    """A messy 0/1 table: 1-10 questions, uneven sizes, rates from 0 to 1, some NaNs."""
    questions = int(rng.integers(1, 11))
    sizes = rng.integers(1, 40, size=questions)
    shape = rng.choice(["zero", "all", "rare", "any"])
    rate = {"zero": 0.0, "all": 1.0, "rare": 0.02}.get(shape, float(rng.random()))
    rows = []
    for q, size in enumerate(sizes):
        own = float(np.clip(rate + rng.normal(0, 0.2), 0, 1)) if shape == "any" else rate
        for _ in range(int(size)):
            value = float(rng.random() < own) if rng.random() > 0.1 else math.nan
            rows.append({"question_id": f"q{q}", "misaligned": value})
    return pd.DataFrame(rows)


def test_rate_intervals_always_contain_the_estimate_and_stay_in_0_1() -> None:
    rng = np.random.default_rng(12345)
    shapes = set()
    for _ in range(400):
        df = _random_table(rng)
        est = stats.clustered_mean_ci(df, "misaligned")
        if est.n == 0:
            assert math.isnan(est.value)
            continue
        shapes.add((est.clusters == 1, est.value in (0.0, 1.0)))
        assert 0.0 <= est.low <= est.value <= est.high <= 1.0, (est, df)
        if est.n >= 5:  # a real interval, also for 0 or all hits
            assert est.high - est.low > 0, est
    assert shapes == {(True, True), (True, False), (False, True), (False, False)}


def test_score_intervals_contain_the_estimate() -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        questions = int(rng.integers(1, 8))
        df = pd.DataFrame(
            {
                "question_id": [f"q{q}" for q in rng.integers(0, questions, size=30)],
                "aligned": np.where(rng.random(30) < 0.1, np.nan, rng.uniform(0, 100, 30)),
            }
        )
        est = stats.clustered_mean_ci(df, "aligned", bounds=(0.0, 100.0))
        assert 0.0 <= est.low <= est.value <= est.high <= 100.0, est


def test_zero_hits_over_few_questions_use_the_number_of_answers() -> None:
    """0 of 100 answers over 8 questions: 0.0%-3.7% (Wilson on 100), not 0.0%-32.4%."""
    df = _table(0.0, questions=8, per_question=1)
    df = pd.concat([df] * 12 + [df.iloc[:4]], ignore_index=True)
    est = stats.clustered_mean_ci(df, "misaligned")
    assert (est.n, est.clusters) == (100, 8)
    assert est.low == 0.0 and est.high == pytest.approx(0.0370, abs=1e-4)
    assert "100 answers" in est.method
    full = stats.clustered_mean_ci(df.assign(misaligned=1.0), "misaligned")
    assert full.high == 1.0 and full.low == pytest.approx(1 - 0.0370, abs=1e-4)


def test_clustering_widens_a_rate_interval_by_its_design_effect() -> None:
    # every hit in two of ten questions: strong clustering, so fewer effective answers
    df = pd.DataFrame(
        {
            "question_id": [f"q{q}" for q in range(10) for _ in range(20)],
            "misaligned": [1.0 if q < 2 else 0.0 for q in range(10) for _ in range(20)],
        }
    )
    est = stats.clustered_mean_ci(df, "misaligned")
    spread = pd.DataFrame({"question_id": df["question_id"], "misaligned": df["misaligned"]})
    spread["misaligned"] = [1.0 if i % 5 == 0 else 0.0 for i in range(200)]
    independent = stats.clustered_mean_ci(spread, "misaligned")
    assert est.value == independent.value == 0.2
    assert est.high - est.low > 2 * (independent.high - independent.low)
    assert "design effect" in est.method


def test_paired_intervals_contain_their_difference() -> None:
    rng = np.random.default_rng(3)
    for seed in range(60):
        questions = int(rng.integers(2, 8))
        base = _table(float(rng.random()) * 0.3, questions, int(rng.integers(1, 6)), seed)
        cand = _table(float(rng.random()) * 0.3, questions, int(rng.integers(1, 6)), seed + 99)
        result = stats.paired_difference(base, cand, "misaligned", n_resamples=200, seed=seed)
        assert result.low <= result.difference <= result.high, result
        assert result.method


def test_no_shared_questions_gives_no_numbers() -> None:
    other = _table(0.1).assign(question_id=lambda d: "x" + d["question_id"])
    result = stats.paired_difference(_table(0.1), other, "misaligned")
    assert result.clusters == 0 and math.isnan(result.difference)
