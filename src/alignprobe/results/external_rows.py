"""The results-table rows of another package's task: its declared measures, its clusters.

alignprobe's own scorers give one dict of measures per sample; another package's task
gives whatever its scorers give. The suite declared which scorer (and key) holds each
measure and which sample metadata field groups samples (:mod:`alignprobe.run.external_tasks`);
the run recorded that in the log. Here each row's ``_scores`` / ``_reasons`` are rebuilt
from that record, so the rest of the table treats the task like alignprobe's own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from inspect_ai.log import EvalLog

from alignprobe.measures import EXCLUDED_KEY, TASK_METADATA_KEY, UNSCORED_KEY
from alignprobe.run.external_tasks import (
    EXTERNAL_CONDITION,
    EXTERNAL_KEY,
    KeyTally,
    UnreadKey,
    read_measures,
)


def _reading(log: EvalLog) -> dict[str, Any] | None:
    block = ((log.eval.metadata or {}).get(TASK_METADATA_KEY) or {}).get(EXTERNAL_KEY)
    return dict(block) if isinstance(block, dict) else None


def _task(log: EvalLog) -> str:
    block = (log.eval.metadata or {}).get(TASK_METADATA_KEY) or {}
    return str(block.get("task") or log.eval.task.split("/")[-1])


def _keyed(reading: dict[str, Any]) -> bool:
    return any(how.get("key") is not None for how in reading["measures"].values())


def unread_keys_in_rows(raw: pd.DataFrame, logs: list[EvalLog]) -> list[UnreadKey]:
    """Declared measures whose key no sample's score has, from the table's raw rows."""
    tally = KeyTally()
    tally_keys_in_rows(tally, raw, logs)
    return tally.unread()


def tally_keys_in_rows(tally: KeyTally, raw: pd.DataFrame, logs: list[EvalLog]) -> None:
    """Add the keys the scores of ``raw`` (rows of ``logs``) have to ``tally``."""
    readings = {
        Path(log.location).name: (_task(log), r)
        for log in logs
        if (r := _reading(log)) is not None and _keyed(r)
    }
    if readings and not raw.empty:
        for name, scores in raw[raw["log"].isin(list(readings))][["log", "_all_scores"]].values:
            task, reading = readings[str(name)]
            tally.add(task, reading["measures"], json.loads(scores))


def unread_keys_in_logs(logs: list[EvalLog]) -> list[UnreadKey]:
    """The same, read from the logs' samples (what ``run`` has when it finishes)."""
    from inspect_ai.log import read_eval_log_samples

    tally = KeyTally()
    for log in logs:
        reading = _reading(log)
        if reading is None or not _keyed(reading):
            continue
        for sample in read_eval_log_samples(log.location, all_samples_required=False):
            scores = {name: score.value for name, score in (sample.scores or {}).items()}
            tally.add(_task(log), reading["measures"], scores)
    return tally.unread()


def read_external_rows(raw: pd.DataFrame, logs: list[EvalLog]) -> pd.DataFrame:
    """``raw`` (one row per sample, from ``samples_df``) with external tasks' rows read."""
    readings = {Path(log.location).name: r for log in logs if (r := _reading(log)) is not None}
    if not readings or raw.empty:
        return raw
    out = raw.copy()
    for index, row in out[out["log"].isin(list(readings))].iterrows():
        reading = readings[str(row["log"])]
        values, unscored = read_measures(json.loads(row["_all_scores"]), reading["measures"])
        out.at[index, "_scores"] = json.dumps(values)
        out.at[index, "_reasons"] = json.dumps({UNSCORED_KEY: unscored, EXCLUDED_KEY: {}})
        # samples are grouped by the declared metadata field, else each is its own group
        cluster = reading.get("cluster")
        metadata = json.loads(row["_metadata"])
        group = metadata.get(cluster) if cluster else None
        out.at[index, "question_id"] = str(group if group is not None else row["sample_id"])
        out.at[index, "condition"] = EXTERNAL_CONDITION  # its own prompts, nothing added
    return out
