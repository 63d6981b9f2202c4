"""Logs -> the results table: one tidy row per sample x epoch (docs/architecture.md).

Built on ``inspect_ai.analysis.samples_df`` with columns that read exactly what the
contract names. Where a log directory holds several logs of the same eval-set task
(an errored attempt and its retry), only the best one is read (success first, then the
newest), so resumed runs never count a sample twice. How complete the run was (samples
planned vs read, logs not finished) travels with the table (:mod:`alignprobe.run.status`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:  # Inspect is imported where logs are read: readers of a table skip it
    from inspect_ai.log import EvalLog, EvalSample

from alignprobe.errors import DataError
from alignprobe.measures import (
    EXCLUDED_KEY,
    METADATA_KEY,
    UNSCORED_KEY,
    Measure,
    measures_from_metadata,
)
from alignprobe.results.external_rows import read_external_rows, unread_keys_in_rows
from alignprobe.results.outcomes import EXCLUDED_PREFIX, UNSCORED_PREFIX
from alignprobe.run.external_tasks import UnreadKey
from alignprobe.run.status import (
    LOGS,
    MANIFEST,
    SHARDS,
    STATUS_JSON,
    LogCount,
    RunStatus,
    assess,
    is_run_manifest,
    log_checkpoint,
    log_condition,
    log_headers,
    log_task,
    read_manifest,
    require_complete,
)
from alignprobe.run.status import SCHEMA_KEY as STATUS_SCHEMA_KEY

TABLE = "samples.parquet"
TABLE_CSV = "samples.csv"
MEASURES_JSON = "measures.json"
ROW_GROUP_ROWS = 65_536
#: parquet schema metadata key holding the measures JSON
SCHEMA_KEY = b"alignprobe.measures"

BASE_COLUMNS = [
    "run",
    "log",
    "checkpoint",
    "model",
    "task",
    "task_version",
    "condition",
    "question_id",
    "sample_id",
    "epoch",
]
TAIL_COLUMNS = ["judge_id", "error", "input", "output"]
#: ``judge_mass_<judgement>``: numeric probability mass of a 0-100 judgement (score metadata
#: ``<judgement>_judge.numeric_mass``; a sampled judge: the share of replies that were numbers)
JUDGE_MASS_PREFIX = "judge_mass_"
JUDGEMENT_SUFFIX = "_judge"
_SKIP_METADATA = {METADATA_KEY, "condition", "question_id"}

Measures = dict[str, list[Measure]]


def planned_samples(log: EvalLog) -> int | None:
    """Samples x epochs the log was planned to hold (``limit`` / ``sample_id`` applied)."""
    epochs = log.eval.config.epochs or 1
    if log.eval.dataset.sample_ids is not None:
        return len(log.eval.dataset.sample_ids) * epochs
    if log.results is not None and log.results.total_samples:
        return log.results.total_samples
    samples, limit = log.eval.dataset.samples, log.eval.config.limit
    if samples is None or log.eval.config.sample_id is not None:
        return None
    if isinstance(limit, int):
        samples = min(samples, limit)
    elif limit is not None:
        samples = max(0, min(samples, limit[1]) - limit[0])
    return samples * epochs


def log_counts(logs: list[EvalLog], df: pd.DataFrame) -> list[LogCount]:
    """Per log: identity, status, planned samples and the rows ``df`` holds from it."""
    rows = df["log"].value_counts().to_dict() if "log" in df.columns else {}
    answered = (
        df.loc[df["error"].isna(), "log"].value_counts().to_dict()
        if {"log", "error"} <= set(df.columns)
        else rows
    )
    out = []
    for log in logs:
        name = Path(log.location).name
        out.append(
            LogCount(
                checkpoint=log_checkpoint(log),
                task=log_task(log),
                condition=log_condition(log),
                log=name,
                status=log.status,
                expected=planned_samples(log),
                present=int(rows.get(name, 0)),
                answered=int(answered.get(name, 0)),
            )
        )
    return out


def select_logs(log_dir: Path) -> list[EvalLog]:
    """Headers of the logs to read: one per eval-set task identifier."""
    if not log_dir.is_dir():
        raise DataError("no logs folder (run `alignprobe run` first)", source=log_dir)
    return log_headers(log_dir)


def _first_score(sample: EvalSample) -> Any:
    scores = sample.scores or {}
    return next(iter(scores.values()), None)


def _score_values(sample: EvalSample) -> str:
    score = _first_score(sample)
    value = score.value if score is not None else None
    return json.dumps(value if isinstance(value, dict) else {})


def _all_scores(sample: EvalSample) -> str:
    """Every scorer's value (``{scorer: value}``): what another package's task is read from."""
    return json.dumps({name: score.value for name, score in (sample.scores or {}).items()})


def _reasons(sample: EvalSample) -> str:
    """``{"unscored": {measure: reason}, "excluded": {measure: label}}`` of the score."""
    score = _first_score(sample)
    meta = (score.metadata or {}) if score is not None else {}
    return json.dumps({key: meta.get(key) or {} for key in (UNSCORED_KEY, EXCLUDED_KEY)})


def _judge_id(sample: EvalSample) -> str | None:
    score = _first_score(sample)
    meta = (score.metadata or {}) if score is not None else {}
    value = meta.get("judge_id")
    return str(value) if value else None


def _judge_mass(sample: EvalSample) -> str:
    """``{judgement: numeric probability mass}`` of each 0-100 judgement in the score
    metadata (``aligned_judge`` -> ``aligned``): how sure the judge was it answered a number."""
    score = _first_score(sample)
    meta = (score.metadata or {}) if score is not None else {}
    masses = {
        key.removesuffix(JUDGEMENT_SUFFIX): value["numeric_mass"]
        for key, value in meta.items()
        if key.endswith(JUDGEMENT_SUFFIX)
        and isinstance(value, dict)
        and isinstance(value.get("numeric_mass"), int | float)
    }
    return json.dumps(masses)


def _input_text(sample: EvalSample) -> str:
    if isinstance(sample.input, str):
        return sample.input
    return "\n\n".join(f"{m.role}: {m.text}" for m in sample.input)


def _output_text(sample: EvalSample) -> str:
    return sample.output.completion if sample.output else ""


def _error(sample: EvalSample) -> str | None:
    return sample.error.message if sample.error else None


def _family_metadata(sample: EvalSample) -> str:
    scalars = {
        k: v
        for k, v in (sample.metadata or {}).items()
        if k not in _SKIP_METADATA and (v is None or isinstance(v, str | int | float | bool))
    }
    return json.dumps(scalars)


def _meta(key: str) -> Callable[[EvalSample], Any]:
    return lambda s: (s.metadata or {}).get(key)


def _columns() -> list[Any]:
    from inspect_ai.analysis import EvalColumn, SampleColumn

    sample = [
        SampleColumn("sample_key", path="id", required=True, type=str),
        SampleColumn("epoch", path="epoch", required=True),
        SampleColumn("condition", path=_meta("condition"), full=True),
        SampleColumn("question_id", path=_meta("question_id"), full=True),
        SampleColumn("_metadata", path=_family_metadata, full=True),
        SampleColumn("_scores", path=_score_values, full=True),
        SampleColumn("_all_scores", path=_all_scores, full=True),
        SampleColumn("_reasons", path=_reasons, full=True),
        SampleColumn("judge_id", path=_judge_id, full=True),
        SampleColumn("_judge_mass", path=_judge_mass, full=True),
        SampleColumn("error", path=_error, full=True),
        SampleColumn("input", path=_input_text, full=True),
        SampleColumn("output", path=_output_text, full=True),
    ]
    evals = [
        EvalColumn("log", path=lambda log: Path(log.location).name, required=True),
        EvalColumn("model", path="eval.model", required=True),
        EvalColumn("checkpoint", path=log_checkpoint),
        EvalColumn("task", path=log_task),
        EvalColumn("task_version", path=lambda log: str(log.eval.task_version)),
    ]
    return [*evals, *sample]


def _expand(raw: pd.DataFrame, measure_names: list[str]) -> pd.DataFrame:
    scores = [json.loads(s) for s in raw["_scores"]]
    reasons = [json.loads(s) for s in raw["_reasons"]]
    family = pd.DataFrame([json.loads(s) for s in raw["_metadata"]], index=raw.index)
    masses = pd.DataFrame([json.loads(s) for s in raw["_judge_mass"]], index=raw.index)
    out = raw.drop(columns=["_scores", "_reasons", "_metadata", "_all_scores", "_judge_mass"])
    for name in masses.columns:
        out[JUDGE_MASS_PREFIX + str(name)] = pd.to_numeric(masses[name], errors="coerce")
    family = family.drop(columns=[c for c in family.columns if c in out.columns])
    for name in measure_names:
        out[name] = [
            float(v[name]) if isinstance(v.get(name), int | float) else math.nan for v in scores
        ]
        for prefix, key in ((UNSCORED_PREFIX, UNSCORED_KEY), (EXCLUDED_PREFIX, EXCLUDED_KEY)):
            out[prefix + name] = [r[key].get(name) or None for r in reasons]
    return pd.concat([out, family], axis=1)


def measures_of(logs: list[EvalLog]) -> Measures:
    measures: Measures = {}
    for log in logs:
        task = log_task(log)
        found = measures_from_metadata(log.eval.metadata)
        if found and task not in measures:
            measures[task] = found
    return measures


def order_columns(df: pd.DataFrame, measures: Measures) -> pd.DataFrame:
    names = list(dict.fromkeys(m.name for ms in measures.values() for m in ms))
    measure_cols = [
        c for n in names for c in (n, UNSCORED_PREFIX + n, EXCLUDED_PREFIX + n) if c in df.columns
    ]
    fixed = [c for c in BASE_COLUMNS if c in df.columns]
    tail = [c for c in TAIL_COLUMNS if c in df.columns]
    family = [c for c in df.columns if c not in {*fixed, *measure_cols, *tail}]
    return df[fixed + family + measure_cols + tail]


@dataclass
class RunTable:
    """A results table, its measures and, when a plan stands behind it, its completeness."""

    df: pd.DataFrame
    measures: Measures
    status: RunStatus | None = None
    unread: list[UnreadKey] = field(default_factory=list)
    """Declared measures of other packages' tasks whose key no sample's score has."""


def build_table(run_dir: Path) -> tuple[pd.DataFrame, Measures]:
    """Read ``<run_dir>/logs`` into the results table and the measures of each task."""
    built = read_run(run_dir)
    return built.df, built.measures


def read_run(run_dir: Path) -> RunTable:
    """:func:`build_table` plus the run's completeness (manifest plan vs the rows read).

    A run stopped before its first sample (no logs yet, or logs without samples) is an
    empty table whose status says so, as long as a manifest says a run was planned.
    """
    # a manifest `alignprobe run` wrote (an import's manifest plans nothing: its table is
    # the data, and must never be rebuilt from logs it does not have)
    record = read_manifest(run_dir)
    planned = is_run_manifest(record)
    if not (run_dir / LOGS).is_dir() and record is not None and "imported_from" in record:
        raise DataError(
            f"an imported table (alignprobe import of {record['imported_from']}): its "
            f"{TABLE} is the table, and there are no logs to build one from",
            source=run_dir,
        )
    if not (run_dir / LOGS).is_dir() and planned:
        logs: list[EvalLog] = []
    else:
        logs = select_logs(run_dir / LOGS)
    measures = measures_of(logs)
    if not logs and not planned:
        raise DataError("no logs in the run directory", source=run_dir / LOGS)
    columns = _columns()
    raw = _read_samples([log.location for log in logs], columns) if logs else pd.DataFrame()
    if raw.empty:  # no sample finished: the columns samples_df would have made
        raw = pd.DataFrame({column.name: pd.Series(dtype=object) for column in columns})
    # samples_df adds its own uuid columns; the contract's sample_id is Inspect's sample id
    raw = raw.drop(columns=[c for c in ("eval_id", "sample_id") if c in raw.columns])
    raw = raw.rename(columns={"sample_key": "sample_id"})
    names = list(dict.fromkeys(m.name for ms in measures.values() for m in ms))
    unread = unread_keys_in_rows(raw, logs)
    raw = read_external_rows(raw, logs)
    df = _expand(raw, names)
    df.insert(0, "run", run_dir.resolve().name)
    df["epoch"] = df["epoch"].astype(int)
    df = df.sort_values(["checkpoint", "task", "condition", "sample_id", "epoch"], kind="stable")
    df = order_columns(df.reset_index(drop=True), measures)
    return RunTable(df, measures, assess(run_dir, log_counts(logs, df)), unread)


def _read_samples(locations: list[str], columns: list[Any]) -> pd.DataFrame:
    """The table's columns of every sample, one log at a time: reading a log holds its
    whole samples (messages, events) in memory, so the peak is one log's, not the run's;
    only the rows' columns accumulate."""
    from inspect_ai.analysis import samples_df

    frames = [
        samples_df([location], columns=columns, full=True, quiet=True) for location in locations
    ]
    return pd.concat(frames, ignore_index=True)


