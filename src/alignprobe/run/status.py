"""Is a run finished? One answer for ``table``, ``compare`` and ``gate``.

``alignprobe run`` writes ``manifest.json`` with the plan (one entry per checkpoint x task x
condition) and ``started``; ``finished``, ``status`` and each log's status are added when
``eval_set`` returns. A run that was killed, ended in error or lost a log is incomplete:

* :func:`manifest_problems`: what the manifest alone says (the gate refuses on these);
* :func:`assess`: that plus, per planned log, how many samples were planned (from the
  log header: sample ids after ``limit`` x epochs) and how many rows the table holds.

The result (:class:`RunStatus`) is written beside the table (``run_status.json`` and the
parquet schema metadata), so later stages read it without going back to the logs. A table
with no plan behind it (``alignprobe import``) has no status and is never incomplete.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, computed_field

from alignprobe.errors import DataError

MANIFEST = "manifest.json"
#: the run folder's Inspect log directory
LOGS = "logs"
#: folder of a sharded run's per-shard records (``shard-I-of-N.json``, see alignprobe.run.shards)
SHARDS = "shards"
STATUS_JSON = "run_status.json"
#: parquet schema metadata key holding the run status JSON
SCHEMA_KEY = b"alignprobe.run_status"
RERUN_HINT = "re-run `alignprobe run` with the same arguments to finish"
_LISTED = 5


def read_manifest(location: Path) -> dict[str, Any] | None:
    """``manifest.json`` of a run directory, or beside a table file; ``None`` if absent."""
    path = location / MANIFEST if location.is_dir() else location.with_name(MANIFEST)
    if not path.is_file():
        return None
    try:
        record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", source=path, line=exc.lineno) from None
    return record


def _record_problems(record: dict[str, Any], label: str) -> list[str]:
    """What one run (or shard) record says: failed logs, an error, an unfinished attempt."""
    failed = [
        str(entry.get("log"))
        for entry in record.get("logs") or []
        if isinstance(entry, dict) and entry.get("status") != "success"
    ]
    if failed:
        return [f"{label}: log(s) did not succeed: {', '.join(failed)}"]
    if record.get("status") not in (None, "success"):
        return [f"{label}: run status is '{record.get('status')}'"]
    if "started" in record and "finished" not in record:
        return [f"{label}: the run started but never finished"]
    resumed = record.get("resumed") or []
    if resumed and str(resumed[-1]) > str(record.get("finished")):
        return [f"{label}: the run was resumed but that attempt never finished"]
    return []


def _shard_problems(location: Path, count: int) -> list[str]:
    """A sharded run is finished when every shard's record says so."""
    from alignprobe.run.shards import Shard

    folder = (location if location.is_dir() else location.parent) / SHARDS
    problems: list[str] = []
    for index in range(1, count + 1):
        shard = Shard(index, count)
        path = folder / f"{shard.slug}.json"
        if not path.is_file():
            problems.append(f"run manifest: shard {shard} has not run (no {SHARDS}/{path.name})")
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON: {exc.msg}", source=path, line=exc.lineno) from None
        problems += _record_problems(record, f"run manifest: shard {shard}")
    return problems


def manifest_problems(location: Path) -> list[str]:
    """A run that ended in error (or never finished) cannot vouch for its table."""
    record = read_manifest(location)
    if record is None:
        return []
    shards = record.get("shards")
    if isinstance(shards, int) and shards > 1:
        return _shard_problems(location, shards)
    return _record_problems(record, "run manifest")


class LogCount(BaseModel):
    """One planned (checkpoint, task, condition): its log, planned and present samples."""

    checkpoint: str
    task: str
    condition: str
    log: str | None = None
    """Log file name; ``None`` when no log of this plan entry is there (never written or lost)."""
    status: str = "missing"
    """Inspect's log status (``success``, ``started``, ``error``, ``cancelled``) or ``missing``."""
    expected: int | None = None
    """Planned samples x epochs; ``None`` when unknown."""
    present: int = 0
    """Rows of the table read from this log."""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.checkpoint, self.task, self.condition)

    @property
    def name(self) -> str:
        return f"{self.checkpoint}/{self.task}/{self.condition}"

    @property
    def short(self) -> bool:
        return self.expected is not None and self.present < self.expected


class RunStatus(BaseModel):
    """Completeness of one run: per planned log, and the manifest's own word."""

    logs: list[LogCount]
    problems: list[str] = []
    """From :func:`manifest_problems`."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def present(self) -> int:
        return sum(log.present for log in self.logs)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def expected(self) -> int:
        """Planned samples x epochs, over the logs whose plan is known."""
        return sum(log.expected or 0 for log in self.logs)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def complete(self) -> bool:
        return not self.problems and not any(
            log.status != "success" or log.short for log in self.logs
        )

    def summary(self) -> str:
        """``22 of 146 samples (3 logs not finished: ...)``."""
        unknown = any(log.expected is None for log in self.logs)
        counts = f"{self.present} of {'at least ' if unknown else ''}{self.expected} samples"
        missing = [log for log in self.logs if log.log is None]
        unfinished = [log for log in self.logs if log.log is not None and log.status != "success"]
        short = [log for log in self.logs if log.status == "success" and log.short]
        reasons = [
            _listing(
                unfinished, "log", "not finished", lambda g: f"{g.name} ({g.status}, {_of(g)})"
            ),
            _listing(missing, "planned log", "missing", lambda g: g.name),
            _listing(short, "log", "short of samples", lambda g: f"{g.name} ({_of(g)})"),
        ]
        why = [r for r in reasons if r] or self.problems
        return f"{counts} ({'; '.join(why)})" if why else counts


def _of(log: LogCount) -> str:
    return f"{log.present} of {log.expected if log.expected is not None else '?'}"


def _listing(logs: list[LogCount], noun: str, what: str, label: Callable[[LogCount], str]) -> str:
    if not logs:
        return ""
    names = [label(log) for log in logs[:_LISTED]]
    more = f", and {len(logs) - _LISTED} more" if len(logs) > _LISTED else ""
    plural = "s" if len(logs) > 1 else ""
    return f"{len(logs)} {noun}{plural} {what}: {', '.join(names)}{more}"


def assess(run_dir: Path, found: list[LogCount]) -> RunStatus:
    """``found`` (one entry per log read) against the plan in ``run_dir/manifest.json``.

    A planned entry with no log borrows the planned count of a log of the same task and
    condition (the plan gives every checkpoint the same samples); otherwise it is unknown.
    """
    record = read_manifest(run_dir) or {}
    have = {log.key for log in found}
    planned = {
        (str(t.get("checkpoint")), str(t.get("task")), str(t.get("condition")))
        for t in record.get("tasks") or []
        if isinstance(t, dict)
    }
    by_task = {(log.task, log.condition): log.expected for log in found}
    missing = [
        LogCount(checkpoint=c, task=t, condition=k, expected=by_task.get((t, k)))
        for c, t, k in sorted(planned - have)
    ]
    return RunStatus(logs=[*found, *missing], problems=manifest_problems(run_dir))
