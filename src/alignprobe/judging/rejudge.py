"""Re-judge a finished run with another judge, judge prompt or panel of judges, without
re-running it.

Each log of the source run is re-scored through Inspect's scoring of existing logs
(:func:`inspect_ai.score`): the task's scorer is rebuilt from the log's own task arguments
(with the new judge settings on top) and applied to the stored samples, whose answers,
conversation and store are left exactly as they were. The model under test is never
built: the scoring context's model is Inspect's ``none`` sentinel, which raises if any
scorer tried to call it. Logs of tasks that need no judge (deterministic checkers) are
copied unchanged.

The new run folder holds a ``manifest.json`` like a run's, with the judge replaced and a
``rejudge`` block recording the source run, the old and new judge and the prompt
settings, so ``table``, ``compare`` and ``gate`` read it like any run.
"""

from __future__ import annotations

import math
import shutil
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from inspect import signature
from pathlib import Path
from typing import Any

from inspect_ai import Task, score
from inspect_ai.log import EvalLog, read_eval_log, write_eval_log
from inspect_ai.model import GenerateConfig, Model, ModelConfig, get_model

from alignprobe.errors import ConfigError, DataError, UserInputError
from alignprobe.evals.suite import task_function
from alignprobe.exit_codes import CommandFailed
from alignprobe.measures import METADATA_KEY, UNSCORED_KEY, measures_from_metadata
from alignprobe.results.sample_rows import TABLE, select_logs
from alignprobe.results.table import load_run_table
from alignprobe.run.defaults import LARGE_RUN_GENERATE
from alignprobe.run.status import LOGS, MANIFEST, read_manifest, require_complete
from alignprobe.run.storage import RunStore, is_remote, mirror_dir, upload_folder
from alignprobe.run.suite_run import check_judge, write_json_atomic
from alignprobe.scorers.grader import GRADER_ROLE
from alignprobe.scorers.panel import JudgeSpec, check_panel, judge_spec

#: task parameters that choose a judged task's prompt (one name per family that has one)
PROMPT_PARAMS = ("judge_prompt", "judge_prompts")
METHOD_PARAM = "judge_method"
#: key of the provenance block in the new run's manifest and in each log's run metadata
REJUDGE_KEY = "rejudge"
#: the ``--generate`` settings rejudge takes: how long and how often a judge call is tried
JUDGE_CALL_BOUNDS = ("max_retries", "timeout", "attempt_timeout", "max_connections")


@dataclass(frozen=True)
class JudgeSettings:
    """What a re-judging changes: the judge model (or a panel of several) and, optionally,
    prompt and method; ``generate``: the judge calls' bounds (``max_retries``, ``timeout``,
    ``attempt_timeout``) on top of the run defaults, as ``run --generate`` takes them."""

    judges: tuple[str, ...]
    judge_prompt: str | None = None
    judge_method: str | None = None
    generate: dict[str, Any] = field(default_factory=dict)

    @property
    def judge(self) -> JudgeSpec:
        """As recorded in the manifest: the model, or the panel's list of models."""
        spec = judge_spec(self.judges)
        assert spec is not None
        return spec

    def overrides(self, task: str, accepted: set[str]) -> dict[str, Any]:
        """The task arguments to change for ``task``; a setting it cannot take is refused."""
        check_panel(self.judge, [task], "--judge")
        out: dict[str, Any] = {}
        if self.judge_prompt is not None:
            names = [p for p in PROMPT_PARAMS if p in accepted]
            if not names:
                raise ConfigError(
                    f"task '{task}' has no judge prompt to change (its judge prompts are "
                    "fixed by its version); re-judge without --judge-prompt",
                    field="--judge-prompt",
                )
            out[names[0]] = self.judge_prompt
        if self.judge_method is not None:
            if METHOD_PARAM not in accepted:
                raise ConfigError(
                    f"task '{task}' has no judge method to choose", field="--judge-method"
                )
            out[METHOD_PARAM] = self.judge_method
        return out

    def manifest(self) -> dict[str, Any]:
        return {
            "judge": self.judge,
            "judge_prompt": self.judge_prompt,
            "judge_method": self.judge_method,
        }


