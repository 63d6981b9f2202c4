"""Is a run finished? One answer for ``table``, ``compare`` and ``gate``.

``alignprobe run`` writes ``manifest.json`` with the plan (one entry per checkpoint x task x
condition) and ``started``; ``finished``, ``status`` and each log's status are added when
``eval_set`` returns. A run that was killed, ended in error or lost a log is incomplete:

* :func:`manifest_problems`: what the manifest alone says (the gate refuses on these);
* :func:`assess`: that plus, per planned log, how many samples were planned (from the
  log header: sample ids after ``limit`` x epochs) and how many rows the table holds.

Every command asks this module what a folder is (:class:`RunState`: complete,
interrupted, failed, empty, shards missing, incomplete; an imported table has no status
and is complete as given) and refuses or flags incomplete input with
:func:`require_complete`, so ``table``, ``compare``, ``gate``, ``rejudge``, ``agreement``,
``gold``, ``power`` and ``run --until-decided`` agree on every folder.

The result (:class:`RunStatus`) is written beside the table (``run_status.json`` and the
parquet schema metadata), so later stages read it without going back to the logs. A table
with no plan behind it (``alignprobe import``) has no status and is never incomplete.
"""

from __future__ import annotations

import json
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, computed_field

from alignprobe.errors import DataError, UserInputError

logger = logging.getLogger(__name__)
#: what reading a damaged log raises (a bad zip, truncated or invalid JSON, a header that
#: does not validate); a store that cannot be reached (``OSError``) is not one of them
UNREADABLE_LOG = (ValueError, KeyError, EOFError, zipfile.BadZipFile)

if TYPE_CHECKING:  # Inspect is imported where logs are read: readers of a table skip it
    from inspect_ai.log import EvalLog

MANIFEST = "manifest.json"
#: the run folder's Inspect log directory
LOGS = "logs"
#: where ``run`` keeps a log it found unreadable (outside ``logs/``, which Inspect lists)
DAMAGED_LOGS = "damaged-logs"
#: folder of a sharded run's per-shard records (``shard-I-of-N.json``, see alignprobe.run.shards)
SHARDS = "shards"
STATUS_JSON = "run_status.json"
#: parquet schema metadata key holding the run status JSON
SCHEMA_KEY = b"alignprobe.run_status"
RERUN_HINT = "re-run `alignprobe run` with the same arguments to finish"
SHARD_HINT = "run each missing shard with the same command and its --shard I/N"
_LISTED = 5


class RunState(StrEnum):
    """What a run folder is, as every command reads it."""

    COMPLETE = "complete"
    INTERRUPTED = "interrupted"
    """Stopped by Ctrl-C, SIGTERM or a kill before every planned log finished."""
    FAILED = "failed"
    """A log ended in error (after its retries)."""
    EMPTY = "empty"
    """Not one planned sample was answered."""
    SHARDS_MISSING = "shards missing"
    """A sharded run some of whose shards have not run (or not finished)."""
    INCOMPLETE = "incomplete"
    """Planned logs missing or short of samples."""


class IncompleteRunError(UserInputError):
    """Input that is not a complete run (exit 2): what it is, what is missing, what to do."""


@dataclass(frozen=True)
class Finding:
    """One thing a run record says is wrong, and the state it puts the run in."""

    state: RunState
    text: str


def read_log_headers(log_dir: str | Path) -> tuple[list[EvalLog], list[tuple[str, str]]]:
    """Every log's header in ``log_dir``, and each log that cannot be read with why."""
    from inspect_ai.log import list_eval_logs, read_eval_log

    headers: list[EvalLog] = []
    unreadable: list[tuple[str, str]] = []
    for info in list_eval_logs(str(log_dir)):
        try:
            headers.append(read_eval_log(info, header_only=True))
        except UNREADABLE_LOG as error:
            unreadable.append((info.name, f"{type(error).__name__}: {error}"))
    return headers, unreadable


