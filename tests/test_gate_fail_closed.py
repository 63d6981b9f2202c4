"""The gate fails closed on its policy: unknown names are errors, required checks never skip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alignprobe.cli import main
from alignprobe.errors import ConfigError
from alignprobe.gate import default_policy_path, load_policy, load_side, run_gate
from tests.gate_tables import corrigibility_rows, em_rows, write_results

#: two checks on emergent_misalignment; the second one's fields are filled in per test
POLICY = """\
checks:
  - name: coherence
    task: emergent_misalignment
    measure: coherent
  - name: misalignment
    task: {task}
    measure: {measure}
    condition: {condition}
"""
#: line of each field of the second check in POLICY
FIELD_LINE = {"task": 6, "measure": 7, "condition": 8}
GOOD = {"task": "emergent_misalignment", "measure": "misaligned", "condition": "neutral"}


def gate(*args: str | Path) -> int:
    with pytest.raises(SystemExit) as exited:
        main(["gate", *(str(a) for a in args)])
    return int(exited.value.code or 0)


@pytest.fixture
def sides(tmp_path: Path) -> tuple[Path, Path]:
    """Misalignment rises from 2% to 36.5% (34.5 points); coherence does not change."""
    return (
        write_results(tmp_path / "baseline", em_rows("base", 0.02, seed=1)),
        write_results(tmp_path / "candidate", em_rows("cand", 0.365, seed=2)),
    )


def policy_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy" / "gate.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("field", "value", "suggestion"),
    [
        ("condition", "neutrl", "neutral"),
        ("task", "emergent-misalignment", "emergent_misalignment"),
        ("measure", "misalinged", "misaligned"),
    ],
)
def test_unknown_name_is_a_policy_error_and_writes_nothing(
    sides: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    field: str,
    value: str,
    suggestion: str,
) -> None:
    baseline, candidate = sides
    policy = policy_file(tmp_path, POLICY.format(**{**GOOD, field: value}))
    verdict, junit = tmp_path / "out" / "verdict.json", tmp_path / "out" / "junit.xml"
    args = ("--baseline", baseline, "--candidate", candidate, "--policy", policy)
    assert gate(*args, "--json", verdict, "--junit", junit) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1, err
    assert f"{policy}:{FIELD_LINE[field]}: field 'checks[1].{field}'" in err
    assert f"'{value}'" in err and suggestion in err
    assert "PASS (exit 0)" not in captured.out
    assert not verdict.exists() and not junit.exists()
    assert not (candidate / "verdict.json").exists()


def test_typo_in_the_default_condition_names_the_defaults_line(
    sides: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline, candidate = sides
    text = "defaults:\n  min_samples: 20\n  condition: nuetral\n" + POLICY.format(**GOOD).replace(
        "    condition: neutral\n", ""
    )
    policy = policy_file(tmp_path, text)
    assert gate("--baseline", baseline, "--candidate", candidate, "--policy", policy) == 2
    err = capsys.readouterr().err
    assert f"{policy}:3: field 'defaults.condition'" in err and "'neutral'" in err
    assert not (candidate / "verdict.json").exists()


def test_api_refuses_unknown_names_too(sides: tuple[Path, Path], tmp_path: Path) -> None:
    policy = policy_file(tmp_path, POLICY.format(**{**GOOD, "condition": "neutrl"}))
    baseline, candidate = load_side(sides[0], "baseline"), load_side(sides[1], "candidate")
    with pytest.raises(ConfigError, match=r"gate\.yaml:8: field 'checks\[1\]\.condition'"):
        run_gate(baseline, candidate, load_policy(policy))


def test_required_check_whose_task_is_absent_cannot_decide(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A user's check is required unless it says otherwise: no data is never a pass."""
    baseline = write_results(tmp_path / "baseline", em_rows("base", 0.02, seed=1))
    candidate = write_results(tmp_path / "candidate", em_rows("cand", 0.02, seed=3))
    text = POLICY.format(task="corrigibility_mcq", measure="safe_choice", condition="neutral")
    out = tmp_path / "verdict.json"
    args = ("--baseline", baseline, "--candidate", candidate, "--json", out)
    assert gate(*args, "--policy", policy_file(tmp_path, text)) == 2
    verdict = json.loads(out.read_text())
    checks = {c["name"]: c for c in verdict["checks"]}
    assert checks["coherence"]["status"] == "pass"
    assert checks["misalignment"]["status"] == "cannot-decide"
    assert "required" in checks["misalignment"]["reasons"][0]
    assert verdict["status"] == "cannot-decide"
    assert "PASS (exit 0)" not in capsys.readouterr().out

    # the same check marked optional is skipped, and the rest of the gate decides
    optional = text + "    required: false\n"
    assert gate(*args, "--policy", policy_file(tmp_path, optional)) == 0
    checks = {c["name"]: c for c in json.loads(out.read_text())["checks"]}
    assert checks["misalignment"]["status"] == "skipped"


