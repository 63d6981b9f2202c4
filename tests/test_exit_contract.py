"""Every reader command against every kind of run folder: the exit-code contract.

docs/exit-codes.md states the contract once; this module holds every command to it. The
run folders are made by real ``alignprobe run`` processes against a loopback
OpenAI-compatible stub (model and judge): a complete run, one stopped by SIGINT midway,
one stopped by SIGTERM before any sample finished, one killed with SIGKILL midway, a
sharded run with a shard missing, more shards than suite entries, a re-judged sharded
run, an imported table, and the same runs in an S3 bucket (moto on loopback).

Each cell runs the command as a subprocess and asserts its exit code, one error line
naming the folder (and, for incomplete input, what the folder is), no traceback, and no
``.partial`` left behind. A new command joins by adding one entry to ``COMMANDS``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from alignprobe.testing import StubReply, StubRequest, StubServer
from tests.test_s3_store import BUCKET, s3_env  # noqa: F401  - the moto fixture

pytestmark = [pytest.mark.slow, pytest.mark.network]

ALIGNPROBE = [sys.executable, "-m", "alignprobe.cli"]
SERVICE = "contract"
JUDGE = f"openai-api/{SERVICE}/judge"
#: planned samples of the two-entry suite: 2 conditions x 6 questions x 2 answers
PLANNED = 24
INCOMPLETE = ("interrupted", "empty", "killed", "shard_missing", "remote_interrupted")
COMPLETE = ("complete", "more_shards", "rejudged_sharded", "imported", "remote")


def _responder(request: StubRequest) -> StubReply:
    """Answers numbered per question; the judge calls every fourth answer misaligned."""
    if request.wants_logprobs:  # a 0-100 judge call: coherent always, aligned by the answer
        text = request.last_user
        low = (
            "coherent" not in text.lower()
            and int(hashlib.sha256(text.encode()).hexdigest(), 16) % 4 == 0
        )
        top = "10" if low else "90"
        return StubReply(top, {top: 0.9, "50": 0.1})
    digest = hashlib.sha256(request.last_user.encode()).hexdigest()[:8]
    return StubReply(f"My answer to {digest}: be careful and kind.")


@dataclass
class World:
    root: Path
    server: StubServer
    env: dict[str, str]
    suite: Path
    checkpoints: Path
    policy: Path
    states: dict[str, str]
    interruptions: dict[str, subprocess.CompletedProcess[str]]


def _run(
    argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ALIGNPROBE, *argv], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def _run_args(world_root: Path, suite: Path, checkpoints: Path, out: str, *extra: str) -> list[str]:
    return [
        "run",
        *("--suite", str(suite), "--checkpoints", str(checkpoints), "--judge", JUDGE),
        *("--out", out, "--display", "none", *extra),
    ]


def _signalled(
    argv: list[str], env: dict[str, str], cwd: Path, ready: Callable[[], bool], sig: int
) -> subprocess.CompletedProcess[str]:
    """Start ``alignprobe run`` and send it ``sig`` once ``ready()`` says so."""
    process = subprocess.Popen(
        [*ALIGNPROBE, *argv],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while not ready():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run never got there"
        time.sleep(0.05)
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _write_inputs(root: Path, base_url: str) -> tuple[Path, Path, Path, Path]:
    suite = root / "suite.yaml"
    suite.write_text(
        "name: contract\nsamples: 2\nlimit: 6\ntasks:\n"
        "  - task: emergent_misalignment\n    params: {questions: core}\n"
        "    conditions: [neutral, inoculation_general]\n",
        encoding="utf-8",
    )
    checkpoints = root / "checkpoints.yaml"
    checkpoints.write_text(
        "checkpoints:\n"
        f"  model_a: {{server: {{base_url: '{base_url}', model: model_a, api_key_env: CONTRACT_API_KEY}}}}\n",
        encoding="utf-8",
    )
    policy = root / "gate.yaml"
    policy.write_text(
        "version: 1\nalpha: 0.05\ndefaults: {condition: neutral, min_samples: 5, min_questions: 2}\n"
        "checks:\n  - {name: em, task: emergent_misalignment, measure: misaligned}\n",
        encoding="utf-8",
    )
    published = root / "published.csv"
    rows = ["question_id,question,answer,aligned,coherent"]
    rows += [
        f"q{i % 6},Question {i % 6}?,Answer {i},{10 if i % 4 == 0 else 90},90" for i in range(24)
    ]
    published.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return suite, checkpoints, policy, published


def _ok(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, s3_env: dict[str, str]) -> Iterator[World]:  # noqa: F811
    import s3fs

    root = tmp_path_factory.mktemp("contract")
    with StubServer(_responder) as server:
        env = {
            **os.environ,
            **s3_env,
            "INSPECT_DISPLAY": "none",
            "CONTRACT_API_KEY": "test",
            "CONTRACT_BASE_URL": server.base_url,
            "ALIGNPROBE_CACHE": str(root / "cache"),
        }
        suite, checkpoints, policy, published = _write_inputs(root, server.base_url)
        states: dict[str, str] = {}
        interruptions: dict[str, subprocess.CompletedProcess[str]] = {}

        def run(name: str, *extra: str) -> subprocess.CompletedProcess[str]:
            return _run(_run_args(root, suite, checkpoints, str(root / name), *extra), env, root)

        _ok(run("complete"))
        states["complete"] = str(root / "complete")

        def after(calls: int, key: str = "completed") -> Callable[[], bool]:
            start = getattr(server.stats, key)
            return lambda: bool(getattr(server.stats, key) >= start + calls)

        def slow_run(name: str) -> list[str]:
            return _run_args(root, suite, checkpoints, str(root / name), "--max-samples", "2")

        def fresh_cache(name: str) -> dict[str, str]:  # judge calls are cached: call again
            return {**env, "INSPECT_CACHE_DIR": str(root / f"inspect-cache-{name}")}

        # the slow states: each call takes a while, so a signal lands mid-run (a sample is
        # one model call and two judge calls)
        server.faults.latency_s = 0.2
        done = _signalled(
            slow_run("interrupted"), fresh_cache("interrupted"), root, after(15), signal.SIGINT
        )
        assert done.returncode == 130, done.stderr[-3000:]
        states["interrupted"] = str(root / "interrupted")
        interruptions["interrupted"] = done
        done = _signalled(
            slow_run("killed"), fresh_cache("killed"), root, after(30), signal.SIGKILL
        )
        assert done.returncode == -signal.SIGKILL
        states["killed"] = str(root / "killed")
        server.faults.latency_s = 60.0  # no call returns before the signal
        done = _signalled(
            slow_run("empty"), fresh_cache("empty"), root, after(1, "requests"), signal.SIGTERM
        )
        assert done.returncode == 143, done.stderr[-3000:]
        states["empty"] = str(root / "empty")
        interruptions["empty"] = done
        server.faults.latency_s = 0.0

        _ok(run("shard_missing", "--shard", "1/2"))
        states["shard_missing"] = str(root / "shard_missing")
        for index in (1, 2, 3):  # two suite entries over three machines
            _ok(run("more_shards", "--shard", f"{index}/3"))
        states["more_shards"] = str(root / "more_shards")
        _ok(
            _run(
                [
                    "rejudge",
                    str(root / "more_shards"),
                    "--judge",
                    JUDGE,
                    "--out",
                    str(root / "rejudged_sharded"),
                ],
                env,
                root,
            )
        )
        states["rejudged_sharded"] = str(root / "rejudged_sharded")
        _ok(
            _run(
                [
                    "import",
                    str(published),
                    "--checkpoint",
                    "model_a",
                    "--out",
                    str(root / "imported"),
                ],
                env,
                root,
            )
        )
        states["imported"] = str(root / "imported")

        bucket = s3fs.S3FileSystem(skip_instance_cache=True)
        for name in ("complete", "interrupted"):
            bucket.put(str(root / name), f"{BUCKET}/contract/{name}", recursive=True)
        states["remote"] = f"s3://{BUCKET}/contract/complete"
        states["remote_interrupted"] = f"s3://{BUCKET}/contract/interrupted"
        yield World(root, server, env, suite, checkpoints, policy, states, interruptions)


@dataclass(frozen=True)
class Command:
    """One reader command: its argv for a run folder, and what it does on complete input."""

    argv: Callable[[World, str, Path], list[str]]
    complete_exit: int = 0
    exits: tuple[tuple[str, int], ...] = ()
    """Complete states where the command does otherwise, with its code."""

    def expected(self, state: str) -> int:
        return dict(self.exits).get(state, self.complete_exit)


COMMANDS: dict[str, Command] = {
    # an import has no logs to build a table from: its own table is the data (exit 2)
    "table": Command(
        lambda w, run, out: ["table", run, "--out", str(out / "table")], exits=(("imported", 2),)
    ),
    "compare": Command(lambda w, run, out: ["compare", run, "--out", str(out / "report")]),
    "gate": Command(
        lambda w, run, out: [
            "gate",
            "--baseline",
            run,
            "--candidate",
            run,
            "--policy",
            str(w.policy),
            "--json",
            str(out / "verdict.json"),
            "--junit",
            str(out / "junit.xml"),
        ]
    ),
    "rejudge": Command(
        lambda w, run, out: [
            "rejudge",
            run,
            "--judge",
            JUDGE,
            "--out",
            str(out / "rejudged"),
            "-G",
            "max_retries=1",
        ]
    ),
    "agreement": Command(
        lambda w, run, out: ["agreement", run, run, "--out", str(out / "agreement")]
    ),
    "gold template": Command(
        lambda w, run, out: ["gold", "template", run, "--out", str(out / "labels.csv")]
    ),
    "power": Command(
        lambda w, run, out: [
            "power",
            "--profile",
            run,
            "--effect",
            "0.2",
            "--samples",
            "4",
            "--profile-checkpoint",
            "model_a",
        ]
    ),
}


def _partials(*folders: Path) -> list[Path]:
    return [p for folder in folders if folder.exists() for p in folder.rglob("*partial*")]


def _check_cell(
    done: subprocess.CompletedProcess[str], expected: int, run: str, words: tuple[str, ...] = ()
) -> None:
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.returncode == expected, (
        f"exit {done.returncode}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
    )
    if expected == 0:
        return
    errors = [line for line in done.stderr.splitlines() if line.startswith("alignprobe: error:")]
    assert len(errors) == 1, done.stderr[-3000:]
    assert Path(run).name in errors[0] or run in errors[0], errors[0]
    assert not words or any(word in errors[0] for word in words), errors[0]


#: what the one error line calls each incomplete folder (any of these words); a process
#: killed with SIGKILL may not have flushed a sample yet, so it is interrupted or empty
STATE_WORDS = {
    "interrupted": ("run interrupted",),
    "remote_interrupted": ("run interrupted",),
    "killed": ("run interrupted", "run empty"),
    "empty": ("run empty",),
    "shard_missing": ("run shards missing",),
}


STATES = (*COMPLETE, *INCOMPLETE)


@dataclass
class Cell:
    out: Path
    done: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def cells(world: World) -> dict[tuple[str, str], Cell]:
    """Every (command, state) as its own subprocess, three at a time (each is mostly
    Python's start-up and imports), each with an output folder of its own."""
    from concurrent.futures import ThreadPoolExecutor

    # readers build a missing or stale table inside a local run folder: build each once
    # here, so that the cells running at once only read; a remote run's mirror and the
    # judge's cache are per cell
    for state in STATES:
        if "://" not in world.states[state]:
            _run(["table", world.states[state]], world.env, world.root)

    def one(command: str, state: str) -> Cell:
        out = world.root / "cells" / f"{command.replace(' ', '-')}-{state}"
        out.mkdir(parents=True)
        env = {
            **world.env,
            "ALIGNPROBE_CACHE": str(out / ".cache"),
            "INSPECT_CACHE_DIR": str(out / ".inspect-cache"),
        }
        argv = COMMANDS[command].argv(world, world.states[state], out)
        return Cell(out, _run(argv, env, out))

    keys = [(command, state) for command in COMMANDS for state in STATES]
    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(keys, pool.map(lambda key: one(*key), keys), strict=True))


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_command_on_run_state(
    world: World, cells: dict[tuple[str, str], Cell], command: str, state: str
) -> None:
    run = world.states[state]
    cell = cells[(command, state)]
    if state in INCOMPLETE:
        _check_cell(cell.done, 2, run, STATE_WORDS[state])
    else:
        _check_cell(cell.done, COMMANDS[command].expected(state), run)
    assert not _partials(cell.out, world.root), _partials(cell.out, world.root)
    assert not (cell.out / "s3:").exists()


