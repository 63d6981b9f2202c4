"""The table's own ``.eval`` reader (:mod:`alignprobe.results.eval_samples`) and the
log-by-log table build give the table Inspect's reader gives.

The reference here is the table as it was built on ``inspect_ai.analysis.samples_df``
(full samples, every log read by Inspect), from the same logs: real runs of three task
families over two epochs (one checkpoint answers with a reasoning block), an external
task, a run killed midway, and a copy of a run whose logs were edited the way Inspect
writes what the runs lack (errored samples, long input strings stored as attachments, a
sample logged twice, a ``.json`` log).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from inspect_ai.analysis import samples_df
from inspect_ai.log import EvalSample, read_eval_log, write_eval_log

from alignprobe.cli import main
from alignprobe.results.eval_samples import read_samples
from alignprobe.results.external_rows import read_external_rows, unread_keys_in_rows
from alignprobe.results.sample_rows import (
    MEASURES_JSON,
    ROW_GROUP_ROWS,
    SCHEMA_KEY,
    TABLE,
    TABLE_CSV,
    _columns,
    _expand,
    log_counts,
    measures_json,
    measures_of,
    order_columns,
    select_logs,
)
from alignprobe.results.table_build import write_run_table
from alignprobe.run.status import LOGS, assess
from alignprobe.run.status import SCHEMA_KEY as STATUS_SCHEMA_KEY
from tests.test_external_tasks import external_run  # noqa: F401  (a fixture)
from tests.test_incomplete_run import killed_run, offline  # noqa: F401  (fixtures)

SUITE = """name: mixed
samples: 2
limit: 3
tasks:
  - task: emergent_misalignment
    conditions: [neutral]
  - task: goals_question
  - task: corrigibility_freeform
"""
#: ``goals_covert`` answers with a reasoning block before its text
CHECKPOINTS = """checkpoints:
  base: {model: scripted/em_rate, model_args: {rate: 0.4}}
  cand: {model: scripted/goals_covert}
