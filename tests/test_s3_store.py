"""A run in an S3 bucket: two shards in parallel, then table and compare from the bucket.

The bucket lives in a local S3-compatible server (moto's server mode) on 127.0.0.1 with
fake credentials; no real host is reached.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from alignprobe.cli import main
from tests.test_shards import content, run_args, write_plan

pytest.importorskip("moto.server", reason="moto[server] (dev extra) is not installed")
s3fs = pytest.importorskip("s3fs")

BUCKET = "alignprobe-runs"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def s3_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A moto S3 server on loopback and the variables that point boto/s3fs at it."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("moto") / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
    }
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("the local S3 server did not start")
                time.sleep(0.2)
        with pytest.MonkeyPatch.context() as patch:
            for key, value in env.items():
                patch.setenv(key, value)
            s3fs.S3FileSystem(skip_instance_cache=True).mkdir(BUCKET)
            yield env
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.mark.slow
@pytest.mark.network
def test_two_shards_in_parallel_into_a_bucket_equal_one_process(
    s3_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in s3_env.items():
        monkeypatch.setenv(key, value)
    suite, checkpoints = write_plan(tmp_path)
    url = f"s3://{BUCKET}/run17"

    # two machines: two processes, started together, one shared store
    env = {**os.environ, **s3_env}
    command = [sys.executable, "-m", "alignprobe.cli", *run_args(suite, checkpoints, url)]
    shards = [
        subprocess.Popen(
            [*command, "--shard", f"{index}/2"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for index in (1, 2)
    ]
    # meanwhile the reference: the whole plan in one process, on local disk
    single = tmp_path / "single"
    main(run_args(suite, checkpoints, str(single)))
    for shard in shards:
        output, _ = shard.communicate(timeout=600)
        assert shard.returncode == 0, output

    bucket = s3fs.S3FileSystem(skip_instance_cache=True)
    stored = sorted(p.split("/run17/")[1] for p in bucket.find(f"{BUCKET}/run17"))
    assert "manifest.json" in stored
    assert {"shards/shard-1-of-2.json", "shards/shard-2-of-2.json"} <= set(stored)
    assert sum(p.startswith("logs/shard-1-of-2/") and p.endswith(".eval") for p in stored) == 2
    assert sum(p.startswith("logs/shard-2-of-2/") and p.endswith(".eval") for p in stored) == 2

    # the table from the bucket is the one-process table, written back into the bucket
    capsys.readouterr()
    main(["table", url])
    assert f"wrote {url}/samples.parquet" in capsys.readouterr().out
    bucket.invalidate_cache()
    with bucket.open(f"{BUCKET}/run17/samples.parquet", "rb") as handle:
        from_bucket = pd.read_parquet(handle)
    main(["table", str(single)])
    expected = pd.read_parquet(single / "samples.parquet")
    pd.testing.assert_frame_equal(content(from_bucket), content(expected))
    assert from_bucket["run"].iloc[0] == "run17"
    assert (from_bucket.groupby("checkpoint")["misaligned"].sum() > 0).to_dict() == {
        "drifted": True,
        "steady": False,
    }

    # compare reads the bucket and may write its report there; a complete run: no banner
    main(["compare", url, "--out", f"s3://{BUCKET}/reports/run17"])
    bucket.invalidate_cache()
    report = bucket.cat_file(f"{BUCKET}/reports/run17/report.md").decode()
    assert "drifted" in report and "INCOMPLETE" not in report
    assert bucket.isfile(f"{BUCKET}/reports/run17/report.html")


def test_unreadable_store_is_one_error_line(
    s3_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, value in s3_env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SystemExit) as exited:
        main(["table", f"s3://{BUCKET}/no-such-run"])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"alignprobe: error: s3://{BUCKET}/no-such-run: no run folder there "
        "(nothing under this URL)"
    )


@pytest.mark.network
def test_table_reader_reads_a_log_in_the_bucket(
    s3_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The table's ``.eval`` reader takes a URL as Inspect's reader does (the log fetched
    whole first): the samples are those of the same log on disk."""
    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval
    from inspect_ai.dataset import Sample

    from alignprobe.results.eval_samples import read_samples

    for key, value in s3_env.items():
        monkeypatch.setenv(key, value)
    task = Task(dataset=[Sample(input=f"question {n}", id=n) for n in range(3)], epochs=2)
    [log] = inspect_eval(task, model="mockllm/model", log_dir=str(tmp_path), display="none")
    url = f"s3://{BUCKET}/logs/{Path(log.location).name}"
    s3fs.S3FileSystem(skip_instance_cache=True).put_file(log.location, url)
    remote, local = read_samples(url), read_samples(log.location)
    assert [(s.id, s.epoch) for s in remote] == [(n, e) for e in (1, 2) for n in range(3)]
    assert [s.model_dump() for s in remote] == [s.model_dump() for s in local]


@pytest.mark.network
def test_a_log_cut_short_in_the_bucket_is_set_aside_not_lost(
    s3_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``run`` does before Inspect lists a bucket's logs: an unreadable log is found
    and moved out of ``logs/`` into ``damaged-logs/``, whole."""
    from alignprobe.run.status import DAMAGED_LOGS, LOGS, read_log_headers
    from alignprobe.run.storage import RunStore

    for key, value in s3_env.items():
        monkeypatch.setenv(key, value)
    url = f"s3://{BUCKET}/cut-short"
    cut = b"PK\x03\x04" + b"\x00" * 500  # a zip's start, never finished
    bucket = s3fs.S3FileSystem(skip_instance_cache=True)
    bucket.pipe_file(f"{BUCKET}/cut-short/{LOGS}/2026-01-01T00-00-00_task_abc.eval", cut)
    headers, unreadable = read_log_headers(f"{url}/{LOGS}")
    assert headers == [] and len(unreadable) == 1
    moved = RunStore(url).set_aside(unreadable[0][0], DAMAGED_LOGS)
    assert moved == f"{url}/{DAMAGED_LOGS}/2026-01-01T00-00-00_task_abc.eval"
    bucket.invalidate_cache()
    assert bucket.cat_file(moved.removeprefix("s3://")) == cut
    assert read_log_headers(f"{url}/{LOGS}") == ([], [])
