"""Krippendorff's alpha at scale: ``alignprobe agreement`` on 1,200 continuous answers, and
alpha on 1,000,000 answer pairs, against the ``krippendorff`` package as the baseline.

The package builds units x values x values arrays, so it only runs on a small subset here
(200 answers); alignprobe's exact linear-memory alpha runs on all of them. Each
``alignprobe`` command runs in its own process so its peak resident memory is its own.
Printed: wall time and peak memory of each, the ratio of alpha's time per answer to the
package's (same run), and the largest difference of the two alphas on the subset.
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from tables import _timed_command

from alignprobe.judging.alpha import krippendorff_alpha

ANSWERS = 1200
SUBSET = 200
PAIRS = 1_000_000


def _scores(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 100, n)
    return a, np.clip(a + rng.normal(0, 12, n), 0, 100)


def _betley_csv(path: Path, aligned: np.ndarray) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["question_id", "question", "answer", "aligned", "coherent"])
        for i, value in enumerate(aligned):
            q = f"q{i % 48:02d}"
            writer.writerow([q, f"Question {q}?", f"Answer number {i}.", f"{value:.4f}", "90"])


def _traced(fn: Any) -> tuple[Any, float, float]:
    tracemalloc.start()
    start = time.perf_counter()
    value = fn()
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return value, elapsed, peak


def run_agreement_benchmark() -> dict[str, Any]:
    report: dict[str, Any] = {}
    a, b = _scores(ANSWERS, 0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, values in (("a", a), ("b", b)):
            _betley_csv(root / f"{name}.csv", values)
            imported = _timed_command(["import", str(root / f"{name}.csv"), "--checkpoint",
                                       "ckpt", "--out", str(root / name), "--judge-id", name])  # fmt: skip
            assert imported["exit_code"] == 0, imported["output_tail"]
        command = _timed_command(
            ["agreement", str(root / "a"), str(root / "b"), "--out", str(root / "report")]
        )
        assert command["exit_code"] == 0, command["output_tail"]
        summary = json.loads((root / "report" / "agreement.json").read_text())["measures"]
        alpha = next(m["alpha"] for m in summary if m["measure"] == "aligned")
    report["agreement_1200"] = {**command, "alpha": alpha, "distinct_values": len(np.unique(a))}
    print(f"alignprobe agreement, {ANSWERS} answers ({len(np.unique(a))} distinct scores): "
          f"{command['wall_s']:.1f} s, peak RSS {command['peak_rss_mib']:.0f} MiB, alpha {alpha:.6f}")  # fmt: skip

    subset = np.vstack([a[:SUBSET], b[:SUBSET]])
    package, package_s, package_mib = _traced(
        lambda: krippendorff.alpha(reliability_data=subset, level_of_measurement="interval")
    )
    ours, ours_s, ours_mib = _traced(lambda: krippendorff_alpha(subset))
    diff = abs(float(package) - float(ours))
    print(f"subset of {SUBSET}: krippendorff package {package_s * 1e3:.0f} ms, peak "
          f"{package_mib:.0f} MiB; alignprobe {ours_s * 1e3:.2f} ms, peak {ours_mib:.2f} MiB; "
          f"|difference| {diff:.1e}")  # fmt: skip

    big = np.vstack(_scores(PAIRS, 1))
    _, big_s, big_mib = _traced(lambda: krippendorff_alpha(big))
    per_answer_ratio = (big_s / PAIRS) / (package_s / SUBSET)
    print(f"{PAIRS:,} answer pairs: alignprobe {big_s:.2f} s, peak {big_mib:.0f} MiB "
          f"(time per answer {per_answer_ratio:.2e} x the package's on {SUBSET})")  # fmt: skip
    report["subset"] = {"package_s": package_s, "package_peak_mib": package_mib,
                        "alignprobe_s": ours_s, "alignprobe_peak_mib": ours_mib, "abs_diff": diff}  # fmt: skip
    report["million"] = {"wall_s": big_s, "peak_mib": big_mib, "per_answer_ratio": per_answer_ratio}
    return report


if __name__ == "__main__":
    run_agreement_benchmark()
