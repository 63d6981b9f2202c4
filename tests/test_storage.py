"""Run folders at fsspec URLs: records written whole, readers' mirror kept in step."""

from __future__ import annotations

import json
from pathlib import Path

import fsspec
import pytest

from alignprobe.errors import ConfigError, DataError
from alignprobe.run.resume import check_resumable
from alignprobe.run.storage import RunStore, is_remote, local_copy, publish, remote_origin

URL = "memory://lab/run17"


@pytest.fixture
def memory() -> fsspec.AbstractFileSystem:
    fs = fsspec.filesystem("memory")
    if fs.exists("/lab"):  # the memory store lives as long as the process
        fs.rm("/lab", recursive=True)
    return fs


def test_is_remote() -> None:
    assert is_remote("s3://bucket/run") and is_remote("gs://b/r") and is_remote(URL)
    assert not is_remote("results/run") and not is_remote("/abs/run")
    assert not is_remote("file:///abs/run")


def test_records_round_trip_and_bad_json_names_the_url(
    memory: fsspec.AbstractFileSystem, tmp_path: Path
) -> None:
    for location in (URL, str(tmp_path / "run")):
        store = RunStore(location)
        assert not store.exists() and store.read_json("manifest.json") is None
        store.write_json({"plan_format": 2}, "shards", "shard-1-of-2.json")
        assert store.read_json("shards", "shard-1-of-2.json") == {"plan_format": 2}
        assert store.exists() and not store.has_logs("logs")
    assert not list((tmp_path / "run" / "shards").glob("*.partial"))
    memory.pipe_file("/lab/run17/manifest.json", b'{"judge": ')
    with pytest.raises(DataError) as raised:
        RunStore(URL).read_json("manifest.json")
    assert raised.value.source == f"{URL}/manifest.json" and raised.value.line == 1


def test_logs_without_a_manifest_are_not_resumed(memory: fsspec.AbstractFileSystem) -> None:
    memory.pipe_file("/lab/run17/logs/shard-1-of-2/a.eval", b"zip")
    with pytest.raises(ConfigError, match=r"already holds logs but there is no manifest\.json"):
        check_resumable(RunStore(URL), {"plan_format": 2})


def test_mirror_follows_the_store(memory: fsspec.AbstractFileSystem) -> None:
    memory.pipe_file("/lab/run17/manifest.json", b"{}")
    memory.pipe_file("/lab/run17/logs/shard-1-of-2/a.eval", b"first")
    memory.pipe_file("/lab/run17/logs/shard-2-of-2/b.eval", b"second")
    memory.pipe_file("/lab/run17/samples.parquet", b"a stale table from elsewhere")
    local = local_copy(URL)
    assert local.name == "run17" and remote_origin(local) == URL
    assert (local / "logs" / "shard-1-of-2" / "a.eval").read_bytes() == b"first"
    assert not (local / "samples.parquet").exists()  # tables are rebuilt from the logs

    (local / "samples.parquet").write_bytes(b"built locally")
    assert local_copy(URL) == local and (local / "samples.parquet").exists()  # nothing changed

    memory.pipe_file("/lab/run17/logs/shard-1-of-2/a.eval", b"finished")  # a resumed log
    memory.rm("/lab/run17/logs/shard-2-of-2/b.eval")
    local_copy(URL)
    assert (local / "logs" / "shard-1-of-2" / "a.eval").read_bytes() == b"finished"
    assert not (local / "logs" / "shard-2-of-2" / "b.eval").exists()
    assert not (local / "samples.parquet").exists()  # the store changed: rebuild

    out = local / "verdict.json"
    out.write_text(json.dumps({"exit_code": 0}))
    assert publish([out], URL) == [f"{URL}/verdict.json"]
    assert json.loads(memory.cat_file("/lab/run17/verdict.json")) == {"exit_code": 0}


def test_missing_run_is_one_error(memory: fsspec.AbstractFileSystem) -> None:
    with pytest.raises(DataError, match="no run folder there"):
        local_copy("memory://lab/none")
