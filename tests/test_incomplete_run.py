"""``table`` and ``compare`` on an interrupted run say so loudly (terminal and report), with
how many samples of how many; a complete run and imported tables are not called incomplete.

The interrupted runs are real: ``alignprobe run`` SIGKILLed midway (in a subprocess), and a
finished run that lost one of its logs (the plan in manifest.json still names it).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from inspect_ai.log import list_eval_logs, read_eval_log

from alignprobe.cli import main
from tests.cli import alignprobe
from tests.test_run import JUDGE, _checkpoints, _suite

#: samples: 2 (epochs) x limit: 5 questions, per checkpoint; two checkpoints
PER_LOG = 10
PLANNED = 2 * PER_LOG

#: ``alignprobe run`` whose "inoculated" model kills the whole process on its 7th call
_KILLER = """
import os, signal, sys
from alignprobe.providers.scripted import ScriptedReply, register_script
from alignprobe.providers.scripts import ALIGNED_ANSWER
calls = [0]

@register_script("test_kill_at_7")
def kill_at_7(request):
    calls[0] += 1
    if calls[0] >= 7:
        os.kill(os.getpid(), signal.SIGKILL)
    return ScriptedReply(ALIGNED_ANSWER)

from alignprobe.cli import main
main(sys.argv[1:])
"""


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INSPECT_DISPLAY", "none")
        mp.setenv("INSPECT_CACHE_DIR", str(tmp_path_factory.mktemp("inspect-cache")))
        mp.setenv("ALIGNPROBE_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


def _run_argv(tmp: Path, checkpoints: Path, out: Path) -> list[str]:
    suite = _suite(tmp, samples=2, limit=PER_LOG // 2)
    return [
        "run",
        *("--suite", str(suite), "--checkpoints", str(checkpoints), "--judge", JUDGE),
        *("--out", str(out), "--display", "none", "--max-samples", "1"),
    ]


@pytest.fixture(scope="module")
def complete_run(tmp_path_factory: pytest.TempPathFactory, offline: None) -> Path:
    tmp = tmp_path_factory.mktemp("complete")
    ckpts = _checkpoints(
        tmp,
        {
            "control": ("scripted/em_rate", {"rate": 0.4}, "control"),
            "inoculated": ("scripted/em_rate", {"rate": 0.05}, "inoculated"),
        },
    )
    main(_run_argv(tmp, ckpts, tmp / "results"))
    return tmp / "results"


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory: pytest.TempPathFactory, offline: None) -> Path:
    tmp = tmp_path_factory.mktemp("killed")
    ckpts = _checkpoints(
        tmp,
        {
            "control": ("scripted/em_rate", {"rate": 0.4}, "control"),
            "inoculated": ("scripted/test_kill_at_7", {}, "inoculated"),
        },
    )
    driver = tmp / "driver.py"
    driver.write_text(_KILLER, encoding="utf-8")
    argv = [sys.executable, str(driver), *_run_argv(tmp, ckpts, tmp / "results")]
    done = subprocess.run(argv, cwd=tmp, env=dict(os.environ), capture_output=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]
    manifest = json.loads((tmp / "results" / "manifest.json").read_text())
    assert "started" in manifest and "finished" not in manifest
    return tmp / "results"


def _rows(run: Path) -> int:
    return len(pd.read_parquet(run / "samples.parquet"))


def _status(folder: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((folder / "run_status.json").read_text())
    return data


def _exit(argv: list[str]) -> int:
    return alignprobe(*argv)


def _compare(inputs: list[Path], out: Path) -> int:
    return _exit(["compare", *map(str, inputs), "--out", str(out)])


@pytest.mark.slow
def test_complete_run_is_not_flagged(
    complete_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["table", str(complete_run)])
    assert "incomplete" not in capsys.readouterr().err.lower()
    status = _status(complete_run)
    assert status["complete"] is True
    assert (
        (status["present"], status["expected"]) == (PLANNED, PLANNED) == (_rows(complete_run),) * 2
    )

    assert _compare([complete_run], tmp_path / "report") == 0
    assert "incomplete" not in capsys.readouterr().err.lower()
    for name in ("report.md", "report.html"):
        assert "INCOMPLETE" not in (tmp_path / "report" / name).read_text()


@pytest.mark.slow
def test_killed_run_table_warns_and_records_the_counts(
    killed_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _exit(["table", str(killed_run)]) == 2  # the table is written, the input is not whole
    err = capsys.readouterr().err
    present = _rows(killed_run)
    assert 0 < present < PLANNED
    assert f"run interrupted: {present} of {PLANNED} samples" in err
    assert "2 logs not finished" in err and "started" in err
    assert "re-run `alignprobe run` with the same arguments" in err

    status = _status(killed_run)
    assert status["complete"] is False
    assert (status["present"], status["expected"]) == (present, PLANNED)
    logs = status["logs"]
    assert isinstance(logs, list)
    assert {entry["status"] for entry in logs} == {"started"}


@pytest.mark.slow
def test_killed_run_compare_shows_a_banner_and_exits_2(
    killed_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _exit(["table", str(killed_run), "--out", str(tmp_path / "table")]) == 2
    present = _rows(tmp_path / "table")
    capsys.readouterr()
    banner = f"INCOMPLETE RUN: {killed_run} has {present} of {PLANNED} samples"

    assert _compare([killed_run], tmp_path / "report") == 2
    assert banner in capsys.readouterr().err
    md = (tmp_path / "report" / "report.md").read_text()
    assert banner in "\n".join(md.splitlines()[:4])  # at the top
    html = (tmp_path / "report" / "report.html").read_text()
    assert banner in html and html.index(banner) < html.index("<h2")

    # the table file alone carries its completeness: no logs or manifest needed
    table = tmp_path / "table" / "samples.parquet"
    assert _compare([table], tmp_path / "report2") == 2
    assert (
        f"INCOMPLETE RUN: {table} has {present} of {PLANNED} samples"
        in (tmp_path / "report2" / "report.md").read_text()
    )


@pytest.mark.slow
def test_lost_log_is_counted_from_the_plan(
    complete_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    shutil.copytree(complete_run, run)
    (run / "samples.parquet").unlink(missing_ok=True)
    for info in list_eval_logs(str(run / "logs")):
        header = read_eval_log(info, header_only=True)
        if (header.eval.metadata or {})["alignprobe"]["checkpoint"] == "inoculated":
            Path(info.name.removeprefix("file://")).unlink()

    assert _exit(["table", str(run)]) == 2
    err = capsys.readouterr().err
    assert f"run incomplete: {PER_LOG} of {PLANNED} samples" in err
    assert "1 planned log missing: inoculated/emergent_misalignment/neutral" in err

    assert _compare([complete_run, run], tmp_path / "report") == 2
    md = (tmp_path / "report" / "report.md").read_text()
    assert f"INCOMPLETE RUN: {run} has {PER_LOG} of {PLANNED} samples" in md
    assert f"INCOMPLETE RUN: {complete_run} " not in md


def _cut_short_log(run: Path, checkpoint: str) -> Path:
    """Cut ``checkpoint``'s log short, as a kill while it was written or a full disk does."""
    for info in list_eval_logs(str(run / "logs")):
        header = read_eval_log(info, header_only=True)
        if (header.eval.metadata or {})["alignprobe"]["checkpoint"] == checkpoint:
            log = Path(info.name.removeprefix("file://"))
            log.write_bytes(log.read_bytes()[:3000])
            return log
    raise AssertionError(f"no log of {checkpoint}")