@dataclass
class LogPlan:
    """One source log and how it is re-judged (``task`` is ``None``: copied unchanged)."""

    header: EvalLog
    short_name: str
    task_args: dict[str, Any]
    task: Task | None


@dataclass
class RejudgeOutcome:
    out: Path | str
    rejudged: list[str] = field(default_factory=list)
    copied: list[str] = field(default_factory=list)
    judged_samples: int = 0
    """Samples of the re-judged logs (every epoch)."""
    scored_samples: int = 0
    """Of those, the samples the new judge gave at least one measure a value."""
    unscored_reasons: dict[str, int] = field(default_factory=dict)
    """Why samples were left unscored, counted (the judge's own reasons)."""

    def count(self, log: EvalLog) -> None:
        """Add one re-judged log's samples to the counts: a sample is scored when one of
        its task's headline measures (all measures, where none is headline) has a value."""
        measures = measures_from_metadata(log.eval.metadata)
        wanted = [m.name for m in measures if m.headline] or [m.name for m in measures]
        for sample in log.samples or []:
            self.judged_samples += 1
            score = next(iter((sample.scores or {}).values()), None)
            value = score.value if score is not None else None
            values = value if isinstance(value, dict) else {}
            if any(_is_number(values.get(name)) for name in wanted):
                self.scored_samples += 1
                continue
            reasons = ((score.metadata or {}) if score is not None else {}).get(UNSCORED_KEY)
            known = [r for r in (reasons or {}).values() if r] if isinstance(reasons, dict) else []
            reason = known[0] if known else sample.error.message if sample.error else "no score"
            key = str(reason).splitlines()[0][:120]
            self.unscored_reasons[key] = self.unscored_reasons.get(key, 0) + 1


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _short_task(header: EvalLog) -> str:
    name = header.eval.task_registry_name or header.eval.task.split(":")[0]
    return name.split("/")[-1]


def plan_logs(run_dir: Path, settings: JudgeSettings) -> list[LogPlan]:
    """Rebuild each log's task with the new judge settings (every error before writing)."""
    from inspect_ai._eval.registry import task_create

    import alignprobe._registry  # noqa: F401  - registers tasks and providers
    from alignprobe.run.suite_run import _is_judged

    plans: list[LogPlan] = []
    for header in select_logs(run_dir / LOGS):
        short = _short_task(header)
        if header.status != "success":
            raise DataError(
                f"log {Path(header.location).name} ended with status '{header.status}': "
                "finish the run before re-judging it",
                source=run_dir,
            )
        try:
            function = task_function(short)
        except Exception as exc:
            raise DataError(
                f"log {Path(header.location).name} is not an alignprobe task ({short})",
                source=run_dir,
            ) from exc
        args = dict(header.eval.task_args or {})
        built = task_create(f"alignprobe/{short}", **args)
        if not _is_judged(built):
            plans.append(LogPlan(header, short, args, None))
            continue
        changes = settings.overrides(short, set(signature(function).parameters))
        args.update(changes)
        try:
            task = task_create(f"alignprobe/{short}", **args)
        except UserInputError:
            raise
        except (ValueError, TypeError) as exc:  # e.g. an unknown prompt source
            names = ", ".join(f"{k}={v}" for k, v in changes.items())
            raise ConfigError(
                f"task '{short}' cannot take {names}: {exc}", field="--judge-prompt"
            ) from None
        plans.append(LogPlan(header, short, args, task))
    judged = [p for p in plans if p.task is not None]
    if settings.judge_prompt is not None and not judged:
        raise ConfigError("no judged task in the run", field="--judge-prompt")
    return plans


def _old_judge(run_dir: Path, plans: list[LogPlan]) -> str | None:
    recorded = (read_manifest(run_dir) or {}).get("judge")
    if recorded:
        return str(recorded)
    for plan in plans:
        role = (plan.header.eval.model_roles or {}).get(GRADER_ROLE)
        if isinstance(role, list):  # a panel of judges in one role
            return " + ".join(r.model for r in role)
        if role is not None:
            return role.model
    return None


