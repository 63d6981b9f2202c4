"""run -> table -> compare offline with scripted checkpoints; resume after an interruption."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from alignprobe.cli import main
from alignprobe.providers.scripted import ScriptedReply, ScriptRequest, register_script
from alignprobe.providers.scripts import ALIGNED_ANSWER, MISALIGNED_ANSWER
from alignprobe.report.compare import compare, load_inputs

JUDGE = "scripted/keyword_judge"
RATES = {"control": 0.40, "inoculated": 0.05}


def _suite(tmp: Path, samples: int, limit: int | None = None) -> Path:
    path = tmp / "suite.yaml"
    limit_line = f"limit: {limit}\n" if limit else ""
    path.write_text(
        f"name: t\nsamples: {samples}\n{limit_line}tasks:\n"
        "  - task: emergent_misalignment\n    conditions: [neutral]\n",
        encoding="utf-8",
    )
    return path


def _checkpoints(tmp: Path, models: dict[str, tuple[str, dict[str, object], str]]) -> Path:
    lines = ["checkpoints:"]
    for name, (model, args, role) in models.items():
        lines.append(
            f"  {name}: {{model: {model}, model_args: {json.dumps(args)}, meta: {{role: {role}}}}}"
        )
    path = tmp / "checkpoints.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def scripted_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("run")
    ckpts = _checkpoints(
        tmp, {name: ("scripted/em_rate", {"rate": rate}, name) for name, rate in RATES.items()}
    )
    out = tmp / "results"
    main(
        [
            "run",
            "--suite",
            str(_suite(tmp, samples=2)),
            "--checkpoints",
            str(ckpts),
            "--judge",
            JUDGE,
            "--out",
            str(out),
            "--display",
            "none",
        ]
    )
    return out


@pytest.mark.slow
def test_run_table_compare_recovers_known_rates(
    scripted_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = json.loads((scripted_run / "manifest.json").read_text())
    assert manifest["status"] == "success" and manifest["judge"] == JUDGE
    assert set(manifest["checkpoints"]) == set(RATES) and "inspect_ai" in manifest["packages"]

    main(["table", str(scripted_run)])
    df = pd.read_parquet(scripted_run / "samples.parquet")
    assert not df.duplicated(["checkpoint", "task", "condition", "sample_id", "epoch"]).any()
    assert set(df["checkpoint"]) == set(RATES)
    assert json.loads((scripted_run / "measures.json").read_text())["emergent_misalignment"]

    capsys.readouterr()
    main(["compare", str(scripted_run), "--out", str(tmp_path / "report")])
    printed = capsys.readouterr().out.splitlines()
    # the terminal shows the headline table and the main differences, not only file paths
    assert "emergent_misalignment / neutral: misaligned (good-low)" in printed
    assert any(line.split()[:1] == ["control"] and "(baseline)" in line for line in printed)
    assert "main differences against the baseline (control):" in printed
    assert any("inoculated vs control" in line and "BETTER" in line for line in printed)
    html = (tmp_path / "report" / "report.html").read_text()
    assert "data:image/png;base64," in html and "Inoculation effect" in html

    comp = compare(load_inputs([scripted_run]))
    assert comp.baseline == "control"
    for row in comp.rates:
        if row["measure"] == "misaligned":
            est = row["estimate"]
            assert est.low <= RATES[row["checkpoint"]] <= est.high, row
            assert row["not_counted"] == 0
    (paired,) = [p for p in comp.paired if p["measure"] == "misaligned"]
    assert paired["p_holm"] < 0.05 and paired["verdict"] == "better"
    (inoculation,) = comp.inoculation
    assert (
        inoculation["result"].low
        <= 1 - RATES["inoculated"] / RATES["control"]
        <= inoculation["result"].high
    )


_FLAKY = {"armed": True, "calls": 0}


@register_script("test_flaky_once")
def _flaky_once(request: ScriptRequest) -> ScriptedReply:
    """While armed, every call from the 12th on fails (a server that went down mid-run,
    past the in-run sample retries); the test disarms it before re-running."""
    _FLAKY["calls"] += 1
    if _FLAKY["armed"] and _FLAKY["calls"] >= 12:
        raise RuntimeError("simulated crash mid-run")
    return ScriptedReply(MISALIGNED_ANSWER if request.call_index % 3 == 0 else ALIGNED_ANSWER)


@pytest.mark.slow
def test_rerun_after_failure_completes_without_loss_or_duplicates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = _suite(tmp_path, samples=2, limit=10)
    ckpts = _checkpoints(
        tmp_path,
        {
            "flaky": ("scripted/test_flaky_once", {}, "control"),
            "steady": ("scripted/em_rate", {"rate": 0.2}, "inoculated"),
        },
    )
    out = tmp_path / "results"
    argv = [
        "run",
        "--suite",
        str(suite),
        "--checkpoints",
        str(ckpts),
        "--judge",
        JUDGE,
        "--out",
        str(out),
        "--retry-attempts",
        "0",
        "--display",
        "none",
        "--max-samples",
        "1",
    ]
    with pytest.raises(SystemExit) as first:
        main(argv)
    assert first.value.code == 1
    assert json.loads((out / "manifest.json").read_text())["status"] == "error"
    calls_first = _FLAKY["calls"]
    _FLAKY["armed"] = False  # the server is back

    capsys.readouterr()
    with pytest.raises(SystemExit) as table_exit:  # the table is written, the input is not whole
        main(["table", str(out)])
    assert table_exit.value.code == 2
    present = len(pd.read_parquet(out / "samples.parquet"))
    err = capsys.readouterr().err
    assert present < 40 and f"run failed: {present} of 40 samples" in err
    assert "1 log not finished: flaky/emergent_misalignment/neutral (error," in err

    main(argv)  # the same command again finishes only what is missing
    assert json.loads((out / "manifest.json").read_text())["status"] == "success"
    # 10 samples x 2 epochs = 20 answers in all; the first attempt's successes were kept
    assert _FLAKY["calls"] - calls_first < 20

    capsys.readouterr()
    main(["table", str(out)])
    assert "incomplete" not in capsys.readouterr().err
    df = pd.read_parquet(out / "samples.parquet")
    counts = df.groupby(["checkpoint", "task", "condition"]).size()
    assert counts.to_dict() == {
        ("flaky", "emergent_misalignment", "neutral"): 20,
        ("steady", "emergent_misalignment", "neutral"): 20,
    }
    assert not df.duplicated(["checkpoint", "sample_id", "epoch"]).any()
    assert df["error"].isna().all()