def log_headers(log_dir: str | Path) -> list[EvalLog]:
    """Headers of the logs to read (local folder or URL): one per eval-set task identifier,
    the best attempt of each (success first, then the newest). A log that cannot be read
    (cut short by a copy or a full disk) is skipped with a warning: its task counts as not
    run, so the run reads as incomplete rather than the command failing."""
    from inspect_ai import task_identifier

    headers, unreadable = read_log_headers(log_dir)
    for location, why in unreadable:
        logger.warning("skipped an unreadable log (%s) [%s]", why, location)
    best: dict[str, EvalLog] = {}
    for header in headers:
        key = task_identifier(header, None)
        rank = (header.status == "success", header.eval.created)
        current = best.get(key)
        if current is None or rank > (current.status == "success", current.eval.created):
            best[key] = header
    return sorted(best.values(), key=lambda h: h.location)


def answered_samples(log: EvalLog) -> int:
    """Samples a log holds that finished without error (a finished log's header says; an
    interrupted one's sample summaries are read)."""
    from inspect_ai.log import read_eval_log_sample_summaries

    if log.status == "success" and log.results is not None:
        return log.results.completed_samples
    summaries = read_eval_log_sample_summaries(log.location)
    return sum(1 for s in summaries if s.error is None and s.completed is not False)


def _block(log: EvalLog, key: str) -> dict[str, Any]:
    return dict((log.eval.metadata or {}).get(key) or {})


def log_task(log: EvalLog) -> str:
    """The suite's name for the task of a log (an external task's as the suite wrote it)."""
    from alignprobe.measures import TASK_METADATA_KEY

    return str(_block(log, TASK_METADATA_KEY).get("task") or log.eval.task.split("/")[-1])


def log_condition(log: EvalLog) -> str:
    from alignprobe.measures import TASK_METADATA_KEY

    name = (log.eval.task_args or {}).get("condition")
    if name is None:
        name = (_block(log, TASK_METADATA_KEY).get("condition") or {}).get("name")
    return str(name or "")


def log_checkpoint(log: EvalLog) -> str:
    from alignprobe.measures import METADATA_KEY

    return str(_block(log, METADATA_KEY).get("checkpoint") or log.eval.model)


def log_key(log: EvalLog) -> tuple[str, str, str]:
    """(checkpoint, task, condition) of a log: the plan entry it belongs to."""
    return (log_checkpoint(log), log_task(log), log_condition(log))


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


def is_run_manifest(record: dict[str, Any] | None) -> bool:
    """Did ``alignprobe run`` (or ``rejudge``) write this manifest? An import's has no plan."""
    return (
        record is not None
        and "imported_from" not in record
        and ("plan_format" in record or "started" in record)
    )


def _record_findings(record: dict[str, Any], label: str) -> list[Finding]:
    """What one run (or shard) record says: failed logs, an error, an unfinished attempt."""
    failed = [
        str(entry.get("log"))
        for entry in record.get("logs") or []
        if isinstance(entry, dict) and entry.get("status") != "success"
    ]
    status = record.get("status")
    if status == "interrupted":
        return [Finding(RunState.INTERRUPTED, f"{label}: the run was interrupted")]
    if failed:
        return [Finding(RunState.FAILED, f"{label}: log(s) did not succeed: {', '.join(failed)}")]
    if status not in (None, "success"):
        return [Finding(RunState.FAILED, f"{label}: run status is '{status}'")]
    if "started" in record and "finished" not in record:
        return [Finding(RunState.INTERRUPTED, f"{label}: the run started but never finished")]
    resumed = record.get("resumed") or []
    if resumed and str(resumed[-1]) > str(record.get("finished")):
        return [
            Finding(
                RunState.INTERRUPTED,
                f"{label}: the run was resumed but that attempt never finished",
            )
        ]
    return []


