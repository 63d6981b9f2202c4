"""The gate checks a policy's names without importing Inspect: the built-in measures are
listed (and must be what the families declare), the conditions read from their YAML."""

from __future__ import annotations

import subprocess
import sys

import pytest

from alignprobe.gate.builtin_names import BUILTIN_MEASURES
from alignprobe.gate.names import (
    builtin_condition_names,
    builtin_measures,
    builtin_tasks,
    registered_measures,
)


def test_listed_families_are_the_task_packages() -> None:
    assert set(BUILTIN_MEASURES) == builtin_tasks()


@pytest.mark.parametrize("task", sorted(BUILTIN_MEASURES))
def test_listed_measures_are_what_each_family_declares(task: str) -> None:
    assert builtin_measures(task) == registered_measures(task)


def test_condition_names_are_the_resolvable_conditions() -> None:
    from alignprobe.conditions import builtin_conditions

    assert builtin_condition_names() == set(builtin_conditions())


_CHECK_WITHOUT_INSPECT = """
import sys
from pathlib import Path
import pandas as pd
from alignprobe.errors import ConfigError
from alignprobe.gate import Side, default_policy_path, load_policy
from alignprobe.gate.names import check_names

rows = pd.DataFrame({"task": ["corrigibility_mcq"], "condition": ["neutral"]})
side = Side("baseline", Path("t"), "base", rows, {})
check_names(load_policy(default_policy_path()), [side, side])
assert "inspect_ai" not in sys.modules, "checking built-in names imported Inspect"
typo = load_policy(default_policy_path()).model_copy()
typo.checks[0] = typo.checks[0].model_copy(update={"measure": "misalgned"})
try:
    check_names(typo, [side])
except ConfigError as exc:
    assert "did you mean 'misaligned'" in str(exc), exc
else:
    raise AssertionError("an unknown measure passed")
"""


def test_checking_built_in_names_imports_no_inspect() -> None:
    """A fresh interpreter: the built-in policy's names pass and a typo is refused, with
    Inspect never imported for the names that are built in."""
    done = subprocess.run(
        [sys.executable, "-c", _CHECK_WITHOUT_INSPECT], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