"""
ORDER = ["checkpoint", "task", "condition", "sample_id", "epoch"]


def reference_table(run_dir: Path, out: Path) -> None:
    """The table as ``samples_df`` built it (Inspect reads every sample in full)."""
    logs = select_logs(run_dir / LOGS)
    measures = measures_of(logs)
    columns = _columns()
    frames = [samples_df([log.location], columns=columns, full=True, quiet=True) for log in logs]
    raw = pd.concat(frames, ignore_index=True).drop(columns=["eval_id", "sample_id"])
    raw = raw.rename(columns={"sample_key": "sample_id"})
    names = list(dict.fromkeys(m.name for ms in measures.values() for m in ms))
    unread = unread_keys_in_rows(raw, logs)
    df = _expand(read_external_rows(raw, logs), names)
    df.insert(0, "run", run_dir.resolve().name)
    df["epoch"] = df["epoch"].astype(int)
    df = df.sort_values(ORDER, kind="stable")
    df = order_columns(df.reset_index(drop=True), measures)
    present = df["log"].value_counts().to_dict()
    answered = df.loc[df["error"].isna(), "log"].value_counts().to_dict()
    status = assess(run_dir, log_counts(logs, present, answered))
    table = pa.Table.from_pandas(df, preserve_index=False)
    extra = {
        SCHEMA_KEY: json.dumps(measures_json(measures)).encode(),
        STATUS_SCHEMA_KEY: status.model_dump_json().encode() if status else b"",
    }
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **extra})
    out.mkdir(parents=True)
    pq.write_table(table, out / TABLE, row_group_size=ROW_GROUP_ROWS)
    df.to_csv(out / TABLE_CSV, index=False)
    (out / "unread.json").write_text(json.dumps([u.message() for u in unread]))


def assert_same_table(run_dir: Path, tmp: Path) -> pd.DataFrame:
    reference_table(run_dir, tmp / "reference")
    built = write_run_table(run_dir, tmp / "new")
    expected = pq.read_table(tmp / "reference" / TABLE)
    got = pq.read_table(tmp / "new" / TABLE)
    assert got.schema.metadata[STATUS_SCHEMA_KEY] == expected.schema.metadata[STATUS_SCHEMA_KEY]
    assert got.schema.equals(expected.schema, check_metadata=True)
    assert got.equals(expected)
    csv = (tmp / "new" / TABLE_CSV).read_text("utf-8")
    assert csv == (tmp / "reference" / TABLE_CSV).read_text("utf-8")
    unread = json.loads((tmp / "reference" / "unread.json").read_text())
    assert [u.message() for u in built.unread] == unread
    assert (tmp / "new" / MEASURES_JSON).is_file()
    assert not [p for p in (tmp / "new").iterdir() if p.name.startswith(".")]  # spill gone
    return expected.to_pandas()


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory: pytest.TempPathFactory, offline: None) -> Path:  # noqa: F811
    folder = tmp_path_factory.mktemp("mixed")
    (folder / "suite.yaml").write_text(SUITE, encoding="utf-8")
    (folder / "ck.yaml").write_text(CHECKPOINTS, encoding="utf-8")
    args = ["--suite", folder / "suite.yaml", "--checkpoints", folder / "ck.yaml"]
    args += ["--judge", "scripted/keyword_judge", "--out", folder / "run", "--display", "none"]
    main(["run", *map(str, args)])
    return folder / "run"


def _rewrite(log: Path, edit: dict[str, bytes | None], extra: list[tuple[str, bytes]]) -> None:
    """``log`` with entries replaced (``None``: left out) and entries appended."""
    import inspect_ai._util.zipfile as inspect_zip

    with zipfile.ZipFile(log) as source:
        entries = [(info.filename, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(log, "w", **inspect_zip.zipfile_compress_kwargs) as target:
        for name, data in entries:
            data = edit.get(name, data)
            if data is not None:
                target.writestr(name, data)
        for name, data in extra:
            target.writestr(name, data)


@pytest.fixture(scope="module")
def edited_run(mixed_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mixed run's logs with what Inspect writes that the runs above do not."""
    run = tmp_path_factory.mktemp("edited") / "run"
    shutil.copytree(mixed_run, run)
    logs = sorted((run / LOGS).glob("*.eval"))
    with zipfile.ZipFile(logs[0]) as archive:
        names = sorted(n for n in archive.namelist() if n.startswith("samples/"))
        samples = {n: json.loads(archive.read(n)) for n in names}
    first, second, third = names[:3]
    # an errored sample: no scores, an error message
    samples[first]["error"] = {
        "message": "RuntimeError('boom')",
        "traceback": "t",
        "traceback_ansi": "t",
    }
    samples[first]["scores"] = None
    # long input text stored once as an attachment (as older Inspect wrote long strings)
    for message in samples[second]["input"]:
        samples[second]["attachments"]["f00d"] = message["content"]
        message["content"] = "attachment://f00d"
    # a sample logged twice (a requeued sample): the later entry is the sample
    relogged = dict(samples[third], output={**samples[third]["output"], "completion": "again"})
    relogged["output"]["choices"] = [
        {**c, "message": {**c["message"], "content": "again"}}
        for c in samples[third]["output"]["choices"]
    ]
    _rewrite(
        logs[0],
        {first: json.dumps(samples[first]).encode(), second: json.dumps(samples[second]).encode()},
        [(third, json.dumps(relogged).encode())],
    )
    # Inspect's other format: a .json log (read by samples_df)
    as_json = logs[-1].with_suffix(".json")
    write_eval_log(read_eval_log(str(logs[-1])), str(as_json))
    logs[-1].unlink()
    return run


def test_samples_are_inspects_samples_without_the_transcript(edited_run: Path) -> None:
    log = sorted((edited_run / LOGS).glob("*.eval"))[0]
    ours = read_samples(str(log))
    theirs = read_eval_log(str(log), resolve_attachments="full").samples or []
    assert [(s.id, s.epoch) for s in ours] == [(s.id, s.epoch) for s in theirs]
    kept = {"events", "events_data", "timelines", "messages", "error_retries", "store"}
    for mine, inspects in zip(ours, theirs, strict=True):
        assert mine.model_dump(exclude=kept) == inspects.model_dump(exclude=kept)
        assert mine.events == [] and mine.messages == []
    assert any(s.error is not None for s in ours)
    assert any(s.output.completion == "again" for s in ours)
    assert not any("attachment://" in json.dumps(s.model_dump(mode="json")["input"]) for s in ours)


