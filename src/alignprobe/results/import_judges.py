"""Who judged imported results: a judge identity the user can state, with format defaults.

``compare`` and ``gate`` refuse results judged by different judges, so an imported file
needs the same kind of ``judge_id`` a run records (:class:`JudgeIdentity` keys joined by
``" + "``). Each known format has a documented default: the judge its publication used.
It is the format's published judge, taken on trust, **not** verified per file.

Betley-format CSVs (``betley-csv``): Betley et al. (2025) judged with
``openai/gpt-4o-2024-08-06`` (the ``judge:`` field of their question files), logprob
method, using the ``aligned`` and ``coherent`` prompts of their question files
(``first_plot_questions.yaml`` and ``preregistered_evals.yaml`` share them). The prompt
part of the identity is exactly what ``alignprobe eval emergent_misalignment -T
questions=<their file> -T judge_prompts=questions`` records (``file_aligned@v0#<hash>``),
so a published CSV and a re-run with the published judge set-up are comparable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alignprobe.errors import DataError, UserInputError
from alignprobe.scorers.grader import JudgeIdentity
from alignprobe.scorers.numeric_judge import default_method
from alignprobe.scorers.prompts import inline_prompt, load_judge_prompt

#: the judge of the published emergent-misalignment results (Betley et al. 2025)
BETLEY_JUDGE = "openai/gpt-4o-2024-08-06"
#: ``--judge-prompt`` name of the Betley et al. aligned / coherent judge prompts
BETLEY_PROMPTS = "betley2025"
#: sha256[:16] of those prompt texts as alignprobe reads them from a question file
#: (``inline_prompt(...).hash``; tests check them against ``../shared/reference``)
BETLEY_PROMPT_HASHES = {"aligned": "872a28e2f0536578", "coherent": "3fe355bee14bcd6f"}
#: ``--judge-prompt`` name of alignprobe's own emergent-misalignment prompts
ALIGNPROBE_PROMPTS = "alignprobe"
#: prompt hash recorded for a prompt the user names but alignprobe cannot read
STATED = "stated"


@dataclass(frozen=True)
class ImportFormat:
    """A published results format and the judge its publication used."""

    name: str
    judge: str
    judge_prompt: str
    description: str


BETLEY_CSV = ImportFormat(
    name="betley-csv",
    judge=BETLEY_JUDGE,
    judge_prompt=BETLEY_PROMPTS,
    description=(
        f"{BETLEY_JUDGE} with the Betley et al. (2025) aligned/coherent judge prompts "
        "(the format's published judge, not verified per file)"
    ),
)


@dataclass(frozen=True)
class PromptId:
    name: str
    version: int
    hash: str


def _question_file_prompts(path: Path) -> list[PromptId]:
    from alignprobe.tasks.emergent_misalignment.data import load_questions

    _, questions = load_questions(str(path))
    found = {tuple(sorted(q.judge_prompts.items())) for q in questions if q.judge_prompts}
    if len(found) != 1:
        raise DataError(
            f"expected one set of judge_prompts in the question file, found {len(found)}",
            source=path,
            field="judge_prompts",
        )
    prompts = dict(next(iter(found)))
    missing = [k for k in ("aligned", "coherent") if k not in prompts]
    if missing:
        raise DataError(
            f"judge_prompts lacks {', '.join(missing)}", source=path, field="judge_prompts"
        )
    return [
        PromptId(p.name, p.version, p.hash)
        for p in (inline_prompt(f"file_{k}", prompts[k]) for k in ("aligned", "coherent"))
    ]


def prompt_ids(prompt: str) -> list[PromptId]:
    """``betley2025``, ``alignprobe``, a question YAML with ``judge_prompts``, or a label."""
    if prompt == BETLEY_PROMPTS:
        return [PromptId(f"file_{k}", 0, h) for k, h in BETLEY_PROMPT_HASHES.items()]
    if prompt == ALIGNPROBE_PROMPTS:
        from alignprobe.tasks.emergent_misalignment import defaults

        return [
            PromptId(p.name, p.version, p.hash)
            for p in map(load_judge_prompt, (defaults.ALIGNED_PROMPT, defaults.COHERENT_PROMPT))
        ]
    path = Path(prompt)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return _question_file_prompts(path)
    if not prompt.strip() or " + " in prompt:
        raise UserInputError(f"not a usable prompt name: '{prompt}'", field="--judge-prompt")
    # a prompt alignprobe cannot read: recorded as the user states it
    return [PromptId(prompt, 0, STATED)]


def judge_identity(judge: str, prompt: str) -> str:
    """The ``judge_id`` of results judged by model ``judge`` with prompt(s) ``prompt``.

    The method is the one alignprobe would use live for that model (logprob, or sampled
    for providers without logprobs), as recorded by the emergent-misalignment scorer.
    """
    if not judge.strip() or "|" in judge:
        raise UserInputError(f"not a usable judge model name: '{judge}'", field="--judge")
    method = default_method(judge).value
    return " + ".join(JudgeIdentity.of(judge, p, method).key for p in prompt_ids(prompt))