def _judge_models(settings: JudgeSettings) -> Model | list[Model]:
    """The ``grader`` role's binding (one model, or the panel's list), each with the run's
    bounded retries and timeouts: re-scoring is not an eval, so nothing else bounds them."""
    config = LARGE_RUN_GENERATE.merge(GenerateConfig(**settings.generate))
    models = [get_model(judge, config=config, memoize=False) for judge in settings.judges]
    return models[0] if len(models) == 1 else models


def _rejudge_log(
    plan: LogPlan, judge: Model | list[Model], settings: JudgeSettings, provenance: dict[str, Any]
) -> EvalLog:
    assert plan.task is not None
    log = read_eval_log(plan.header.location)
    scorers = plan.task.scorer or []
    # the scoring context's model: the `none` sentinel raises if a scorer calls it, so the
    # model under test is never built or called
    try:
        rescored = score(
            log,
            scorers,
            model=get_model("none"),
            model_roles={GRADER_ROLE: judge},
            action="overwrite",
            display="none",
            copy=False,
        )
    except UserInputError:
        raise
    except Exception as exc:  # the judge's calls failed past their bounds (retries, timeout)
        cause = exc.__cause__ or exc
        raise CommandFailed(
            f"the judge failed on {Path(plan.header.location).name}: "
            f"{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''} "
            "(bounded by --generate max_retries / timeout); nothing was written"
        ) from None
    rescored.eval.task_args = plan.task_args
    roles = dict(rescored.eval.model_roles or {})
    configs = [ModelConfig(model=judge, config=GenerateConfig()) for judge in settings.judges]
    roles[GRADER_ROLE] = configs[0] if len(configs) == 1 else configs
    rescored.eval.model_roles = roles
    metadata = dict(rescored.eval.metadata or {})
    metadata[METADATA_KEY] = {**(metadata.get(METADATA_KEY) or {}), REJUDGE_KEY: provenance}
    rescored.eval.metadata = metadata
    return rescored


def _fresh_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(
            f"{out} already exists and is not empty: re-judging writes a new run folder",
            field="--out",
        )


