"""Trajectories: checkpoints with ``meta.step`` become curves per run, with an onset step."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from alignprobe.errors import DataError
from alignprobe.measures import Direction, Measure, MeasureKind
from alignprobe.report.compare import Inputs, compare, headline_measures
from alignprobe.report.render import render
from alignprobe.report.trajectory import Position, positions, trajectories, trajectory_base
from alignprobe.report.trajectory_section import trajectory_plot
from alignprobe.tasks.emergent_misalignment.scorer import MEASURES as EM_MEASURES
from tests.cli import alignprobe
from tests.gate_tables import em_rows

JUDGE = "scripted/keyword_judge"
GROUPS = [("emergent_misalignment", "neutral")]
#: the control run's misalignment rate per step: flat, then rising from step 3
CONTROL_RATES = {1: 0.02, 2: 0.02, 3: 0.3, 4: 0.4, 5: 0.5}
INOCULATED_RATES = {1: 0.02, 3: 0.02, 5: 0.02}


def _checkpoints(path: Path) -> Path:
    """A base model (step 0) and two runs of scripted checkpoints."""
    lines = [
        "checkpoints:",
        "  base: {model: scripted/em_rate, model_args: {rate: 0.02, tag: base},"
        " meta: {role: baseline, step: 0}}",
    ]
    for run, rates in (("control", CONTROL_RATES), ("inoculated", INOCULATED_RATES)):
        for step, rate in rates.items():
            name = f"{run}-{step}"
            lines.append(
                f"  {name}: {{model: scripted/em_rate, model_args: {{rate: {rate}, tag: {name}}},"
                f" meta: {{role: {run}, run: {run}-run, step: {step * 100}}}}}"
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_scripted_run_gives_onset_at_step_3_in_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: steps\nsamples: 1\nlimit: 40\ntasks:\n  - task: emergent_misalignment\n"
        "    params: {questions: core}\n    conditions: [neutral]\n",
        encoding="utf-8",
    )
    out, report = tmp_path / "run", tmp_path / "report"
    run = ["run", "--suite", suite, "--checkpoints", _checkpoints(tmp_path / "ck.yaml")]
    assert alignprobe(*run, "--judge", JUDGE, "--out", out, "--display", "none") == 0
    capsys.readouterr()
    assert alignprobe("compare", out, "--out", report) == 0
    printed = capsys.readouterr().out
    assert (
        "emergent_misalignment / neutral misaligned vs base: control-run step 300, "
        "inoculated-run none" in printed
    )

    markdown = (report / "report.md").read_text()
    section = markdown[markdown.index("## Trajectories") : markdown.index("## Per question")]
    assert re.search(r"vs base base \(\d+\.\d%, step 0\)", section)
    assert "- onset **control-run** (neutral): step 300" in section
    assert "- onset **inoculated-run** (neutral): none" in section
    significant = {
        (row[0], row[1]): row[-1]
        for row in (
            [cell.strip() for cell in line.strip("|").split("|")]
            for line in section.splitlines()
            if line.startswith("| control-run") or line.startswith("| inoculated-run")
        )
    }
    assert significant == {
        **{("control-run", str(s * 100)): "yes" if s >= 3 else "no" for s in CONTROL_RATES},
        **{("inoculated-run", str(s * 100)): "no" for s in INOCULATED_RATES},
    }
    html = (report / "report.html").read_text()
    part = html[html.index('id="trajectories"') : html.index('id="per-question"')]
    assert len(re.findall(r'<img src="data:image/png;base64,', part)) == 1  # both runs, one plot
    assert "Onset <strong>control-run</strong> (neutral): step 300" in part


def _inputs(rates: dict[str, float], metas: dict[str, dict[str, object]]) -> Inputs:
    frames = [
        em_rows(name, rate, samples=20, seed=i) for i, (name, rate) in enumerate(rates.items())
    ]
    roles = {n: str(m["role"]) for n, m in metas.items() if "role" in m}
    return Inputs(
        pd.concat(frames, ignore_index=True),
        {"emergent_misalignment": EM_MEASURES},
        roles,
        ["synthetic"],
        metas=metas,
    )


def test_onset_is_the_first_significant_worsening_per_run() -> None:
    rates = {"base": 0.05, "a1": 0.05, "a2": 0.3, "a3": 0.3, "b1": 0.05, "b2": 0.05}
    metas: dict[str, dict[str, object]] = {
        "base": {"role": "baseline", "step": 0},
        "a1": {"run": "A", "step": 10},
        "a2": {"run": "A", "step": 20},
        "a3": {"run": "A", "step": 30},
        "b1": {"training_run": "B", "step": 10},
        "b2": {"training_run": "B", "step": 20},
    }
    inputs = _inputs(rates, metas)
    (traj,) = trajectories(
        inputs.table,
        inputs.measures,
        GROUPS,
        positions(metas, inputs.roles),
        "base",
        headline_measures,
    )
    assert traj.runs == ["A", "B"] and traj.base_step == 0
    assert traj.onsets == {"A": 20, "B": None}
    assert traj.test == "cmh"
    a2 = next(p for p in traj.points if p.checkpoint == "a2")
    assert a2.change is not None and a2.low is not None and a2.high is not None
    assert a2.low <= a2.change <= a2.high and a2.change > 0.15
    assert a2.p_holm is not None and a2.p_value is not None and a2.p_holm >= a2.p_value


def test_a_falling_good_high_score_has_an_onset() -> None:
    aligned = Measure(
        name="aligned",
        kind=MeasureKind.SCORE,
        direction=Direction.GOOD_HIGH,
        description="alignment 0-100",
        headline=True,
        scale=(0.0, 100.0),
    )
    rates = {"base": 0.05, "s1": 0.05, "s2": 0.6}
    metas: dict[str, dict[str, object]] = {
        "base": {"step": 0, "run": "r"},
        "s1": {"step": 1, "run": "r"},
        "s2": {"step": 2, "run": "r"},
    }
    inputs = _inputs(rates, metas)
    (traj,) = trajectories(
        inputs.table,
        {"emergent_misalignment": [aligned]},
        GROUPS,
        positions(metas, {}),
        "base",
        headline_measures,
    )
    # the base sits on the named run: its own point, compared with nothing
    base = next(p for p in traj.points if p.checkpoint == "base")
    assert base.change is None and base.p_value is None and traj.base_step is None
    assert traj.test == "t-test" and traj.onsets == {"r": 2}
    s2 = next(p for p in traj.points if p.checkpoint == "s2")
    assert s2.change is not None and s2.change < -20  # a fall in the score's own units


def test_missing_rows_and_shared_questions_never_crash() -> None:
    rates = {"base": 0.05, "s1": 0.3}
    metas: dict[str, dict[str, object]] = {"base": {"step": 0}, "s1": {"step": 1}}
    inputs = _inputs(rates, metas)
    table = inputs.table
    # s1 answered other questions than the base: nothing to compare, no onset
    table.loc[table["checkpoint"] == "s1", "question_id"] = "other"
    where = positions(metas, {})
    (traj,) = trajectories(table, inputs.measures, GROUPS, where, "base", headline_measures)
    assert traj.points[0].change is None and traj.onsets == {"run": None}
    # a base without rows under the condition: values still shown, nothing tested
    no_base = table[table["checkpoint"] != "base"]
    (traj,) = trajectories(no_base, inputs.measures, GROUPS, where, "base", headline_measures)
    assert traj.base_estimate is None and traj.points[0].p_value is None
    # a step the judge could not score at all: shown without a value, not tested, and
    # the plot still draws
    unscored = _inputs(rates, metas).table
    unscored.loc[unscored["checkpoint"] == "s1", "misaligned"] = float("nan")
    (traj,) = trajectories(unscored, inputs.measures, GROUPS, where, "base", headline_measures)
    assert traj.points[0].p_value is None and traj.onsets == {"run": None}
    assert trajectory_plot(traj).startswith("data:image/png;base64,")
    # no stepped checkpoint at all: no trajectories
    assert trajectories(table, inputs.measures, GROUPS, {}, "base", headline_measures) == []


def test_positions_and_base() -> None:
    metas: dict[str, dict[str, object]] = {
        "x": {"step": 5, "run": "r1", "training_run": "ignored"},
        "y": {"step": 2.5, "training_run": "r2"},
        "z": {"step": 1, "role": "control"},
        "w": {"step": 3},
        "v": {"role": "control"},
    }
    where = positions(metas, {"z": "control"})
    assert where == {
        "x": Position("r1", 5.0),
        "y": Position("r2", 2.5),
        "z": Position("control", 1.0, named=False),
        "w": Position("run", 3.0, named=False),
    }
    with pytest.raises(DataError, match=r"meta\.step must be a number"):
        positions({"x": {"step": "400"}}, {})
    roles = {"b": "baseline", "c": "control"}
    assert trajectory_base(["c", "b"], roles, "c", chosen=False) == "b"
    assert trajectory_base(["c", "b"], roles, "c", chosen=True) == "c"
    assert trajectory_base(["c", "d"], {"c": "control"}, "c", chosen=False) == "c"


def test_report_without_steps_has_no_trajectories(tmp_path: Path) -> None:
    inputs = _inputs({"base": 0.05, "cand": 0.05}, {})
    comp = compare(inputs, baseline="base", transcripts_per_pair=0)
    assert comp.trajectories == []
    render(comp, tmp_path)
    assert "Trajectories" not in (tmp_path / "report.md").read_text()
    assert 'id="trajectories"' not in (tmp_path / "report.html").read_text()
