"""Synthetic Inspect logs for ``alignprobe table`` at scale: one real log of a scripted run,
cloned to 50 checkpoints (a log each) of any size.

The template is a real ``alignprobe run`` (``emergent_misalignment`` on 24 questions, a
scripted model and the scripted keyword judge: no network), so every column ``table``
reads is there as a run writes it. Each checkpoint's log repeats the template's samples
under new epochs until it holds its share of the samples.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SUITE = """name: table-bench
samples: 1
limit: 24
tasks:
  - task: emergent_misalignment
    params: {questions: core}
    conditions: [neutral]
"""
CHECKPOINTS = "checkpoints:\n  base: {model: scripted/em_rate, model_args: {rate: 0.1}}\n"


def template_log(folder: Path) -> Path:
    """Run the scripted template once; the path of its log."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "suite.yaml").write_text(SUITE, encoding="utf-8")
    (folder / "ck.yaml").write_text(CHECKPOINTS, encoding="utf-8")
    run = folder / "run"
    command = [
        sys.executable, "-m", "alignprobe.cli", "run", "--suite", str(folder / "suite.yaml"),
        "--checkpoints", str(folder / "ck.yaml"), "--judge", "scripted/keyword_judge",
        "--out", str(run), "--display", "none",
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    return next((run / "logs").glob("*.eval"))


def clone_logs(template: Path, run_dir: Path, samples: int, checkpoints: list[str]) -> None:
    """``samples`` samples in all, one log per checkpoint, under ``run_dir/logs`` (no
    manifest: a folder of logs, as ``table`` reads an eval-set's output)."""
    from inspect_ai.log import read_eval_log, write_eval_log

    from alignprobe.measures import METADATA_KEY

    log = read_eval_log(str(template))
    originals = list(log.samples or [])
    per = samples // len(checkpoints)
    if per == 0 or per % len(originals):
        # a log short of its planned samples (dataset x epochs) is an unfinished run
        raise ValueError(
            f"{samples} samples: each of {len(checkpoints)} logs needs a multiple of "
            f"{len(originals)} (the template's samples)"
        )
    logs = run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(checkpoints):
        # a sample is one sample_id x epoch, and a uuid of its own (readers key on it)
        cloned = [
            originals[k % len(originals)].model_copy(
                update={"epoch": k // len(originals) + 1, "uuid": f"{name}-{k}"}
            )
            for k in range(per)
        ]
        epochs = per // len(originals)
        metadata = dict(log.eval.metadata or {})
        metadata[METADATA_KEY] = {**dict(metadata.get(METADATA_KEY) or {}), "checkpoint": name}
        config = log.eval.config.model_copy(update={"epochs": epochs})
        header = log.eval.model_copy(
            update={
                "model": f"openai-api/vllm/{name}",
                "metadata": metadata,
                "config": config,
                "eval_id": f"bench{index:04d}{name}",  # readers key a log's samples on it
            }
        )
        results = (
            log.results.model_copy(update={"total_samples": per, "completed_samples": per})
            if log.results is not None
            else None
        )
        copy = log.model_copy(update={"eval": header, "samples": cloned, "results": results})
        write_eval_log(copy, str(logs / f"{name}_emergent-misalignment.eval"))
