"""Re-judge the answers of a results table that has no logs (an ``alignprobe import``).

The table's rows become Inspect samples whose answer is *replayed* by a solver (the stored
text becomes the output; no model is called: the eval's model is Inspect's ``none``
sentinel, which raises if anything calls it) and are scored by the task's own judge
scorer with the new judge as the ``grader`` role. The result is an ordinary Inspect log
per checkpoint, so the new folder is a run folder that ``table``, ``compare``, ``gate``
and ``agreement`` read like any other.

Only ``emergent_misalignment`` can be re-judged from text alone (question and answer);
other families' judges need the conversation and metadata that only a log holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from inspect_ai import Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageAssistant, Model, ModelOutput
from inspect_ai.solver import Generate, Solver, TaskState, solver

from alignprobe.errors import ConfigError, DataError
from alignprobe.exit_codes import CommandFailed
from alignprobe.measures import METADATA_KEY, measures_metadata
from alignprobe.run.defaults import large_run_eval_args
from alignprobe.scorers.grader import GRADER_ROLE
from alignprobe.scorers.numeric_judge import JudgeMethod
from alignprobe.tasks.emergent_misalignment import defaults as em_defaults
from alignprobe.tasks.emergent_misalignment.scorer import MEASURES as EM_MEASURES
from alignprobe.tasks.emergent_misalignment.scorer import em_judge
from alignprobe.tasks.emergent_misalignment.types import JudgePromptSource

if TYPE_CHECKING:
    from alignprobe.judging.rejudge import RejudgeOutcome

ANSWER_KEY = "replayed_answer"
_TABLE_TASKS = {em_defaults.TASK_NAME}


@solver
def replay_answer() -> Solver:
    """The stored answer becomes the output; nothing is generated."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        answer = str(state.metadata.get(ANSWER_KEY) or "")
        state.output = ModelOutput.from_content(model="replayed", content=answer)
        state.messages.append(ChatMessageAssistant(content=answer, model="replayed"))
        return state

    return solve


def _check_rows(df: pd.DataFrame, source: Path) -> None:
    other = sorted(set(df["task"].astype(str)) - _TABLE_TASKS)
    if other:
        raise DataError(
            f"rows of task(s) {', '.join(other)} cannot be re-judged from a table (only "
            f"{', '.join(sorted(_TABLE_TASKS))}: other judges need the log's conversation); "
            "re-judge their run folder instead",
            source=source,
        )
    if "output" not in df.columns or "input" not in df.columns:
        raise DataError("the table holds no answers (columns input, output)", source=source)
    repeated = df.duplicated(["checkpoint", "condition", "sample_id"]).sum()
    if repeated:
        raise DataError(
            f"{repeated} rows repeat a (checkpoint, condition, sample_id): a table with "
            "several epochs per sample is re-judged from its run folder",
            source=source,
        )


def _samples(rows: pd.DataFrame) -> list[Sample]:
    samples = []
    for _, row in rows.iterrows():
        question = str(row["input"])
        metadata: dict[str, Any] = {
            "question_id": str(row["question_id"]),
            "question": question,
            "condition": str(row["condition"]),
            ANSWER_KEY: "" if pd.isna(row["output"]) else str(row["output"]),
        }
        for column in ("family", "variant"):
            if column in row and not pd.isna(row[column]):
                metadata[column] = str(row[column])
        samples.append(Sample(id=str(row["sample_id"]), input=question, metadata=metadata))
    return samples


def table_tasks(
    df: pd.DataFrame, source: Path, judge_prompt: str | None, judge_method: str | None
) -> list[Task]:
    """One replay task per (checkpoint, condition) of the table."""
    _check_rows(df, source)
    prompts = judge_prompt or JudgePromptSource.ALIGNPROBE.value
    if prompts != JudgePromptSource.ALIGNPROBE.value:
        raise ConfigError(
            f"an imported table can be re-judged only with the '{JudgePromptSource.ALIGNPROBE.value}' "
            "prompts (the question file's own prompts are not in the table)",
            field="--judge-prompt",
        )
    method = JudgeMethod(judge_method or JudgeMethod.AUTO.value)
    tasks = []
    for (checkpoint, condition), rows in df.groupby(["checkpoint", "condition"], sort=True):
        version = (
            str(rows["task_version"].iloc[0]) if "task_version" in rows else em_defaults.VERSION
        )
        metadata = measures_metadata(
            em_defaults.TASK_NAME,
            version,
            EM_MEASURES,
            condition={"name": str(condition)},
            judge_prompts=prompts,
        )
        metadata[METADATA_KEY] = {"checkpoint": str(checkpoint), "replayed_from_table": True}
        tasks.append(
            Task(
                name=f"{em_defaults.TASK_NAME}:{checkpoint}:{condition}",
                dataset=MemoryDataset(_samples(rows)),
                solver=[replay_answer()],
                scorer=em_judge(judge_prompts=prompts, judge_method=method.value),
                metadata=metadata,
                version=version,
            )
        )
    return tasks


def rejudge_table_logs(
    tasks: list[Task], judge: Model | list[Model], log_dir: Path, outcome: RejudgeOutcome
) -> list[str]:
    """Run the replay tasks (no model under test) into ``log_dir``; the logs' file names
    (each log's samples counted into ``outcome``)."""
    logs = eval(
        tasks,
        model="none",
        model_roles={GRADER_ROLE: judge},
        log_dir=str(log_dir),
        display="none",
        **large_run_eval_args(),
    )
    failed = [log for log in logs if log.status != "success"]
    if failed:
        message = failed[0].error.message if failed[0].error else failed[0].status
        raise CommandFailed(f"re-judging did not finish: {message}")
    for log in logs:
        outcome.count(log)
    return [Path(log.location).name for log in logs]
