"""``alignprobe power --from RUN``: sample sizes planned from a run's own per-question
profile, the prediction checked against a simulation of the gate on that profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from alignprobe.cli import main
from alignprobe.gate.power import Design, gate_power
from alignprobe.gate.power_plan import predicted_power, predicted_samples, profile_icc
from tests.gate_tables import em_rows, write_results

#: the gate's tolerance for the planned power against its own simulation
TOLERANCE = 0.03


def _run(tmp: Path) -> Path:
    """A recorded baseline with strongly clustered questions (rates 0 to ~40%)."""
    return write_results(tmp / "base", em_rows("base", 0.06, samples=20, heterogeneity=1.2))


def _rows(out: str) -> list[tuple[int, float, float]]:
    """(samples, predicted, simulated) of the side-by-side table."""
    rows = []
    started = False
    for line in out.splitlines():
        if line.startswith("samples/question"):
            started = True
            continue
        if started and line.strip():
            samples, predicted, simulated, _ = line.split()
            rows.append((int(samples), float(predicted), float(simulated)))
    return rows


@pytest.mark.parametrize(
    ("shape", "margin"), [("additive", "0"), ("proportional", "0"), ("additive", "0.02")]
)
def test_power_from_run_predicts_the_simulated_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: str, margin: str
) -> None:
    run = _run(tmp_path)
    main(
        [
            "power", "--from", str(run), "--effect", "0.05", "--effect-shape", shape,
            "--samples", "10", "--margin", margin, "--simulations", "2000",
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "ICC the data show" in out
    rows = _rows(out)
    assert len(rows) >= 3 and 10 in [r[0] for r in rows]
    for samples, predicted, simulated in rows:
        assert abs(predicted - simulated) <= TOLERANCE, (samples, predicted, simulated)
    # the planned size is where the predicted power first reaches 80%
    [planned] = [r for r in rows if r[1] >= 0.8 and r[0] == min(x[0] for x in rows if x[1] >= 0.8)]
    assert f"for 80% power: {planned[0]} predicted" in out


def test_prediction_tracks_clustering_not_an_assumed_icc() -> None:
    """The same mean rate spread over questions differently plans differently, and each
    plan agrees with the gate simulated on its own profile."""
    even = (0.05,) * 20
    clustered = (0.0,) * 15 + (0.2,) * 5  # same mean, all of it in a quarter of questions
    assert profile_icc(even) == pytest.approx(0, abs=1e-12) and profile_icc(clustered) > 0.1
    plans = {}
    for name, rates in (("even", even), ("clustered", clustered)):
        design = Design(0.0, 0.05, 2, 10, profile=rates)
        assert abs(predicted_power(design) - gate_power(design, 4000, 1).rate) <= TOLERANCE
        plans[name] = predicted_samples(design, 0.8)
    assert plans["even"] is not None and plans["clustered"] is not None
    assert plans["even"] != plans["clustered"]


def test_power_from_refuses_a_second_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["power", "--from", str(_run(tmp_path)), "--profile", "synthetic",
              "--effect", "0.05", "--samples", "10"])  # fmt: skip
    assert exited.value.code == 2
    assert "--from" in capsys.readouterr().err