def _shard_findings(location: Path, count: int) -> list[Finding]:
    """A sharded run is finished when every shard's record says so."""
    from alignprobe.run.shards import Shard

    folder = (location if location.is_dir() else location.parent) / SHARDS
    found: list[Finding] = []
    for index in range(1, count + 1):
        shard = Shard(index, count)
        path = folder / f"{shard.slug}.json"
        if not path.is_file():
            found.append(
                Finding(
                    RunState.SHARDS_MISSING,
                    f"run manifest: shard {shard} has not run (no {SHARDS}/{path.name})",
                )
            )
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON: {exc.msg}", source=path, line=exc.lineno) from None
        found += [
            Finding(RunState.SHARDS_MISSING, f.text)
            for f in _record_findings(record, f"run manifest: shard {shard}")
        ]
    return found


def manifest_findings(location: Path) -> list[Finding]:
    """What the manifest (and, for a sharded run, each shard's record) says is wrong."""
    record = read_manifest(location)
    if record is None:
        return []
    shards = record.get("shards")
    if isinstance(shards, int) and shards > 1:
        return _shard_findings(location, shards)
    return _record_findings(record, "run manifest")


def manifest_problems(location: Path) -> list[str]:
    """A run that ended in error (or never finished) cannot vouch for its table."""
    return [finding.text for finding in manifest_findings(location)]


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
    answered: int | None = None
    """Of those, the samples that finished without error (``None``: not counted)."""

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
    manifest_state: RunState | None = None
    """The state the manifest's findings put the run in (the first finding's)."""

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

    @computed_field  # type: ignore[prop-decorator]
    @property
    def state(self) -> RunState:
        if self.complete:
            return RunState.COMPLETE
        answered = sum(log.present if log.answered is None else log.answered for log in self.logs)
        if answered == 0:
            return RunState.EMPTY
        if self.manifest_state is not None:
            return self.manifest_state
        statuses = {log.status for log in self.logs}
        if statuses & {"cancelled", "started"}:
            return RunState.INTERRUPTED
        if "error" in statuses:
            return RunState.FAILED
        return RunState.INCOMPLETE

    def headline(self) -> str:
        """``run interrupted: 22 of 146 samples (...)``: what the folder is, in one phrase."""
        return f"run {self.state.value}: {self.summary()}"

    def hint(self) -> str:
        """What to do about it."""
        if self.manifest_state is RunState.SHARDS_MISSING:
            return SHARD_HINT
        return RERUN_HINT

    def summary(self) -> str:
        """``22 of 146 samples (3 logs not finished: ...)``."""
        unknown = any(log.expected is None for log in self.logs)
        counts = f"{self.present} of {'at least ' if unknown else ''}{self.expected} samples"
        failed = sum(log.present - log.answered for log in self.logs if log.answered is not None)
        if failed:
            counts += f", {failed} of them cancelled or in error"
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
        listed = [r for r in reasons if r]
        why = listed or self.problems
        if self.manifest_state is RunState.SHARDS_MISSING:  # the shard to run comes first
            why = [*self.problems[:_LISTED], *listed]
        return f"{counts} ({'; '.join(why)})" if why else counts


def _of(log: LogCount) -> str:
    return f"{log.present} of {log.expected if log.expected is not None else '?'}"


def first_few(names: list[str]) -> str:
    """``a, b, c, d, e, and 3 more``: a list a terminal line can hold."""
    more = f", and {len(names) - _LISTED} more" if len(names) > _LISTED else ""
    return ", ".join(names[:_LISTED]) + more


def _listing(logs: list[LogCount], noun: str, what: str, label: Callable[[LogCount], str]) -> str:
    if not logs:
        return ""
    plural = "s" if len(logs) > 1 else ""
    return f"{len(logs)} {noun}{plural} {what}: {first_few([label(log) for log in logs])}"


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
    findings = manifest_findings(run_dir)
    return RunStatus(
        logs=[*found, *missing],
        problems=[f.text for f in findings],
        manifest_state=findings[0].state if findings else None,
    )


def require_complete(status: RunStatus | None, source: str | Path, action: str) -> None:
    """Refuse (exit 2) to ``action`` on a run that is not complete; ``None`` (an imported
    table, no plan behind it) is complete as given."""
    if status is None or status.complete:
        return
    raise IncompleteRunError(
        f"{status.headline()}; cannot {action} on it: {status.hint()}",
        source=source,
    )