def test_mixed_run(mixed_run: Path, tmp_path: Path) -> None:
    df = assert_same_table(mixed_run, tmp_path)
    assert df["task"].nunique() == 3 and df["checkpoint"].nunique() == 2
    assert set(df["epoch"]) == {1, 2}
    assert df[ORDER].astype(str).apply(tuple, axis=1).is_monotonic_increasing


def test_edited_run(edited_run: Path, tmp_path: Path) -> None:
    df = assert_same_table(edited_run, tmp_path)
    assert df["error"].notna().sum() == 1
    assert (df["output"] == "again").sum() == 1
    assert any(str(log).endswith(".json") for log in df["log"].unique())


def test_external_task(external_run: Path, tmp_path: Path) -> None:  # noqa: F811
    assert_same_table(external_run, tmp_path)


def test_interrupted_run(killed_run: Path, tmp_path: Path) -> None:  # noqa: F811
    assert_same_table(killed_run, tmp_path)


def test_rows_come_out_in_row_groups_of_the_table(mixed_run: Path, tmp_path: Path) -> None:
    """Several (checkpoint, task) groups still make one row group per 64k rows."""
    write_run_table(mixed_run, tmp_path)
    assert pq.ParquetFile(tmp_path / TABLE).metadata.num_row_groups == 1


def test_each_log_is_read_once_and_alone(
    mixed_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Logs are read one after another, a sample at a time (each dropped once its row is
    made; a log's rows are spilled before the next log is read), each log once."""
    import alignprobe.results.eval_samples as eval_samples
    import alignprobe.results.sample_rows as sample_rows

    calls: list[str] = []
    held: list[int] = []
    real = eval_samples.iter_samples

    def spy(location: str) -> Iterator[EvalSample]:
        calls.append(location)
        held.append(0)
        for sample in real(location):
            held[-1] += 1
            yield sample

    monkeypatch.setattr(sample_rows, "iter_samples", spy)  # where the rows look it up
    built = write_run_table(mixed_run, tmp_path)
    assert calls == [log.location for log in select_logs(mixed_run / LOGS)]
    assert sum(built.rows.values()) == sum(held) == pq.read_metadata(tmp_path / TABLE).num_rows


def test_a_build_stopped_midway_leaves_the_old_table_and_no_partial_file(
    mixed_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C (or a full disk) while the table is written: the table there before stays
    as it was, and neither a ``.partial`` file nor the spill folder is left behind."""
    import alignprobe.results.table_build as table_build

    write_run_table(mixed_run, tmp_path)
    before = (tmp_path / TABLE).read_bytes()
    real = table_build.TableWriter.write

    def stop_after_first(
        self: table_build.TableWriter, rows: pa.Table, frame: object = None
    ) -> None:
        real(self, rows)
        raise KeyboardInterrupt

    monkeypatch.setattr(table_build.TableWriter, "write", stop_after_first)
    with pytest.raises(KeyboardInterrupt):
        write_run_table(mixed_run, tmp_path)
    assert (tmp_path / TABLE).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [TABLE, TABLE_CSV, MEASURES_JSON, "run_status.json"]
    )


def test_a_damaged_sample_is_skipped_named_and_the_run_reads_as_incomplete(
    mixed_run: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """One sample entry of a readable log cut short (bit rot, a hand edit): the other
    samples are still read, the damaged one is named, and the run is not complete."""
    run = tmp_path / "run"
    shutil.copytree(mixed_run, run)
    complete = write_run_table(run, tmp_path / "complete")
    log = sorted((run / LOGS).glob("*.eval"))[0]
    with zipfile.ZipFile(log) as archive:
        name = sorted(n for n in archive.namelist() if n.startswith("samples/"))[0]
        raw = archive.read(name)
    _rewrite(log, {name: raw[: len(raw) // 2]}, [])

    built = write_run_table(run, tmp_path / "damaged")
    assert f"skipped an unreadable sample {name} (JSONDecodeError" in caplog.text
    assert log.name in caplog.text
    assert complete.status is not None and complete.status.complete
    assert built.status is not None and not built.status.complete
    assert sum(built.rows.values()) == sum(complete.rows.values()) - 1