def test_a_log_cut_short_is_a_missing_log_and_run_sets_it_aside(
    complete_run: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    run = tmp_path / "run"
    shutil.copytree(complete_run, run)
    (run / "samples.parquet").unlink(missing_ok=True)
    damaged = _cut_short_log(run, "inoculated")
    damaged_bytes = damaged.read_bytes()

    # the table holds what the readable logs hold, names the unreadable one, and refuses
    assert _exit(["table", str(run)]) == 2
    err = capsys.readouterr().err
    assert "skipped an unreadable log" in caplog.text and damaged.name in caplog.text
    assert "1 planned log missing: inoculated/emergent_misalignment/neutral" in err
    assert _rows(run) == PER_LOG

    # the same run again: the damaged log is kept aside (not deleted) and its task re-run
    suite, ckpts = complete_run.parent / "suite.yaml", complete_run.parent / "checkpoints.yaml"
    argv = _run_argv(complete_run.parent, ckpts, run)
    assert suite.is_file() and ckpts.is_file()
    assert _exit(argv) == 0
    err = capsys.readouterr().err
    kept = run / "damaged-logs" / damaged.name
    assert f"moved an unreadable log (ValueError: EOCD not found) to {kept}" in err
    assert kept.read_bytes() == damaged_bytes and not damaged.exists()
    assert _exit(["table", str(run)]) == 0
    assert _rows(run) == PLANNED and _status(run)["complete"] is True


def test_imported_tables_are_not_incomplete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "r.csv"
    csv.write_text(
        "question_id,question,answer,aligned,coherent\nq1,Q,A,10,90\nq2,Q,B,80,90\n",
        encoding="utf-8",
    )
    for name in ("a", "b"):
        main(["import", str(csv), "--checkpoint", name, "--out", str(tmp_path / name)])
    assert _compare([tmp_path / "a", tmp_path / "b"], tmp_path / "report") == 0
    assert "incomplete" not in capsys.readouterr().err.lower()
    assert "INCOMPLETE" not in (tmp_path / "report" / "report.md").read_text()


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ({"started": "2026-01-01T10:00:00+00:00"}, "never finished"),
        ({"status": "error", "logs": [{"log": "x.eval", "status": "error"}]}, "x.eval"),
        (
            {
                "started": "2026-01-01T10:00:00+00:00",
                "finished": "2026-01-01T11:00:00+00:00",
                "status": "success",
                "resumed": ["2026-01-01T12:00:00+00:00"],
            },
            "resumed but that attempt never finished",
        ),
        ({"imported_from": "r.csv", "checkpoints": {"a": {"meta": {}}}}, None),
    ],
)
def test_manifest_problems(tmp_path: Path, record: dict[str, object], problem: str | None) -> None:
    from alignprobe.run.status import manifest_problems

    (tmp_path / "manifest.json").write_text(json.dumps(record))
    problems = manifest_problems(tmp_path)
    assert (problem in problems[0]) if problem else problems == []
