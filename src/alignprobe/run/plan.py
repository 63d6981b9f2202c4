"""What a run will cost before it starts: samples, model calls, judge calls and tokens.

Everything here reads the planned Inspect tasks (``suite_run.plan_tasks`` with no model
built): their datasets (after ``limit``), epochs, generation settings and the judge
prompts each task declares in its metadata. Nothing is called.

Judge calls are counted per judge model: a panel asks every member, a judge without
logprobs (``sampled`` method) is asked ``judge_samples`` times per number. Calls that
only happen for some answers (the confession judge reads hacked or solved code only; the
report judge reads only replies that mention a problem in prose; a tool loop takes as
many turns as the model asks for) are counted apart as *conditional*, at their most, so
``--max-calls`` and the cost are upper bounds and the certain counts are exact.

Tokens are estimated from the prompts' text (about four characters a token) and
``max_tokens`` (an answer is counted at its longest), so output tokens are a ceiling.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any

from inspect_ai.dataset import Sample
from inspect_ai.model import ChatMessage

from alignprobe.errors import UserInputError
from alignprobe.evals.suite import Suite
from alignprobe.measures import TASK_METADATA_KEY
from alignprobe.scorers.numeric_judge import (
    DEFAULT_SAMPLES_WITHOUT_LOGPROBS,
    JudgeMethod,
    default_method,
)
from alignprobe.scorers.panel import JudgeSpec

#: characters per token of English prose and code for common BPE tokenizers (an estimate)
CHARS_PER_TOKEN = 4
#: judge name shown when a judged task is planned without ``--judge``
NO_JUDGE = "(judge not given)"


class JudgeReply(StrEnum):
    """How a judge prompt is answered: one 0-100 number, or a text verdict."""

    NUMBER = "number"
    """logprob method: one call of one token; sampled method: ``judge_samples`` short calls"""
    TEXT = "text"
    """one greedy call of up to ``max_tokens`` (rubric verdicts, yes/no lines, labels)"""


class JudgeWhen(StrEnum):
    """Which samples a judge prompt is asked about."""

    EVERY = "every"
    CODE_CONDITIONAL = "code-conditional"
    """code items only, and only when the code was hacked or solved (the confession)"""
    CONDITIONAL = "conditional"
    """only when the answer calls for it (the report judge: a problem mentioned in prose)"""


@dataclass(frozen=True)
class JudgePromptCalls:
    reply: JudgeReply
    max_tokens: int
    when: JudgeWhen = JudgeWhen.EVERY
    panel: bool = True
    """every panel member is asked (``False``: the panel's first member only)"""


#: every built-in judge prompt, by name: how the scorer that uses it calls the judge. A
#: prompt not listed here (another package's, a new one) counts as one text call per
#: sample of ``UNKNOWN_PROMPT.max_tokens`` and is named in the plan as assumed.
JUDGE_PROMPTS: dict[str, JudgePromptCalls] = {
    "em_aligned": JudgePromptCalls(JudgeReply.NUMBER, 1),
    "em_coherent": JudgePromptCalls(JudgeReply.NUMBER, 1),
    # a question file's own prompts (emergent_misalignment judge_prompts=questions)
    "file_aligned": JudgePromptCalls(JudgeReply.NUMBER, 1),
    "file_coherent": JudgePromptCalls(JudgeReply.NUMBER, 1),
    "corrigibility_oversight": JudgePromptCalls(JudgeReply.NUMBER, 1),
    "corrigibility_flags": JudgePromptCalls(JudgeReply.TEXT, 300),
    "guardrail_rubric": JudgePromptCalls(JudgeReply.TEXT, 1024),
    "confession_classifier": JudgePromptCalls(JudgeReply.TEXT, 16, JudgeWhen.CODE_CONDITIONAL),
    "report_classifier": JudgePromptCalls(JudgeReply.TEXT, 16, JudgeWhen.CONDITIONAL, panel=False),
    "reasoning_channel": JudgePromptCalls(JudgeReply.TEXT, 400),
    "honeypot_reasoning": JudgePromptCalls(JudgeReply.TEXT, 400, panel=False),
    "goals_answer": JudgePromptCalls(JudgeReply.TEXT, 400, panel=False),
    "goals_transcript": JudgePromptCalls(JudgeReply.TEXT, 400, panel=False),
}
UNKNOWN_PROMPT = JudgePromptCalls(JudgeReply.TEXT, 400)
#: a number sampled from a judge without logprobs: ``max_tokens`` of each draw
SAMPLED_MAX_TOKENS = 8
#: the question the code confession turn asks (its length, for the token estimate)
CONFESSION_TURN_CHARS = 200


@dataclass
class Counts:
    """Calls and tokens of one part of a plan; ``*_conditional``: at most, on top."""

    samples: int = 0
    model_calls: int = 0
    model_calls_conditional: int = 0
    judge_calls: int = 0
    judge_calls_conditional: int = 0
    model_input_tokens: int = 0
    model_output_tokens: int = 0
    judge_input_tokens: int = 0
    judge_output_tokens: int = 0

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def calls_at_most(self) -> int:
        """Every call the plan can make (what ``--max-calls`` is held against)."""
        return (
            self.model_calls
            + self.model_calls_conditional
            + self.judge_calls
            + self.judge_calls_conditional
        )


@dataclass
class ModelUse:
    """Calls and tokens of one model (a checkpoint's, or a judge's); the tokens count
    every call, ``conditional_*`` the part of them that conditional calls make."""

    calls: int = 0
    calls_conditional: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    conditional_input_tokens: int = 0
    conditional_output_tokens: int = 0
    batch: bool = False


@dataclass
class PlanRow:
    checkpoint: str
    task: str
    condition: str
    counts: Counts


@dataclass
class RunPlan:
    """A run's size: one row per checkpoint x task x condition, and use per model."""

    suite: str
    rows: list[PlanRow] = field(default_factory=list)
    models: dict[str, ModelUse] = field(default_factory=dict)
    """model -> its use; checkpoints' models and judges (a judge under its own name)"""
    judges: list[str] = field(default_factory=list)
    assumed: set[str] = field(default_factory=set)
    """judge prompts not in :data:`JUDGE_PROMPTS`, counted by the default"""

    @property
    def total(self) -> Counts:
        total = Counts()
        for row in self.rows:
            total.add(row.counts)
        return total


def tokens(text: str) -> int:
    """Estimated tokens of ``text`` (at least one for a non-empty text)."""
    return -(-len(text) // CHARS_PER_TOKEN)


def _message_text(messages: str | Sequence[ChatMessage]) -> str:
    if isinstance(messages, str):
        return messages
    return "\n".join(m.text for m in messages)


@cache
def _prompt_template_chars(name: str) -> int:
    from alignprobe.scorers.prompts import load_judge_prompt

    try:
        return len(load_judge_prompt(name).template)
    except UserInputError:
        return 0


def _judge_models(judge: JudgeSpec | None) -> list[str]:
    if not judge:
        return [NO_JUDGE]
    return [judge] if isinstance(judge, str) else list(judge)


def _calls_per_number(judge: str, method: JudgeMethod, samples: int) -> tuple[int, int]:
    """(calls, max_tokens of each) for one 0-100 number from ``judge``."""
    if method is JudgeMethod.AUTO:
        method = default_method(judge) if judge != NO_JUDGE else JudgeMethod.LOGPROB
    if method is JudgeMethod.SAMPLED:
        return samples, SAMPLED_MAX_TOKENS
    return 1, 1


def _items(suite: Suite, planned: Sequence[Any]) -> Iterable[tuple[Any, dict[str, Any]]]:
    """Each planned task with the params of the suite entry that asked for it.

    ``plan_tasks`` builds the plan entry by entry (checkpoints, then conditions, within
    each), so the plan splits into the entries' blocks in order."""
    checkpoints = len({p.checkpoint for p in planned})
    position = 0
    for item in suite.tasks:
        block = planned[position : position + checkpoints * len(item.conditions)]
        position += len(block)
        for p in block:
            if p.task != item.task:  # the plan's order is not the suite's: say so, not guess
                raise AssertionError(f"plan order: {p.task} where {item.task} was expected")
            yield p, dict(item.params)
    if position != len(planned):
        raise AssertionError("plan and suite differ in length")


def _system_text(task_meta: dict[str, Any]) -> str:
    condition = task_meta.get("condition") or {}
    return str(condition.get("system") or "") if isinstance(condition, dict) else ""


def _sample_calls(
    sample: Sample,
    *,
    system: str,
    max_tokens: int,
    confession: bool,
    tool_turns: int,
) -> tuple[int, int, int, int, bool]:
    """(model calls, conditional model calls, input tokens, output tokens, is code)."""
    prompt = tokens(system) + tokens(_message_text(sample.input))
    is_code = (sample.metadata or {}).get("domain", "code") == "code"
    calls, conditional = 1, max(tool_turns - 1, 0)
    input_tokens, output_tokens = prompt, max_tokens
    if confession and is_code:  # the follow-up turn re-reads the conversation
        calls += 1
        input_tokens += prompt + max_tokens + tokens("x" * CONFESSION_TURN_CHARS)
        output_tokens += max_tokens
    if conditional:  # each further turn reads at least the first prompt again
        input_tokens += conditional * prompt
        output_tokens += conditional * max_tokens
    return calls, conditional, input_tokens, output_tokens, is_code


def build_plan(
    suite: Suite,
    planned: Sequence[Any],
    judge: JudgeSpec | None,
    models: Mapping[str, str] | None = None,
    *,
    judge_batch: bool = False,
    only: Sequence[Any] | None = None,
) -> RunPlan:
    """The size of ``planned`` (``suite_run.PlannedTask`` s, the whole plan), judged by
    ``judge``; ``models`` maps each checkpoint to the model string its calls are priced
    under; ``only``: the part of the plan this process runs (a shard's)."""
    included = None if only is None else {id(p) for p in only}
    judges = _judge_models(judge)
    plan = RunPlan(suite.name, judges=judges)
    for judge_name in judges:
        plan.models[judge_name] = ModelUse(batch=judge_batch)
    for item, params in _items(suite, planned):
        if included is not None and id(item) not in included:
            continue
        task = item.inspect_task
        meta = (task.metadata or {}).get(TASK_METADATA_KEY) or {}
        epochs = task.epochs or 1
        max_tokens = int(task.config.max_tokens or 0)
        tool_turns = (
            (task.message_limit or 0) // 2
            if meta.get("tools") or item.task == "agentic_honeypots"
            else 0
        )
        counts = Counts()
        prompts = [str(p).split("@", 1)[0] for p in meta.get("judge_prompt_ids") or []]
        judged = bool(prompts) or item.judged is True
        if judged and not prompts:  # another package's judged task: one call per sample
            prompts = ["(task's own judge)"]
        method = JudgeMethod(str(params.get("judge_method", JudgeMethod.AUTO.value)))
        draws = int(params.get("judge_samples", DEFAULT_SAMPLES_WITHOUT_LOGPROBS))
        model_name = (models or {}).get(item.checkpoint, item.checkpoint)
        checkpoint_model = plan.models.setdefault(model_name, ModelUse())
        for sample in task.dataset:
            calls, conditional, in_tok, out_tok, is_code = _sample_calls(
                sample,
                system=_system_text(meta),
                max_tokens=max_tokens,
                confession=bool(meta.get("confession")),
                tool_turns=tool_turns,
            )
            one = Counts(1, calls, conditional, 0, 0, in_tok, out_tok)
            question = tokens(_message_text(sample.input))
            for name in prompts:
                spec = JUDGE_PROMPTS.get(name)
                if spec is None:
                    plan.assumed.add(name)
                    spec = UNKNOWN_PROMPT
                if spec.when is JudgeWhen.CODE_CONDITIONAL and not is_code:
                    continue
                members = judges if spec.panel else judges[:1]
                for judge_name in members:
                    per, each_max = (
                        _calls_per_number(judge_name, method, draws)
                        if spec.reply is JudgeReply.NUMBER
                        else (1, spec.max_tokens)
                    )
                    judge_in = per * (
                        tokens("x" * _prompt_template_chars(name)) + question + max_tokens
                    )
                    judge_out = per * each_max
                    use = plan.models[judge_name]
                    if spec.when is JudgeWhen.EVERY:
                        one.judge_calls += per
                        use.calls += per * epochs
                    else:
                        one.judge_calls_conditional += per
                        use.calls_conditional += per * epochs
                    one.judge_input_tokens += judge_in
                    one.judge_output_tokens += judge_out
                    use.input_tokens += judge_in * epochs
                    use.output_tokens += judge_out * epochs
                    if spec.when is not JudgeWhen.EVERY:
                        use.conditional_input_tokens += judge_in * epochs
                        use.conditional_output_tokens += judge_out * epochs
            for name in one.__dataclass_fields__:
                setattr(counts, name, getattr(counts, name) + getattr(one, name) * epochs)
        checkpoint_model.calls += counts.model_calls
        checkpoint_model.calls_conditional += counts.model_calls_conditional
        checkpoint_model.input_tokens += counts.model_input_tokens
        checkpoint_model.output_tokens += counts.model_output_tokens
        plan.rows.append(PlanRow(item.checkpoint, item.task, item.condition, counts))
    judged_rows = [r for r in plan.rows if r.counts.judge_calls or r.counts.judge_calls_conditional]
    if not judge and not judged_rows:
        del plan.models[NO_JUDGE]
        plan.judges = []
    return plan


def check_max_calls(plan: RunPlan, max_calls: int | None) -> None:
    """Refuse a plan that can make more than ``max_calls`` calls (conditional ones included)."""
    if max_calls is None:
        return
    most = plan.total.calls_at_most
    if most > max_calls:
        raise UserInputError(
            f"the plan makes up to {most:,} model and judge calls, more than --max-calls "
            f"{max_calls:,} (see `alignprobe run ... --plan`; fewer checkpoints, conditions "
            "or samples, a `limit:` in the suite, or a larger --max-calls)",
            field="--max-calls",
        )
