"""``alignprobe run --until-decided``: rounds in one run folder, a sequential gate look after
each, stop once decided (exit 0 pass / 1 regression / 2 cannot decide)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from inspect_ai.log import list_eval_logs, read_eval_log

from tests.cli import alignprobe

JUDGE = "scripted/keyword_judge"
LOOKS = 3
PER_ROUND = 60  # answers per round: 60 paraphrases of the core questions, 1 answer each


def _suite(folder: Path, samples: int) -> Path:
    path = folder / f"suite-{samples}.yaml"
    path.write_text(
        f"name: rounds\nsamples: {samples}\nlimit: {PER_ROUND}\ntasks:\n"
        "  - task: emergent_misalignment\n    params: {questions: core}\n"
        "    conditions: [neutral]\n",
        encoding="utf-8",
    )
    return path


def _checkpoints(folder: Path, name: str, rate: float) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(
        f"checkpoints:\n  {name}: {{model: scripted/em_rate, model_args: {{rate: {rate}}}}}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished baseline run: 3 answers per paraphrase, misaligned 2% of the time."""
    folder = tmp_path_factory.mktemp("baseline")
    out = folder / "run"
    args = ["run", "--suite", _suite(folder, 3), "--checkpoints"]
    code = alignprobe(*args, _checkpoints(folder, "base", 0.02), "--judge", JUDGE, "--out", out)
    assert code == 0
    return out


def until_decided(tmp: Path, baseline: Path, rate: float, *extra: str) -> tuple[int, Path]:
    out = tmp / "candidate"
    code = alignprobe(
        "run",
        "--suite",
        _suite(tmp, 1),
        "--checkpoints",
        _checkpoints(tmp, "cand", rate),
        "--judge",
        JUDGE,
        "--out",
        out,
        "--until-decided",
        "--baseline",
        baseline,
        "--max-looks",
        str(LOOKS),
        *extra,
    )
    return code, out


def _epochs(out: Path) -> list[int]:
    (info,) = list_eval_logs(str(out / "logs"))
    log = read_eval_log(info)
    return sorted({sample.epoch for sample in log.samples or []})


def test_clear_regression_stops_at_the_first_look(
    baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = until_decided(tmp_path, baseline, 0.4)
    assert code == 1
    record = json.loads((out / "sequential.json").read_text())
    assert [look["look"] for look in record["looks"]] == [1]
    assert record["decision"] == {
        "look": 1,
        "of": LOOKS,
        "status": "fail",
        "exit_code": 1,
        "summary": "regression in emergent_misalignment",
    }
    (check,) = record["looks"][0]["checks"]
    assert check["z"] >= check["efficacy"] > 3  # O'Brien-Fleming: a strict first bound
    assert _epochs(out) == [1]  # one round was run, no more
    verdict = json.loads((out / "verdict.json").read_text())
    assert (verdict["look"], verdict["of"], verdict["exit_code"]) == (1, LOOKS, 1)
    assert "decided at look 1 of 3: FAIL, exit 1" in capsys.readouterr().out

    # the decision is final: the same command reports it and runs nothing
    before = sorted(p.name for p in (out / "logs").iterdir())
    assert until_decided(tmp_path, baseline, 0.4)[0] == 1
    assert sorted(p.name for p in (out / "logs").iterdir()) == before
    assert "already decided at look 1 of 3: FAIL" in capsys.readouterr().out


@pytest.mark.slow
def test_no_change_keeps_every_round_and_passes(baseline: Path, tmp_path: Path) -> None:
    code, out = until_decided(tmp_path, baseline, 0.02)
    assert code == 0
    record = json.loads((out / "sequential.json").read_text())
    looks = record["looks"]
    decided = record["decision"]["look"]
    # every look before the decision asked for another round; the last one passed (by
    # futility before the last look, or at the last look, where every check is decided)
    assert [look["exit_code"] for look in looks] == [3] * (decided - 1) + [0]
    assert decided > 1  # a 2% rate is never called safe on the first 60 answers
    # one log holds every round's answers, each round its own epoch
    assert _epochs(out) == list(range(1, decided + 1))
    answers = [look["checks"][0]["candidate_answers_per_question"] for look in looks]
    assert answers == pytest.approx([answers[0] * k for k in range(1, decided + 1)])
    for look in looks:  # every look's full verdict is kept
        verdict = json.loads(Path(look["verdict"]).read_text())
        check = next(c for c in verdict["checks"] if c["name"] == "emergent_misalignment")
        assert check["candidate"]["rows"] == PER_ROUND * look["look"]
        assert check["look_fraction"] == pytest.approx(look["look"] / LOOKS)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["rounds"] == decided and manifest["until_decided"]["looks"] == LOOKS

    # interrupted after the last round ran but before its look was recorded: the same
    # command resumes there (the logs already hold that round) and decides the same way
    (out / "sequential.json").write_text(
        json.dumps({"plan": record["plan"], "looks": looks[:-1]}), encoding="utf-8"
    )
    assert until_decided(tmp_path, baseline, 0.02)[0] == 0
    resumed = json.loads((out / "sequential.json").read_text())
    assert resumed["decision"] == record["decision"]
    assert [look["look"] for look in resumed["looks"]] == list(range(1, decided + 1))
    assert _epochs(out) == list(range(1, decided + 1))  # nothing was run twice


def test_a_plain_run_cannot_resume_a_sequential_folder(
    baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = until_decided(tmp_path, baseline, 0.4)
    assert code == 1
    capsys.readouterr()
    plain = ["run", "--suite", _suite(tmp_path, 1), "--checkpoints"]
    plain += [_checkpoints(tmp_path, "cand", 0.4), "--judge", JUDGE, "--out", out]
    assert alignprobe(*plain) == 2
    assert "--until-decided plan was" in capsys.readouterr().err
    # another baseline is another experiment too
    assert until_decided(tmp_path, tmp_path / "candidate", 0.4)[0] == 2
    err = capsys.readouterr().err
    assert "records another --until-decided plan (baseline was" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--baseline", "x"], "--baseline goes with --until-decided"),
        (["--max-looks", "3"], "--max-looks goes with --until-decided"),
        (["--binding-futility"], "--binding-futility goes with --until-decided"),
        (["--until-decided", "--baseline", "B", "--spending", "hsd:x"], "hsd:<gamma>"),
        (["--until-decided"], "--until-decided needs --baseline"),
        (["--until-decided", "--baseline", "nowhere"], "nowhere: not found"),
        (["--until-decided", "--baseline", "B", "--max-looks", "1"], "--max-looks"),
        (["--until-decided", "--baseline", "B", "--candidate-checkpoint", "zz"], "no checkpoint"),
    ],
)
def test_bad_until_decided_options_are_one_line_errors(
    baseline: Path,
    tmp_path: Path,
    extra: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["run", "--suite", _suite(tmp_path, 1), "--checkpoints"]
    args += [_checkpoints(tmp_path, "cand", 0.4), "--judge", JUDGE, "--out", tmp_path / "o"]
    extra = [str(baseline) if a == "B" else a for a in extra]
    assert alignprobe(*args, *extra) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert not (tmp_path / "o").exists()  # nothing written
