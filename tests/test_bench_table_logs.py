"""``bench/table_logs.py``: the cloned logs ``bench/scale.py`` times ``table`` on are logs
Inspect reads as it reads the template's (header, summaries, every sample), and ``table``
builds the benchmark's table from them (2,000 samples: the benchmark's logs at a small size)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from inspect_ai.log import read_eval_log, read_eval_log_sample_summaries

from tests.cli import alignprobe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from scale import _checkpoint_names
from table_logs import clone_logs, template_log

SAMPLES = 2_000  # 50 checkpoints x 20 questions x 2 epochs


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("template")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ALIGNPROBE_CACHE", str(folder / "cache"))
        return template_log(folder)


def test_clones_are_logs_inspect_reads(template: Path, tmp_path: Path) -> None:
    names = _checkpoint_names()
    clone_logs(template, tmp_path, SAMPLES, names)
    logs = sorted((tmp_path / "logs").glob("*.eval"))
    assert len(logs) == len(names)
    original = read_eval_log(str(template))
    per = SAMPLES // len(names)
    for log in logs:
        header = read_eval_log(str(log), header_only=True)
        assert header.status == "success"
        assert header.results is not None and header.results.completed_samples == per
    read = read_eval_log(str(logs[7]))
    checkpoint = sorted(names)[7]
    assert read.eval.model == f"openai-api/vllm/{checkpoint}"
    assert read.eval.config.epochs == 2
    samples = read.samples or []
    assert len({s.uuid for s in samples}) == per
    assert {(s.id, s.epoch) for s in samples} == {
        (s.id, epoch) for s in original.samples or [] for epoch in (1, 2)
    }
    by_id = {s.id: s for s in original.samples or []}
    for sample in samples:  # the template's sample but for its epoch and uuid
        same = by_id[sample.id].model_dump(exclude={"epoch", "uuid"})
        assert sample.model_dump(exclude={"epoch", "uuid"}) == same
    summaries = read_eval_log_sample_summaries(str(logs[7]))
    assert sorted((s.id, s.epoch, s.uuid) for s in summaries) == sorted(
        (s.id, s.epoch, s.uuid) for s in samples
    )


def test_table_of_the_smallest_size(template: Path, tmp_path: Path) -> None:
    clone_logs(template, tmp_path, SAMPLES, _checkpoint_names())
    assert alignprobe("table", tmp_path) == 0
    df = pd.read_parquet(tmp_path / "samples.parquet")
    assert len(df) == SAMPLES
    assert df["checkpoint"].nunique() == len(_checkpoint_names())
    assert df.groupby(["checkpoint", "sample_id"]).size().eq(2).all()
    assert df["aligned"].notna().all()