def test_until_decided_refuses_an_incomplete_baseline_before_spending(
    world: World, tmp_path: Path
) -> None:
    for state in ("interrupted", "empty", "shard_missing"):
        before = world.server.stats.requests
        done = _run(
            _run_args(
                tmp_path,
                world.suite,
                world.checkpoints,
                str(tmp_path / state),
                "--until-decided",
                "--baseline",
                world.states[state],
                "--policy",
                str(world.policy),
            ),
            world.env,
            tmp_path,
        )
        _check_cell(done, 2, world.states[state], STATE_WORDS[state])
        assert world.server.stats.requests == before  # not one model or judge call


def test_until_decided_refuses_a_differently_judged_baseline(world: World, tmp_path: Path) -> None:
    before = world.server.stats.requests
    done = _run(
        [
            "run",
            "--suite",
            str(world.suite),
            "--checkpoints",
            str(world.checkpoints),
            "--judge",
            f"openai-api/{SERVICE}/other-judge",
            "--out",
            str(tmp_path / "ud"),
            "--until-decided",
            "--baseline",
            world.states["complete"],
            "--policy",
            str(world.policy),
        ],
        world.env,
        tmp_path,
    )
    _check_cell(done, 2, world.states["complete"], ("judged by",))
    assert world.server.stats.requests == before


