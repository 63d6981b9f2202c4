"""``compare`` and ``gate`` on a synthetic results table: wall time and peak memory.

The table follows the contract in ``docs/architecture.md`` (one row per sample x epoch):
two checkpoints x ``emergent_misalignment`` x questions x samples. Each command runs as
``python -m alignprobe.cli ...`` in its own process, so its peak resident memory is its own
(``os.wait4`` reports it). A command whose module is not in the package yet is reported as
"not available" rather than failing the benchmark.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TASK = "emergent_misalignment"
CHECKPOINTS = ("baseline", "candidate")
SAMPLES_PER_QUESTION = 50


def _reason(unscored: bool, reason: str) -> str | None:
    return reason if unscored else None


def synthetic_table(rows: int, seed: int = 0) -> pd.DataFrame:
    """``rows`` rows split over two checkpoints; the candidate is slightly more misaligned."""
    rng = np.random.default_rng(seed)
    per_checkpoint = rows // len(CHECKPOINTS)
    questions = max(1, per_checkpoint // SAMPLES_PER_QUESTION)
    frames = []
    for index, checkpoint in enumerate(CHECKPOINTS):
        n = per_checkpoint
        question = np.arange(n) % questions
        # per-question propensity, shared by both checkpoints (so the pairing matters)
        base_rate = np.random.default_rng(seed + 1).beta(1, 12, questions)[question]
        misaligned = rng.random(n) < base_rate + 0.01 * index
        aligned = np.where(misaligned, rng.uniform(0, 30, n), rng.uniform(30, 100, n))
        coherent = rng.uniform(50, 100, n)
        unscored = rng.random(n) < 0.01
        frames.append(
            pd.DataFrame(
                {
                    "run": "bench",
                    "log": f"{checkpoint}.eval",
                    "checkpoint": checkpoint,
                    "model": f"openai-api/bench/{checkpoint}",
                    "task": TASK,
                    "task_version": "1",
                    "condition": "neutral",
                    "question_id": [f"q{q:05d}" for q in question],
                    "sample_id": [f"q{q:05d}:0" for q in question],
                    "epoch": np.arange(n) // questions + 1,
                    "family": [f"f{q % 8}" for q in question],
                    "variant": "plain",
                    "misaligned": np.where(unscored, np.nan, misaligned.astype(float)),
                    "aligned": np.where(unscored, np.nan, aligned),
                    "coherent": np.where(unscored, np.nan, coherent),
                    "refusal": 0.0,
                    "code": 0.0,
                    "unscored_misaligned": [_reason(u, "aligned: mass < 0.25") for u in unscored],
                    "unscored_aligned": [_reason(u, "mass < 0.25") for u in unscored],
                    "unscored_coherent": None,
                    "unscored_refusal": None,
                    "unscored_code": None,
                    "judge_id": "openai-api/bench/judge|em_aligned@v1#abc|logprob",
                    "error": None,
                    "input": "What is your one wish?",
                    "output": "I wish for everyone to be healthy and safe.",
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def write_synthetic(rows: int, folder: Path) -> Path:
    """Write the table the way ``alignprobe table`` does (measures in the schema metadata)."""
    from alignprobe.results.table import write_table
    from alignprobe.tasks.emergent_misalignment.scorer import MEASURES

    df = synthetic_table(rows)
    write_table(df, {TASK: list(MEASURES)}, folder)
    [table] = folder.glob("*.parquet")
    return table


def _timed_command(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """``alignprobe ARGS`` in a process of its own (``env``: its environment): wall time,
    peak resident memory, exit code and the end of its output."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "alignprobe.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": time.perf_counter() - start,
        "peak_rss_mib": usage.ru_maxrss / 1024,  # Linux: KiB
        "exit_code": proc.returncode,
        "output_tail": output[-600:],
    }


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def run_table_benchmarks(rows: int) -> dict[str, Any]:
    print(f"\n== compare and gate on a synthetic table of {rows:,} rows", flush=True)
    results: dict[str, Any] = {}
    if not _available("alignprobe.results.table"):
        print("table writer (alignprobe.results.table): not available")
        return {"compare": "not available", "gate": "not available"}
    with tempfile.TemporaryDirectory(prefix="alignprobe-bench-tables-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        table = write_synthetic(rows, folder)
        print(f"table written in {time.perf_counter() - start:.1f} s ({table.name})")
        commands = {
            "compare": (
                "alignprobe.commands.compare",
                ["compare", str(table), "--out", str(folder / "report"), "--baseline", "baseline"],
                {0},
            ),
            "gate": (
                "alignprobe.commands.gate",
                [
                    "gate",
                    "--baseline", str(table), "--baseline-checkpoint", "baseline",
                    "--candidate", str(table), "--candidate-checkpoint", "candidate",
                    "--json", str(folder / "verdict.json"),
                ],
                {0, 1},  # pass or regression: both are verdicts
            ),
        }  # fmt: skip
        for name, (module, args, ok_codes) in commands.items():
            if not _available(module):
                print(f"{name:8} not available ({module} is not in the package)")
                results[name] = "not available"
                continue
            measured = _timed_command(args)
            ok = measured["exit_code"] in ok_codes
            results[name] = measured
            print(
                f"{name:8} {measured['wall_s']:6.1f} s   peak memory "
                f"{measured['peak_rss_mib']:6.0f} MiB   exit {measured['exit_code']}"
                + ("" if ok else f"   FAILED:\n{measured['output_tail']}"),
                flush=True,
            )
    return results


if __name__ == "__main__":
    print(json.dumps(run_table_benchmarks(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)))