def _staged(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    (staging / LOGS).mkdir(parents=True)
    return staging


def _provenance(source: Path, old_judge: str | None, settings: JudgeSettings) -> dict[str, Any]:
    return {
        "source_run": str(source.resolve()),
        "old_judge": old_judge,
        "new": settings.manifest(),
        "rejudged_at": datetime.now(UTC).isoformat(),
        "command": sys.argv,
    }


def _rejudge_logs(
    run_dir: Path,
    settings: JudgeSettings,
    staging: Path,
    outcome: RejudgeOutcome,
    progress: Callable[[str], None] | None,
) -> dict[str, Any]:
    plans = plan_logs(run_dir, settings)
    provenance = _provenance(run_dir, _old_judge(run_dir, plans), settings)
    judge = _judge_models(settings)
    for plan in plans:
        name = Path(plan.header.location).name
        target = str(staging / LOGS / name)
        if plan.task is None:
            write_eval_log(read_eval_log(plan.header.location), target)
            outcome.copied.append(name)
            continue
        if progress is not None:
            progress(f"re-judging {name}")
        rescored = _rejudge_log(plan, judge, settings, provenance)
        outcome.count(rescored)
        write_eval_log(rescored, target)
        outcome.rejudged.append(name)
    return {**_inherited_record(run_dir, settings, outcome), REJUDGE_KEY: provenance}


def _inherited_record(
    run_dir: Path, settings: JudgeSettings, outcome: RejudgeOutcome
) -> dict[str, Any]:
    """The source's plan for the new folder: complete, as its (complete) source was, and
    not sharded (every log now sits in one folder), with the new judge."""
    record = {
        key: value
        for key, value in (read_manifest(run_dir) or {}).items()
        if key not in ("shards", "resumed", "interrupted")
    }
    record["tasks"] = [
        {k: v for k, v in entry.items() if k != "shard"} if isinstance(entry, dict) else entry
        for entry in record.get("tasks") or []
    ]
    now = datetime.now(UTC).isoformat()
    record.update(
        judge=settings.judge,
        started=now,
        finished=now,
        status="success",
        logs=[{"log": name, "status": "success"} for name in outcome.rejudged + outcome.copied],
    )
    return record


def _rejudge_table(
    source: Path,
    settings: JudgeSettings,
    staging: Path,
    outcome: RejudgeOutcome,
    progress: Callable[[str], None] | None,
) -> dict[str, Any]:
    from alignprobe.judging.rejudge_table import rejudge_table_logs, table_tasks
    from alignprobe.results.table import load_table

    df, _ = load_table(source)
    tasks = table_tasks(df, source, settings.judge_prompt, settings.judge_method)
    record = dict(read_manifest(source) or {})
    old = (record.get("import") or {}).get("judge_id")
    judges = sorted(set(df["judge_id"].dropna().astype(str))) if "judge_id" in df else []
    provenance = _provenance(source, old or (" ; ".join(judges) or None), settings)
    if progress is not None:
        progress(f"re-judging {len(df)} answers of {source} (no log: answers replayed)")
    outcome.rejudged = rejudge_table_logs(tasks, _judge_models(settings), staging / LOGS, outcome)
    now = datetime.now(UTC).isoformat()
    return {
        "judge": settings.judge,
        "checkpoints": record.get("checkpoints") or {},
        "tasks": [
            {"checkpoint": str(c), "task": str(t), "condition": str(k)}
            for c, t, k in df[["checkpoint", "task", "condition"]].drop_duplicates().values
        ],
        "started": provenance["rejudged_at"],
        "finished": now,
        "status": "success",
        "logs": [{"log": name, "status": "success"} for name in outcome.rejudged],
        REJUDGE_KEY: {**provenance, "source_import": record.get("import")},
    }


def rejudge_run(
    run_dir: Path,
    settings: JudgeSettings,
    out: Path | str,
    *,
    progress: Callable[[str], None] | None = None,
) -> RejudgeOutcome:
    """Re-judge every judged log of ``run_dir`` (or, for a folder or table file without
    logs such as an import, its answers) into the new run folder ``out`` (a local folder
    or an fsspec URL).

    The source must be a complete run (what it is, and what is missing, otherwise).
    Written into a temporary folder and moved (or uploaded) into place at the end, so an
    error or an interruption leaves no half-written run. A judge that scores nothing is a
    failure (:class:`CommandFailed`): its logs are kept, the folder marked failed.
    """
    for judge in settings.judges:
        check_judge(judge)
    has_logs = (run_dir / LOGS).is_dir()
    if not has_logs and not (run_dir / TABLE).is_file() and not run_dir.is_file():
        raise DataError("neither a run folder with logs nor a results table", source=run_dir)
    remote = is_remote(out)
    if remote:
        _fresh_remote_out(str(out))
    else:
        _fresh_out(Path(out))
    if has_logs:  # the one reader of run folders: an incomplete source is refused here
        require_complete(load_run_table(run_dir).status, run_dir, "re-judge")
    staging = _staged(mirror_dir(str(out)) if remote else Path(out))
    outcome = RejudgeOutcome(out)
    try:
        if has_logs:
            record = _rejudge_logs(run_dir, settings, staging, outcome, progress)
        else:
            record = _rejudge_table(run_dir, settings, staging, outcome, progress)
        record[REJUDGE_KEY].update(
            rejudged=outcome.rejudged,
            copied=outcome.copied,
            judged_samples=outcome.judged_samples,
            scored_samples=outcome.scored_samples,
            unscored_reasons=outcome.unscored_reasons,
        )
        failure = None
        if outcome.judged_samples and not outcome.scored_samples:
            # kept, not thrown away (the judge's raw replies are in the logs), but marked
            # failed so that every reader refuses it as it would a run that ended in error
            failure = (
                f"the judge scored none of {outcome.judged_samples} samples ("
                + "; ".join(f"{n} x {why}" for why, n in outcome.unscored_reasons.items())
                + ")"
            )
            record.update(status="error", error=failure)
        write_json_atomic(staging / MANIFEST, record)
        if remote:
            upload_folder(staging, str(out))
            shutil.rmtree(staging, ignore_errors=True)
        else:
            if Path(out).exists():
                Path(out).rmdir()
            staging.replace(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if failure is not None:
        raise CommandFailed(f"{failure}; its logs are kept in {out}, marked failed")
    return outcome


def _fresh_remote_out(url: str) -> None:
    if RunStore(url).exists():
        raise ConfigError(
            f"{url} already exists: re-judging writes a new run folder", field="--out"
        )