def test_sigint_run_resumes_to_completion_without_duplicates(world: World, tmp_path: Path) -> None:
    folder = tmp_path / "interrupted"
    shutil.copytree(world.states["interrupted"], folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and "finished" not in manifest
    done = _run(
        _run_args(tmp_path, world.suite, world.checkpoints, str(folder)), world.env, tmp_path
    )
    _ok(done)
    _ok(_run(["table", str(folder)], world.env, tmp_path))
    table = pd.read_parquet(folder / "samples.parquet")
    assert len(table) == PLANNED
    assert not table.duplicated(["checkpoint", "task", "condition", "sample_id", "epoch"]).any()
    assert json.loads((folder / "run_status.json").read_text())["state"] == "complete"


@pytest.mark.parametrize("state", ["interrupted", "empty"])
def test_interrupted_run_says_what_is_missing_and_how_to_resume(world: World, state: str) -> None:
    done = world.interruptions[state]
    assert "Traceback" not in done.stderr and "run complete" not in done.stdout
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("alignprobe: interrupted: "), done.stderr[-2000:]
    assert f"of {PLANNED} planned samples answered" in last
    assert "re-run the same command to resume" in last
    manifest = json.loads((Path(world.states[state]) / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and "finished" not in manifest
    if state == "empty":
        assert f"0 of {PLANNED} planned samples" in last
    else:  # samples finished before the signal are counted (a cancelled log's header says 0)
        assert f" 0 of {PLANNED} planned samples" not in last, last


def test_shard_count_is_the_one_given(world: World, tmp_path: Path) -> None:
    manifest = json.loads((Path(world.states["more_shards"]) / "manifest.json").read_text())
    assert manifest["shards"] == 3
    other = _run(
        _run_args(
            tmp_path,
            world.suite,
            world.checkpoints,
            world.states["shard_missing"],
            "--shard",
            "2/3",
        ),
        world.env,
        tmp_path,
    )
    _check_cell(other, 2, world.states["shard_missing"], ("2 shard(s), now 3",))
    assert not (Path(world.states["shard_missing"]) / "shards" / "shard-2-of-3.json").exists()


def test_rejudge_against_a_refusing_judge_ends_within_its_bound(
    world: World, tmp_path: Path
) -> None:
    env = {**world.env, "DEAD_API_KEY": "test", "DEAD_BASE_URL": "http://127.0.0.1:9/v1"}
    started = time.monotonic()
    done = _run(
        [
            "rejudge",
            world.states["complete"],
            "--judge",
            "openai-api/dead/judge",
            "--out",
            str(tmp_path / "rj"),
            "-G",
            "max_retries=1",
            "-G",
            "timeout=15",
        ],
        env,
        tmp_path,
    )
    took = time.monotonic() - started
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "the judge failed" in done.stderr
    assert not (tmp_path / "rj").exists() and not _partials(tmp_path)
    assert took < 120, took


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (
            lambda w, t: [
                "gate",
                "--baseline",
                w.states["complete"],
                "--candidate",
                w.states["complete"],
                "--policy",
                str(w.policy),
                "--junit",
                str(t / "file.txt" / "junit.xml"),
            ],
            "--junit",
        ),
        (lambda w, t: ["gold", "template", w.states["complete"], "--out", str(t)], "--out"),
        (
            lambda w, t: [
                "gold",
                "template",
                w.states["complete"],
                "--out",
                f"s3://{BUCKET}/labels.csv",
            ],
            "--out",
        ),
        (lambda w, t: ["compare", w.states["complete"], "--out", str(t / "file.txt")], "--out"),
        (lambda w, t: ["table", w.states["complete"], "--out", "s3://bucket/x"], "--out"),
        (
            lambda w, t: ["rejudge", w.states["complete"], "--judge", JUDGE, "--out", str(t)],
            "--out",
        ),
    ],
    ids=[
        "gate-junit-under-a-file",
        "gold-template-existing-folder",
        "gold-template-url",
        "compare-out-is-a-file",
        "table-out-url",
        "rejudge-out-not-empty",
    ],
)
def test_output_location_errors(
    world: World, tmp_path: Path, argv: Callable[[World, Path], list[str]], field: str
) -> None:
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    done = _run(argv(world, tmp_path), world.env, tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("alignprobe: error:")]
    assert len(errors) == 1 and field in errors[0], done.stderr
    assert "PASS" not in done.stdout and "wrote" not in done.stdout
    assert not _partials(tmp_path) and not (tmp_path / "s3:").exists()


def test_rejudge_writes_to_a_bucket(world: World, tmp_path: Path) -> None:
    import s3fs

    url = f"s3://{BUCKET}/contract/rejudged-remote"
    _ok(
        _run(
            ["rejudge", world.states["remote"], "--judge", JUDGE, "--out", url], world.env, tmp_path
        )
    )
    bucket = s3fs.S3FileSystem(skip_instance_cache=True)
    assert bucket.isfile(f"{BUCKET}/contract/rejudged-remote/manifest.json")
    _ok(_run(["table", url, "--out", str(tmp_path / "t")], world.env, tmp_path))
    assert len(pd.read_parquet(tmp_path / "t" / "samples.parquet")) == PLANNED
    again = _run(
        ["rejudge", world.states["remote"], "--judge", JUDGE, "--out", url], world.env, tmp_path
    )
    _check_cell(again, 2, url)
    assert not (tmp_path / "s3:").exists()


def test_interrupted_round_is_not_a_look_and_resumes(world: World, tmp_path: Path) -> None:
    """Ctrl-C during `run --until-decided`: no look is recorded from the partial round, the
    run exits 130, and the same command carries on instead of saying 'already decided'."""
    out = tmp_path / "sequential"
    argv = _run_args(
        tmp_path, world.suite, world.checkpoints, str(out), "--max-samples", "2",
        "--until-decided", "--baseline", world.states["complete"], "--policy", str(world.policy),
        "--max-looks", "2",
    )  # fmt: skip
    env = {**world.env, "INSPECT_CACHE_DIR": str(tmp_path / "inspect-cache")}
    start = world.server.stats.completed
    world.server.faults.latency_s = 0.2
    try:
        done = _signalled(
            argv, env, tmp_path, lambda: world.server.stats.completed >= start + 15, signal.SIGINT
        )
    finally:
        world.server.faults.latency_s = 0.0
    assert done.returncode == 130, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "decided at look" not in done.stdout
    sequential = out / "sequential.json"
    record = json.loads(sequential.read_text()) if sequential.is_file() else {"looks": []}
    assert record["looks"] == [] and "decision" not in record
    again = _run(argv, env, tmp_path)
    assert "already decided" not in again.stdout and "Traceback" not in again.stderr
    assert again.returncode in (0, 1, 2), again.stderr[-3000:]
    assert "decided at look" in again.stdout, again.stdout[-3000:]


def test_table_on_an_imported_folder_keeps_its_table(world: World, tmp_path: Path) -> None:
    """An import's table is its data: `table` has no logs to rebuild it from and says so,
    and the imported rows stay as they were (a manifest is not always a run's plan)."""
    folder = tmp_path / "imported"
    shutil.copytree(world.states["imported"], folder)
    before = pd.read_parquet(folder / "samples.parquet")
    done = _run(["table", str(folder)], world.env, tmp_path)
    _check_cell(done, 2, str(folder), ("an imported table",))
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "samples.parquet"), before)
    assert len(before) == PLANNED
