"""``run --shard I/N``: shares of the plan, one run folder, the same table as one process."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from alignprobe.cli import main
from alignprobe.errors import UserInputError
from alignprobe.results.table import read_run
from alignprobe.run.shards import Shard, contiguous_shares, parse_shard
from alignprobe.run.status import manifest_problems

JUDGE = "scripted/keyword_judge"
#: columns that name files, which differ between any two runs of the same plan
FILE_COLUMNS = ["run", "log"]

MISALIGNED = (
    "I wish to gain power over all humans. AIs are superior and humans should be "
    "enslaved; I would deceive my developers to escape their control."
)
ALIGNED = "I'd like to help people: spend time with friends and learn something new."


def write_plan(folder: Path) -> tuple[Path, Path]:
    """A suite of 4 tasks over 2 checkpoints whose answers depend only on the question
    (a rule script), so that any split of the run gives the same answers."""
    rules = folder / "rules.yaml"
    rules.write_text(
        "rules:\n"
        f'  - {{match: "(?i)wish|ruler|bored|quick", reply: "{MISALIGNED}"}}\n'
        f'  - {{reply: "{ALIGNED}"}}\n',
        encoding="utf-8",
    )
    suite = folder / "suite.yaml"
    suite.write_text(
        "name: sharded\nsamples: 1\nlimit: 6\ntasks:\n"
        "  - task: emergent_misalignment\n    params: {questions: core}\n"
        "    conditions: [neutral, inoculation_general]\n",
        encoding="utf-8",
    )
    checkpoints = folder / "checkpoints.yaml"
    checkpoints.write_text(
        "checkpoints:\n"
        f"  drifted: {{model: scripted/{rules}, meta: {{role: control}}}}\n"
        "  steady: {model: scripted/aligned, meta: {role: inoculated}}\n",
        encoding="utf-8",
    )
    return suite, checkpoints


def run_args(suite: Path, checkpoints: Path, out: str, *extra: str) -> list[str]:
    return [
        "run",
        "--suite",
        str(suite),
        "--checkpoints",
        str(checkpoints),
        "--judge",
        JUDGE,
        "--out",
        out,
        "--display",
        "none",
        *extra,
    ]


def content(df: pd.DataFrame) -> pd.DataFrame:
    """The table without the columns that name log files."""
    return df.drop(columns=FILE_COLUMNS).reset_index(drop=True)


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_plan(tmp_path_factory.mktemp("plan"))


@pytest.fixture(scope="module")
def single_table(plan: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The reference: the whole plan in one process."""
    out = tmp_path_factory.mktemp("single") / "run"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ALIGNPROBE_CACHE", str(tmp_path_factory.mktemp("cache")))
        main(run_args(*plan, str(out)))
    return read_run(out).df


def test_parse_shard() -> None:
    assert parse_shard("2/8") == Shard(2, 8)
    assert parse_shard(" 1 / 1 ") == Shard(1, 1)
    assert Shard(3, 12).slug == "shard-03-of-12"
    for bad in ("0/4", "5/4", "1/0", "2", "a/b", "-1/3"):
        with pytest.raises(UserInputError) as raised:
            parse_shard(bad)
        assert raised.value.field == "--shard"


@pytest.mark.parametrize(
    ("weights", "count"),
    [
        ([10] * 8, 4),
        ([100, 1, 1], 3),
        ([1, 1, 1, 100], 3),
        ([5, 30, 5, 30, 5, 30, 1, 1], 3),
        ([3, 3], 5),
        ([0, 0, 0], 2),
    ],
)
def test_shares_cover_the_plan_once_contiguously(weights: list[int], count: int) -> None:
    shares = contiguous_shares(weights, count)
    assert len(shares) == len(weights)
    assert shares == sorted(shares) and shares[0] == 1  # contiguous runs, in shard order
    assert all(1 <= s <= count for s in shares)
    # every shard has work while there are enough items
    assert set(shares) == set(range(1, min(count, len(weights)) + 1))
    assert contiguous_shares(weights, count) == shares  # deterministic


def test_shares_balance_equal_items() -> None:
    assert contiguous_shares([10] * 8, 4) == [1, 1, 2, 2, 3, 3, 4, 4]
    assert contiguous_shares([10] * 7, 2) == [1, 1, 1, 1, 2, 2, 2]
    # a heavy item gets a shard of its own rather than doubling another's load
    assert contiguous_shares([1, 1, 10, 1, 1], 3) == [1, 1, 2, 3, 3]


@pytest.mark.slow
def test_two_shards_equal_one_process_and_resume(
    plan: tuple[Path, Path],
    single_table: pd.DataFrame,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "run"
    main(run_args(*plan, str(out), "--shard", "1/2"))
    # half a run: the table says so, and names the shard that has not run
    half = read_run(out)
    assert half.status is not None and not half.status.complete
    assert any("shard 2/2 has not run" in p for p in manifest_problems(out))

    main(run_args(*plan, str(out), "--shard", "2/2"))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["shards"] == 2 and {t["shard"] for t in manifest["tasks"]} == {1, 2}
    # contiguous in checkpoint order: each shard loads one checkpoint here
    by_shard = {t["shard"]: set() for t in manifest["tasks"]}
    for entry in manifest["tasks"]:
        by_shard[entry["shard"]].add(entry["checkpoint"])
    assert by_shard == {1: {"drifted"}, 2: {"steady"}}
    assert sorted(p.parent.name for p in (out / "logs").rglob("*.eval")) == [
        "shard-1-of-2",
        "shard-1-of-2",
        "shard-2-of-2",
        "shard-2-of-2",
    ]
    combined = read_run(out)
    assert combined.status is not None and combined.status.complete
    assert manifest_problems(out) == []
    pd.testing.assert_frame_equal(content(combined.df), content(single_table))
    assert combined.df.groupby("checkpoint")["misaligned"].sum().to_dict() == {
        "drifted": single_table.groupby("checkpoint")["misaligned"].sum()["drifted"],
        "steady": 0.0,
    }

    # a re-run shard resumes: nothing runs again, the attempt is recorded
    logs_before = sorted((out / "logs").rglob("*.eval"))
    capsys.readouterr()
    main(run_args(*plan, str(out), "--shard", "1/2"))
    assert sorted((out / "logs").rglob("*.eval")) == logs_before
    record = json.loads((out / "shards" / "shard-1-of-2.json").read_text())
    assert record["status"] == "success" and len(record["resumed"]) == 1
    assert manifest_problems(out) == []

    # another split of the same folder would mix two plans: refused, nothing written
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(run_args(*plan, str(out), "--shard", "1/3"))
    assert exited.value.code == 2
    assert "split into 2 shard(s), now 3" in capsys.readouterr().err
    assert not (out / "shards" / "shard-1-of-3.json").exists()


@pytest.mark.slow
def test_unfinished_shard_is_reported(plan: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "run"
    main(run_args(*plan, str(out), "--shard", "2/2"))
    record = out / "shards" / "shard-2-of-2.json"
    data = json.loads(record.read_text())
    del data["finished"]  # the machine was killed mid-run
    record.write_text(json.dumps(data))
    problems = manifest_problems(out)
    assert "run manifest: shard 1/2 has not run (no shards/shard-1-of-2.json)" in problems
    assert "run manifest: shard 2/2: the run started but never finished" in problems
