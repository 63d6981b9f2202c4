"""Readers at scale: what changed so that a million rows fit (the timings are
``bench/scale.py``'s; Krippendorff's alpha in closed form: tests/test_agreement_alpha.py)."""

from __future__ import annotations

import numpy as np
import pytest


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
