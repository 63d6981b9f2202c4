"""The results table's rows: one tidy row per sample x epoch, read column by column from
exactly what the contract names in Inspect's ``EvalSample`` and log header
(docs/architecture.md), and the names a table is stored under.

An ``.eval`` log's samples are read by :mod:`alignprobe.results.eval_samples` (without
their transcript), a ``.json`` log's by ``inspect_ai.analysis.samples_df``. Where a log
directory holds several logs of the same eval-set task (an errored attempt and its
retry), only the best one is read (success first, then the newest), so resumed runs never
count a sample twice.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

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
from alignprobe.results.eval_samples import is_eval_log, iter_samples, sample_order
from alignprobe.results.outcomes import EXCLUDED_PREFIX, UNSCORED_PREFIX
from alignprobe.run.status import (
    LogCount,
    log_checkpoint,
    log_condition,
    log_headers,
    log_task,
)

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


def log_counts(
    logs: list[EvalLog], present: Mapping[str, int], answered: Mapping[str, int]
) -> list[LogCount]:
    """Per log: identity, status, planned samples, the rows read from it (``present``,
    by log file name) and how many of those have no error (``answered``)."""
    return [
        LogCount(
            checkpoint=log_checkpoint(log),
            task=log_task(log),
            condition=log_condition(log),
            log=Path(log.location).name,
            status=log.status,
            expected=planned_samples(log),
            present=int(present.get(Path(log.location).name, 0)),
            answered=int(answered.get(Path(log.location).name, 0)),
        )
        for log in logs
    ]


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


def _log_name(log: EvalLog) -> str:
    return Path(log.location).name


def _task_version(log: EvalLog) -> str:
    return str(log.eval.task_version)


#: the table's columns read from a log's header, and from each of its samples (the
#: contract's sample_id is Inspect's sample id: ``sample_key`` until the rows are read)
EVAL_FIELDS: list[tuple[str, Callable[[EvalLog], Any]]] = [
    ("log", _log_name),
    ("model", lambda log: log.eval.model),
    ("checkpoint", log_checkpoint),
    ("task", log_task),
    ("task_version", _task_version),
]
SAMPLE_FIELDS: list[tuple[str, Callable[[EvalSample], Any]]] = [
    ("sample_key", lambda s: str(s.id)),
    ("epoch", lambda s: s.epoch),
    ("condition", _meta("condition")),
    ("question_id", _meta("question_id")),
    ("_metadata", _family_metadata),
    ("_scores", _score_values),
    ("_all_scores", _all_scores),
    ("_reasons", _reasons),
    ("judge_id", _judge_id),
    ("_judge_mass", _judge_mass),
    ("error", _error),
    ("input", _input_text),
    ("output", _output_text),
]


def _columns() -> list[Any]:
    """:data:`EVAL_FIELDS` and :data:`SAMPLE_FIELDS` as ``samples_df`` columns (the reader
    of ``.json`` logs)."""
    from inspect_ai.analysis import EvalColumn, SampleColumn

    required = {"log", "model", "sample_key", "epoch"}
    evals = [EvalColumn(name, path=read, required=name in required) for name, read in EVAL_FIELDS]
    sample = [
        SampleColumn(name, path=read, required=name in required, full=True)
        for name, read in SAMPLE_FIELDS
    ]
    return [*evals, *sample]


def _plain(value: Any) -> Any:
    """A column value as ``samples_df`` stores it: lists and dicts as JSON text."""
    return json.dumps(value) if isinstance(value, list | dict) else value


def _inspect_typed(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Records typed as ``samples_df`` types them (``inspect_ai.analysis``: a column of
    mixed non-text types becomes text; pyarrow-backed columns, an all-empty one text)."""
    df = pd.DataFrame(records)
    for name in df.columns:
        if df[name].dtype == object:
            kinds = {type(v) for v in df[name].dropna()}
            if len(kinds) > 1 and not kinds <= {str, bytes}:
                df[name] = [v if v is None or isinstance(v, str) else str(v) for v in df[name]]

    def mapper(kind: pa.DataType) -> pd.ArrowDtype:
        return pd.ArrowDtype(pa.string() if pa.types.is_null(kind) else kind)

    typed: pd.DataFrame = pa.Table.from_pandas(df).to_pandas(types_mapper=mapper)
    return typed


def rows_of_samples(log: EvalLog, samples: Iterable[EvalSample]) -> pd.DataFrame:
    """The table's raw columns of ``samples`` (of ``log``): the frame ``samples_df`` gives
    for :func:`_columns`, without its ids (rows in Inspect's order of the samples, one
    per sample uuid, the first kept). Each sample is dropped once its row is made."""
    made = [
        (sample_order(s), s.uuid, {name: _plain(read(s)) for name, read in SAMPLE_FIELDS})
        for s in samples
    ]
    made.sort(key=lambda item: item[0])
    seen: set[str] = set()
    records = []
    for _, uuid, record in made:
        if uuid is not None:
            if uuid in seen:
                continue
            seen.add(uuid)
        records.append(record)
    rows = _inspect_typed(records)
    header = _inspect_typed([{name: _plain(read(log)) for name, read in EVAL_FIELDS}])
    for position, name in enumerate(header.columns):
        column = header[name]
        rows.insert(position, name, column.iloc[[0] * len(rows)].reset_index(drop=True))
    return rows


def log_rows(log: EvalLog) -> pd.DataFrame:
    """One log's raw rows (``sample_id`` named): an ``.eval`` log read by
    :mod:`alignprobe.results.eval_samples`, a ``.json`` log by Inspect's ``samples_df``."""
    if is_eval_log(log.location):
        raw = rows_of_samples(log, iter_samples(log.location))
    else:
        raw = _read_samples([log.location], _columns())
        # samples_df adds its own uuid columns
        raw = raw.drop(columns=[c for c in ("eval_id", "sample_id") if c in raw.columns])
    return raw.rename(columns={"sample_key": "sample_id"})


def _expand(raw: pd.DataFrame, measure_names: list[str]) -> pd.DataFrame:
    """Raw rows -> table columns: each measure (its value, why unscored, why excluded),
    judge masses, and the family's scalar sample metadata as columns of their own."""
    out, family = expand_parts(raw, measure_names)
    return pd.concat([out, family], axis=1)


def expand_parts(raw: pd.DataFrame, measure_names: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`_expand` as (the rows' columns, the family metadata columns)."""
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
    return out, family


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


def _read_samples(locations: list[str], columns: list[Any]) -> pd.DataFrame:
    """The table's columns of every sample by Inspect's ``samples_df`` (``.json`` logs),
    one log at a time: reading a log holds its whole samples (messages, events) in memory,
    so the peak is one log's, not the run's; only the rows' columns accumulate."""
    from inspect_ai.analysis import samples_df

    frames = [
        samples_df([location], columns=columns, full=True, quiet=True) for location in locations
    ]
    return pd.concat(frames, ignore_index=True)


def measures_json(measures: Measures) -> dict[str, Any]:
    return {task: [m.model_dump(mode="json") for m in ms] for task, ms in measures.items()}


def read_measures(data: dict[str, Any]) -> Measures:
    return {task: [Measure.model_validate(m) for m in ms] for task, ms in data.items()}
