"""Sequential designs that decide sooner: Hwang-Shih-DeCani spending, a futility spending
of its own, binding futility; what they save, computed and simulated through the gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alignprobe.cli import main
from alignprobe.gate.power import Design, compare_sequential
from alignprobe.gate.profiles import synthetic_profile
from alignprobe.gate.sequential import check_spending, sequential_design, spent
from tests.gate_tables import em_rows, write_results

POINTS = 401  # integration grid: enough for 3 decimals, fast


def test_hsd_spending_spans_late_to_early() -> None:
    assert spent(0.5, 0.05, "hsd:0") == pytest.approx(0.025)  # gamma 0: linear
    for gamma in (-4, 1, 3):
        assert spent(1.0, 0.05, f"hsd:{gamma}") == 0.05
        values = [spent(t / 10, 0.05, f"hsd:{gamma}") for t in range(11)]
        assert values == sorted(values)
    # negative gamma spends late (O'Brien-Fleming-like), positive early (Pocock-like)
    assert spent(0.3, 0.05, "hsd:-4") < spent(0.3, 0.05, "hsd:1") < spent(0.3, 0.05, "hsd:3")
    assert spent(0.3, 0.05, "hsd:1") == pytest.approx(spent(0.3, 0.05, "pocock"), rel=0.1)


@pytest.mark.parametrize("bad", ["hsd:", "hsd:abc", "hsd:20", "linear", ""])
def test_unknown_spending_says_what_works(bad: str) -> None:
    with pytest.raises(ValueError, match="hsd:<gamma>"):
        check_spending(bad)


def test_binding_futility_spends_alpha_only_when_obeyed() -> None:
    loose = sequential_design(6, 0.05, 0.8, "hsd:1", points=POINTS)
    tight = sequential_design(6, 0.05, 0.8, "hsd:1", points=POINTS, binding=True)
    assert tight.alpha_spent(POINTS) == pytest.approx(0.05, abs=2e-4)
    assert loose.alpha_spent(POINTS) == pytest.approx(0.05, abs=2e-4)
    # a loop that ignored the binding design's futility stops would exceed alpha
    assert tight.alpha_spent(POINTS, obey_futility=False) > 0.051
    assert all(b <= a + 1e-9 for a, b in zip(loose.efficacy, tight.efficacy, strict=True))
    assert tight.inflation < loose.inflation
    assert tight.futility[-1] == tight.efficacy[-1]  # the last look decides


def test_own_futility_spending_shapes_only_the_futility_bounds() -> None:
    same = sequential_design(4, 0.05, 0.8, "obrien-fleming", points=POINTS)
    early = sequential_design(
        4, 0.05, 0.8, "obrien-fleming", points=POINTS, futility_spending="pocock"
    )
    assert early.efficacy == same.efficacy  # non-binding: efficacy ignores futility
    assert early.futility[0] > same.futility[0]  # Pocock-type beta spending stops sooner
    assert early.futility_spending == "pocock" and same.futility_spending is None


def _saved(design_args: dict[str, object], looks: int) -> tuple[float, float]:
    d = sequential_design(looks, 0.05, 0.8, points=POINTS, **design_args)  # type: ignore[arg-type]
    return (
        1 - d.inflation * d.mean_fraction(0.0, POINTS),
        1 - d.inflation * d.mean_fraction(d.drift, POINTS),
    )


def test_hsd_binding_design_saves_more_than_the_named_designs() -> None:
    """Expected samples over the fixed design's at equal power (normal theory)."""
    pocock = _saved({"spending": "pocock"}, 6)
    obf = _saved({"spending": "obrien-fleming"}, 6)
    hsd = _saved({"spending": "hsd:1", "binding": True}, 8)
    assert hsd[0] > pocock[0] > obf[0] and hsd[1] > pocock[1] > obf[1]
    assert hsd[0] > 0.45 and 0.30 < hsd[1] < 1 / 3  # a third under the effect: not quite


@pytest.mark.slow
def test_simulated_hsd_binding_design_keeps_power_and_false_alarms() -> None:
    """Through the gate's own CMH test on the issue's design (0.2x synthetic profile)."""
    profile = synthetic_profile()
    base = profile.scaled(0.2)
    design = Design(
        0.0, 0.5 * profile.mean - base.mean, 24, 20, profile=base.rates, shape="proportional"
    )
    found = compare_sequential(design, 8, "hsd:1", 0.8, 1000, 0, 21, "hsd:1", True)
    assert found is not None
    assert found.under_null.failed.rate <= 0.05 + 0.015
    assert found.under_effect.failed.rate == pytest.approx(found.fixed_power.rate, abs=0.04)
    assert found.saved_under_null > 0.4 and found.saved_under_effect > 0.22


def _gate(*args: str | Path) -> int:
    with pytest.raises(SystemExit) as exited:
        main(["gate", *(str(a) for a in args)])
    return int(exited.value.code or 0)


def test_gate_look_records_the_design(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline = write_results(tmp_path / "b", em_rows("base", 0.02, samples=40, seed=1))
    candidate = write_results(tmp_path / "c", em_rows("cand", 0.02, samples=10, seed=2))
    out = tmp_path / "v.json"
    args = ["--baseline", baseline, "--candidate", candidate, "--json", out]
    look = ["--look", "1", "--of", "4", "--max-samples-per-question", "40"]
    design = ["--spending", "hsd:1", "--futility-spending", "hsd:2", "--binding-futility"]
    assert _gate(*args, *look, *design) in (0, 3)
    verdict = json.loads(out.read_text())
    assert (verdict["spending"], verdict["futility_spending"], verdict["binding_futility"]) == (
        "hsd:1",
        "hsd:2",
        True,
    )
    assert "hsd:1 spending, hsd:2 futility, binding futility" in capsys.readouterr().out
    assert _gate(*args, *look, "--spending", "hsd:x") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "hsd:<gamma>" in err


def test_a_candidate_short_of_min_samples_continues_until_the_last_look(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """48 answers (2 per question) against min_samples 50: another round can cure that
    before the last look; at the last look it cannot decide."""
    baseline = write_results(tmp_path / "b", em_rows("base", 0.02, samples=40, seed=1))
    candidate = write_results(tmp_path / "c", em_rows("cand", 0.02, samples=2, seed=2))
    out = tmp_path / "v.json"
    args = ["--baseline", baseline, "--candidate", candidate, "--json", out]
    plan = ["--of", "3", "--max-samples-per-question", "6"]
    assert _gate(*args, "--look", "1", *plan) == 3
    check = next(c for c in json.loads(out.read_text())["checks"] if c["status"] != "skipped")
    assert check["status"] == "continue"
    assert check["reasons"][0].startswith("not tested at look 1 of 3: candidate: 48 scored")
    assert _gate(*args, "--look", "3", *plan) == 2
    check = next(c for c in json.loads(out.read_text())["checks"] if c["status"] != "skipped")
    assert check["status"] == "cannot-decide"
    # a short baseline is not cured by candidate rounds
    thin = write_results(tmp_path / "t", em_rows("base", 0.02, samples=2, seed=3))
    assert _gate("--baseline", thin, "--candidate", candidate, "--json", out, "--look", "1",
                 *plan) == 2  # fmt: skip
    capsys.readouterr()
