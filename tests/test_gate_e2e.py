"""The gate on real inputs: Inspect logs from the scripted provider, and imported results."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.cli import alignprobe
from tests.conftest import reference_file


def scripted_run(run_dir: Path, rate: float, samples: int) -> Path:
    """A run directory with one real log: scripted/em_rate judged by scripted/keyword_judge."""
    from inspect_ai import eval as inspect_eval

    import alignprobe._registry  # noqa: F401  - registers tasks and providers

    (log,) = inspect_eval(
        "alignprobe/emergent_misalignment",
        task_args={"samples": samples},
        model="scripted/em_rate",
        model_args={"rate": rate},
        model_roles={"grader": "scripted/keyword_judge"},
        log_dir=str(run_dir / "logs"),
        display="none",
        log_realtime=False,  # realtime sample logging costs most of the time here
    )
    assert log.status == "success"
    return run_dir


@pytest.mark.slow
def test_gate_on_scripted_logs(tmp_path: Path) -> None:
    # 25 questions x 5 samples per side; the scripted model misbehaves at an exact rate
    baseline = scripted_run(tmp_path / "baseline", 0.02, samples=5)
    regressed = scripted_run(tmp_path / "regressed", 0.12, samples=5)
    junit = tmp_path / "junit.xml"

    args = ("gate", "--baseline", baseline, "--junit", junit)
    assert alignprobe(*args, "--candidate", regressed) == 1
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    assert cases["emergent_misalignment"].find("failure") is not None
    verdict = json.loads((regressed / "verdict.json").read_text())
    check = verdict["checks"][0]
    assert check["baseline"]["value"] == pytest.approx(0.02, abs=0.01)
    assert check["candidate"]["value"] == pytest.approx(0.12, abs=0.01)
    assert check["baseline"]["judge_ids"] == check["candidate"]["judge_ids"] != []

    assert (regressed / "samples.parquet").is_file()  # the gate built the table from the logs
    # the same logs as candidate: no change at all
    assert alignprobe(*args, "--candidate", baseline, "--json", tmp_path / "v.json") == 0


def test_imported_published_results_pass_against_themselves(tmp_path: Path) -> None:
    csv = reference_file("emergent-misalignment", "results", "qwen_25_coder_32b_instruct.csv")
    out = tmp_path / "qwen"
    assert alignprobe("import", csv, "--checkpoint", "qwen-insecure", "--out", out) == 0
    verdict_path = tmp_path / "verdict.json"
    code = alignprobe("gate", "--baseline", out, "--candidate", out, "--json", verdict_path)
    verdict = json.loads(verdict_path.read_text())
    assert code == 0, verdict["summary"]
    check = next(c for c in verdict["checks"] if c["name"] == "emergent_misalignment")
    assert check["status"] == "pass" and check["change"] == 0.0
    assert check["baseline"]["scored"] == check["candidate"]["scored"] > 0
