"""Synthetic Inspect logs for ``alignprobe table`` at scale: one real log of a scripted run,
cloned to 50 checkpoints (a log each) of any size.

The template is a real ``alignprobe run`` (``emergent_misalignment`` on 20 questions, a
scripted model and the scripted keyword judge: no network), so every column ``table``
reads is there as a run writes it. Each checkpoint's log repeats the template's samples
under new epochs until it holds its share of the samples, written as Inspect writes a
log (:func:`clone_logs`).
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

SUITE = """name: table-bench
samples: 1
limit: 20
tasks:
  - task: emergent_misalignment
    params: {questions: core}
    conditions: [neutral]
"""
#: stand-ins for a clone's epoch and uuid in the template's JSON (nothing else reads so)
_EPOCH, _UUID = 987_654_321_987, "uuid-of-the-clone-to-come"
_EPOCH_TEXT, _UUID_TEXT = str(_EPOCH).encode(), json.dumps(_UUID).encode()[1:-1]
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


def _marked(item: dict[str, Any]) -> bytes:
    """``item`` as JSON with its epoch and uuid as markers to replace per clone."""
    return json.dumps({**item, "epoch": _EPOCH, "uuid": _UUID}).encode()


def _clone(marked: bytes, epoch: int, uuid: str) -> bytes:
    return marked.replace(_EPOCH_TEXT, str(epoch).encode()).replace(_UUID_TEXT, uuid.encode())


def clone_logs(template: Path, run_dir: Path, samples: int, checkpoints: list[str]) -> None:
    """``samples`` samples in all, one log per checkpoint, under ``run_dir/logs`` (no
    manifest: a folder of logs, as ``table`` reads an eval-set's output).

    Each clone is written as Inspect writes a finished ``.eval`` log (the entries of
    ``inspect_ai/log/_recorders/eval.py``; deflated, which Inspect reads as it reads its
    own zstd entries, at a fraction of the cost of zstd's 12 threads an entry):
    the template's samples under new epochs and uuids (their JSON copied, the two fields
    replaced), a sample summary for each, the template's reductions and its header with
    the checkpoint's model, eval id, epochs and sample counts. Copying the JSON instead of
    writing through Inspect makes a million samples minutes instead of an hour;
    ``tests/test_bench_table_logs.py`` checks that Inspect reads a clone as such a log.
    """
    import inspect_ai._util.zipfile  # noqa: F401  (zstd entries of the template)

    from alignprobe.measures import METADATA_KEY

    with zipfile.ZipFile(template) as archive:
        header = json.loads(archive.read("header.json"))
        summaries = json.loads(archive.read("summaries.json"))
        reductions = archive.read("reductions.json")
        originals = [
            json.loads(archive.read(f"samples/{s['id']}_epoch_{s['epoch']}.json"))
            for s in summaries
        ]
    per = samples // len(checkpoints)
    if per == 0 or per % len(originals):
        # a log short of its planned samples (dataset x epochs) is an unfinished run
        raise ValueError(
            f"{samples} samples: each of {len(checkpoints)} logs needs a multiple of "
            f"{len(originals)} (the template's samples)"
        )
    marked = [(s["id"], _marked(s)) for s in originals]
    marked_summaries = [_marked(s) for s in summaries]
    logs = run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(checkpoints):
        clone = copy.deepcopy(header)
        spec = clone["eval"]
        spec["model"] = f"openai-api/vllm/{name}"
        spec["eval_id"] = f"bench{index:04d}{name}"  # readers key a log's samples on it
        spec["config"]["epochs"] = per // len(originals)
        spec["metadata"][METADATA_KEY] = {
            **spec["metadata"].get(METADATA_KEY, {}),
            "checkpoint": name,
        }
        if clone.get("results") is not None:
            clone["results"].update(total_samples=per, completed_samples=per)
        path = logs / f"{name}_emergent-misalignment.eval"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            parts = []
            for k in range(per):
                # a sample is one sample_id x epoch, and a uuid of its own (readers key on it)
                epoch, uuid = k // len(originals) + 1, f"{name}-{k}"
                sample_id, sample = marked[k % len(originals)]
                archive.writestr(
                    f"samples/{sample_id}_epoch_{epoch}.json", _clone(sample, epoch, uuid)
                )
                parts.append(_clone(marked_summaries[k % len(originals)], epoch, uuid))
            archive.writestr("summaries.json", b"[" + b",".join(parts) + b"]")
            archive.writestr("reductions.json", reductions)
            archive.writestr("header.json", json.dumps(clone))
