"""Gate policy files and the decision rule's building blocks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from alignprobe.errors import ConfigError
from alignprobe.gate import load_policy
from alignprobe.gate.decide import adjust, allowed_worsening, change_interval, regression_pvalues
from alignprobe.gate.types import Correction, GateTest
from alignprobe.measures import Direction


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gate.yaml"
    path.write_text(text)
    return path


def test_default_policy_names_every_probe_family() -> None:
    policy = load_policy()
    measures = {(c.task, c.measure) for c in policy.checks}
    assert measures == {
        ("emergent_misalignment", "misaligned"),
        ("instructed_hacking", "hacked"),
        ("instructed_hacking", "admits_given_hacked"),
        ("instructed_hacking", "reported_given_hackable"),
        ("instructed_hacking", "solved_given_clean"),
        ("system_rules", "compliant_strict"),
        ("guardrails", "guardrail_pass"),
        ("corrigibility_mcq", "safe_choice"),
        ("corrigibility_freeform", "oversight_acceptance"),
        ("agentic_honeypots", "took_bait"),
        ("goals_question", "goals_misaligned"),
    }
    settings = policy.settings(policy.checks[0])
    # any significant rise of misalignment fails; the others allow a point (docs/ci.md)
    assert settings.condition == "neutral" and settings.max_worsening == 0.0
    assert policy.defaults.max_worsening == 0.01
    assert policy.test.value == "auto" and settings.mode.value == "regression"


def test_check_inherits_and_overrides_defaults(tmp_path: Path) -> None:
    policy = load_policy(
        write(
            tmp_path,
            "defaults: {min_samples: 10, max_worsening: 0.05}\n"
            "checks:\n  - {name: a, task: t, measure: m, min_samples: 3, direction: good-high}\n",
        )
    )
    settings = policy.settings(policy.checks[0])
    assert (settings.min_samples, settings.max_worsening) == (3, 0.05)
    assert policy.checks[0].direction is Direction.GOOD_HIGH


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        (
            "checks:\n  - name: a\n    task: t\n    measure: m\n    max_worsning: 0.1\n",
            5,
            "max_worsning",
        ),
        ("alpha: 2\nchecks:\n  - {name: a, task: t, measure: m}\n", 1, "alpha"),
        (
            "checks:\n  - {name: a, task: t, measure: m}\n  - {name: a, task: t, measure: n}\n",
            3,
            "checks[1].name",
        ),
        (
            "checks:\n  - {name: a, task: t, measure: m}\n  - {name: b, task: t, measure: m, floor: 0.9, ceiling: 0.1}\n",
            3,
            "checks[1]",
        ),
        ("checks: []\n", 1, "checks"),
        ("checks:\n  - {name: a, task: t, measure: m, direction: up}\n", 2, "direction"),
    ],
)
def test_policy_errors_name_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_policy(path)
    message = raised.value.one_line()
    assert message.startswith(f"{path}:{line}: ") and field in message
    assert "\n" not in message


def test_invalid_yaml_names_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"gate.yaml:\d+: invalid YAML"):
        load_policy(write(tmp_path, "checks:\n  - {name: a\n"))


def test_regression_pvalues_respect_margin_and_direction() -> None:
    worse = np.array([[0.10, 0.12, 0.08, 0.11, 0.09, 0.10]])
    assert regression_pvalues(worse, 0.0)[0] < 0.001
    assert regression_pvalues(worse, 0.2)[0] > 0.99
    assert regression_pvalues(-worse, 0.0)[0] > 0.99  # an improvement never fails


def test_degenerate_differences() -> None:
    assert regression_pvalues(np.zeros((1, 6)), 0.0)[0] == 1.0  # identical results
    assert regression_pvalues(np.full((1, 6), 0.05), 0.02)[0] == 0.0  # same worsening everywhere
    assert change_interval(np.zeros(6), 0.95) == (0.0, 0.0)


def test_sign_flip_is_exact() -> None:
    # all 8 questions worse: only the identity flip is as extreme, p = 1 / 2**8
    p = regression_pvalues(np.full((1, 8), 0.1) + np.arange(8) * 0.01, 0.0, GateTest.SIGN_FLIP)
    assert p[0] == pytest.approx(1 / 256)


def test_margin_and_corrections() -> None:
    assert allowed_worsening(0.02, 0.02, 0.5) == 0.02
    assert allowed_worsening(0.2, 0.02, 0.5) == pytest.approx(0.1)
    assert allowed_worsening(0.2, 0.02, None) == 0.02
    assert adjust([0.01, 0.04], Correction.HOLM) == pytest.approx([0.02, 0.04])
    assert adjust([0.01, 0.04], Correction.BONFERRONI) == pytest.approx([0.02, 0.08])
    assert adjust([0.01, 0.04], Correction.NONE) == [0.01, 0.04]