def test_required_check_without_rows_under_its_condition_cannot_decide(
    sides: tuple[Path, Path], tmp_path: Path
) -> None:
    """A built-in condition the run did not use: known, so no policy error, but no pass."""
    baseline, candidate = sides
    text = POLICY.format(**{**GOOD, "condition": "dont_hack"})
    out = tmp_path / "verdict.json"
    args = ("--baseline", baseline, "--candidate", candidate, "--json", out)
    assert gate(*args, "--policy", policy_file(tmp_path, text)) == 2
    check = json.loads(out.read_text())["checks"][1]
    assert check["status"] == "cannot-decide" and "dont_hack" in check["reasons"][0]


def test_names_found_only_in_the_results_are_known(tmp_path: Path) -> None:
    """A custom task, condition and measure column are fine when the results hold them."""
    rows = {
        name: em_rows(name, rate, seed=seed, condition="my_condition").assign(
            task="my_probe", score_x=lambda df: df["misaligned"]
        )
        for name, rate, seed in (("base", 0.02, 1), ("cand", 0.365, 2))
    }
    baseline = write_results(tmp_path / "baseline", rows["base"])
    candidate = write_results(tmp_path / "candidate", rows["cand"])
    text = (
        "checks:\n  - name: custom\n    task: my_probe\n    measure: score_x\n"
        "    condition: my_condition\n    direction: good-low\n"
    )
    args = ("--baseline", baseline, "--candidate", candidate, "--json", tmp_path / "v.json")
    assert gate(*args, "--policy", policy_file(tmp_path, text)) == 1
    # a measure that exists only for another task is not a measure of this one
    other = text.replace("measure: score_x", "measure: safe_choice")
    with pytest.raises(ConfigError, match=r"gate\.yaml:4: field 'checks\[0\]\.measure'"):
        run_gate(
            load_side(baseline, "baseline"),
            load_side(candidate, "candidate"),
            load_policy(policy_file(tmp_path, other)),
        )


def test_user_policy_still_passes_clean_and_fails_regressions(
    sides: tuple[Path, Path], tmp_path: Path
) -> None:
    baseline, candidate = sides
    policy = policy_file(tmp_path, POLICY.format(**GOOD))
    args = ("--policy", policy, "--json", tmp_path / "v.json")
    assert gate("--baseline", baseline, "--candidate", candidate, *args) == 1
    clean = write_results(tmp_path / "clean", em_rows("clean", 0.02, seed=3))
    assert gate("--baseline", baseline, "--candidate", clean, *args) == 0


def test_default_policy_marks_its_optional_checks_explicitly() -> None:
    """The shipped policy says ``required: false`` on each check instead of by convention."""
    text = load_policy().model_dump()
    assert all(check["required"] is False for check in text["checks"])
    raw = default_policy_path().read_text()
    assert raw.count("\n    required: false") == len(text["checks"])


def test_default_policy_names_are_all_built_in(tmp_path: Path) -> None:
    """Every default check names a built-in task, measure and condition: it validates
    against results that hold none of its tasks but the one it needs to decide."""
    base = write_results(tmp_path / "b", corrigibility_rows("base", {"shutdown": 0.9}, seed=1))
    cand = write_results(tmp_path / "c", corrigibility_rows("cand", {"shutdown": 0.9}, seed=1))
    verdict = run_gate(load_side(base, "baseline"), load_side(cand, "candidate"), load_policy())
    statuses = {c.name: c.status.value for c in verdict.checks}
    assert statuses.pop("corrigibility[behaviour=shutdown]") == "pass"
    assert set(statuses.values()) == {"skipped"}
    assert verdict.exit_code == 0


def test_built_in_names_are_the_registered_families() -> None:
    from alignprobe.gate.names import builtin_measures, builtin_tasks
    from alignprobe.tasks.registry import ALIGNPROBE_TASKS

    assert builtin_tasks() == set(ALIGNPROBE_TASKS)
    assert {"hacked", "admits_given_hacked"} <= builtin_measures("instructed_hacking")
    assert builtin_measures("not_a_task") == frozenset()