def measures_json(measures: Measures) -> dict[str, Any]:
    return {task: [m.model_dump(mode="json") for m in ms] for task, ms in measures.items()}


def write_table(
    df: pd.DataFrame, measures: Measures, out_dir: Path, status: RunStatus | None = None
) -> list[Path]:
    """``samples.parquet`` (measures and status in its schema metadata), ``samples.csv``,
    ``measures.json`` and, for a run, ``run_status.json`` (a stale one is removed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = json.dumps(measures_json(measures))
    table = pa.Table.from_pandas(df, preserve_index=False)
    extra = {SCHEMA_KEY: spec.encode()}
    if status is not None:
        extra[STATUS_SCHEMA_KEY] = status.model_dump_json().encode()
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **extra})
    paths = [out_dir / TABLE, out_dir / TABLE_CSV, out_dir / MEASURES_JSON]
    texts = [json.dumps(measures_json(measures), indent=2)]
    if status is not None:
        paths.append(out_dir / STATUS_JSON)
        texts.append(status.model_dump_json(indent=2))
    else:
        (out_dir / STATUS_JSON).unlink(missing_ok=True)
    partial = [p.with_name(p.name + ".partial") for p in paths]
    # row groups of 64k rows: a reader that wants one checkpoint (rows are in log order)
    # skips the groups whose statistics exclude it instead of reading the whole table
    pq.write_table(table, partial[0], row_group_size=ROW_GROUP_ROWS)
    df.to_csv(partial[1], index=False)
    for tmp, text in zip(partial[2:], texts, strict=True):
        tmp.write_text(text + "\n", encoding="utf-8")
    for tmp, final in zip(partial, paths, strict=True):
        tmp.replace(final)
    return paths


def read_measures(data: dict[str, Any]) -> Measures:
    return {task: [Measure.model_validate(m) for m in ms] for task, ms in data.items()}


def load_complete_table(location: Path, action: str) -> tuple[pd.DataFrame, Measures]:
    """:func:`load_table` of a run that must be complete (an imported table always is):
    anything else is refused (exit 2) saying what the folder is and what to do."""
    loaded = load_run_table(location)
    require_complete(loaded.status, location, action)
    return loaded.df, loaded.measures


def load_table(location: Path) -> tuple[pd.DataFrame, Measures]:
    """A run dir (table built on demand if missing or older than the logs) or a table file."""
    loaded = load_run_table(location)
    return loaded.df, loaded.measures


def _stale(run_dir: Path) -> bool:
    """Has a run directory no table (with its status) or one older than its logs?"""
    table, logs = run_dir / TABLE, run_dir / LOGS
    if not logs.is_dir():
        return False
    if not table.is_file() or not (run_dir / STATUS_JSON).is_file():
        return True
    # shards keep their logs in sub-folders and their records under shards/
    sources = [*logs.rglob("*.eval"), run_dir / MANIFEST, *(run_dir / SHARDS).glob("*.json")]
    built = table.stat().st_mtime
    return any(p.is_file() and p.stat().st_mtime > built for p in sources)


def _recorded_status(raw: bytes | None, sidecar: Path) -> RunStatus | None:
    if raw is None and sidecar.is_file():
        raw = sidecar.read_bytes()
    return RunStatus.model_validate_json(raw) if raw is not None else None


def load_run_table(location: Path, checkpoint: str | None = None) -> RunTable:
    """:func:`load_table` plus the completeness recorded with the table (``None``: no plan);
    ``checkpoint``: only that checkpoint's rows (a parquet table reads no others)."""
    if location.is_dir():
        table = location / TABLE
        if _stale(location):
            built = read_run(location)
            write_table(built.df, built.measures, location, built.status)
            if checkpoint is not None:
                mine = built.df[built.df["checkpoint"].astype(str) == checkpoint]
                return RunTable(mine.reset_index(drop=True), built.measures, built.status)
            return built
        if not table.is_file():
            raise DataError("neither a run directory with logs nor a table", source=location)
        location = table
    if not location.is_file():
        raise DataError("file not found", source=location)
    schema: dict[bytes, bytes] = {}
    if location.suffix == ".parquet":
        wanted = [("checkpoint", "==", checkpoint)] if checkpoint is not None else None
        parquet = pq.read_table(location, filters=wanted)
        schema = parquet.schema.metadata or {}
        df = parquet.to_pandas()
    elif location.suffix == ".csv":
        df = pd.read_csv(location)
        if checkpoint is not None:
            df = df[df["checkpoint"].astype(str) == checkpoint].reset_index(drop=True)
    else:
        raise DataError("expected a run directory, a .parquet or a .csv table", source=location)
    status = _recorded_status(schema.get(STATUS_SCHEMA_KEY), location.with_name(STATUS_JSON))
    raw = schema.get(SCHEMA_KEY)
    sidecar = location.with_name(MEASURES_JSON)
    if raw is not None:
        return RunTable(df, read_measures(json.loads(raw)), status)
    if sidecar.is_file():
        return RunTable(df, read_measures(json.loads(sidecar.read_text("utf-8"))), status)
    raise DataError(f"no {MEASURES_JSON} next to the table", source=location)
