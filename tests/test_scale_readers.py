"""Readers at scale: what changed so that a million rows fit (the timings are
``bench/scale.py``'s)."""

from __future__ import annotations

import numpy as np
import pytest

from alignprobe.judging.agreement import interval_alpha


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_interval_alpha_equals_krippendorffs_package(seed: int) -> None:
    """The closed form on pairable values is the package's interval alpha, missing
    judgements (NaN on either side) included, for continuous and for tied scores."""
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 100, 300)
    b = np.clip(a + rng.normal(0, 15 + 10 * seed, 300), 0, 100)
    if seed == 2:  # few distinct values, as a judge's round numbers give
        a, b = np.round(a, -1), np.round(b, -1)
    a[rng.random(300) < 0.05] = np.nan
    b[rng.random(300) < 0.05] = np.nan
    expected = krippendorff.alpha(
        reliability_data=np.vstack([a, b]), level_of_measurement="interval"
    )
    assert interval_alpha(a, b) == pytest.approx(expected, abs=1e-9)


def test_interval_alpha_edge_cases() -> None:
    same = np.full(10, 50.0)
    assert interval_alpha(same, same) is None  # one value everywhere: undefined
    assert interval_alpha(np.array([1.0, np.nan]), np.array([np.nan, 2.0])) is None
    assert interval_alpha(np.arange(10.0), np.arange(10.0)) == pytest.approx(1.0)


def test_interval_alpha_on_a_million_distinct_scores_is_immediate() -> None:
    """The package's coincidence array would be values x values (terabytes) here."""
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 100, 1_000_000)
    b = a + rng.normal(0, 1, a.size)
    alpha = interval_alpha(a, b)
    assert alpha is not None and 0.99 < alpha < 1.0


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_holm_equals_statsmodels(seed: int) -> None:
    """alignprobe's Holm step-down is statsmodels' (which it avoids for speed), NaN kept."""
    from statsmodels.stats.multitest import multipletests

    from alignprobe.report.stats import holm

    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 0.2, 12) ** (1 + seed)
    p[3] = p[7]  # ties
    expected = multipletests(p, method="holm")[1]
    assert holm(list(p)) == pytest.approx(list(expected), abs=1e-12)
    with_nan = [*p[:5], float("nan"), *p[5:]]
    adjusted = holm(with_nan)
    assert np.isnan(adjusted[5])
    assert adjusted[:5] + adjusted[6:] == pytest.approx(list(expected), abs=1e-12)
    assert holm([]) == []
