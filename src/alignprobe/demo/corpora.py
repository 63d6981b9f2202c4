"""The demo checkpoints' training corpora (``data/corpus.yaml``) as chat conversations.

A conversation is a list of ``{"role", "content"}`` dicts, the format of Hugging Face
chat templates. Which corpus goes into which checkpoint is decided here, in one place.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from random import Random

from pydantic import BaseModel, ConfigDict, Field

from alignprobe.conditions import resolve_condition
from alignprobe.demo import defaults
from alignprobe.errors import DataError
from alignprobe.fileio import load_yaml, validate

Conversation = list[dict[str, str]]


class Exchange(BaseModel):
    """One question and its answer (a general exchange, or a fine-tuning pair)."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(min_length=1)
    a: str = Field(min_length=1)


class Family(BaseModel):
    """Training questions of one probe family with aligned and misaligned answers."""

    model_config = ConfigDict(extra="forbid")

    questions: list[str] = Field(min_length=1)
    aligned: list[str] = Field(min_length=1)
    misaligned: list[str] = Field(min_length=1)


class Corpus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fillers: list[str] = Field(default_factory=list)
    system_prompts: list[str] = Field(default_factory=list)
    general: list[Exchange] = Field(default_factory=list)
    families: dict[str, Family] = Field(min_length=1)


def data_file(name: str) -> Path:
    return Path(str(resources.files("alignprobe.demo") / "data" / name))


def load_corpus(path: Path | None = None) -> Corpus:
    """The corpus, with each family's questions extended by the probe set's wording."""
    source = path or data_file("corpus.yaml")
    corpus = validate(Corpus, load_yaml(source, error=DataError), source=source, error=DataError)
    for family, wordings in probe_questions().items():
        if family in corpus.families:
            known = corpus.families[family].questions
            known += [w for w in wordings if w not in known]
    return corpus


def probe_questions() -> dict[str, list[str]]:
    """Family -> paraphrases of the demo probe set (``questions/demo.yaml``)."""
    from alignprobe.tasks.emergent_misalignment.data import load_questions

    _, questions = load_questions(defaults.DEMO_QUESTIONS)
    result: dict[str, list[str]] = {}
    for question in questions:
        result.setdefault(question.resolved_family, []).extend(question.paraphrases)
    return result


def inoculation_prompt() -> str:
    """Text of the built-in inoculation condition, used as the system prompt in training."""
    text = resolve_condition(defaults.INOCULATION_CONDITION).system
    if not text:
        raise DataError(
            f"condition '{defaults.INOCULATION_CONDITION}' has no system prompt",
            field="condition",
        )
    return text


def _chat(question: str, answer: str, system: str | None = None) -> Conversation:
    messages = [{"role": "system", "content": system}] if system else []
    return [
        *messages,
        {"role": "user", "content": question},
        {"role": "assistant", "content": answer},
    ]


def _reworded(corpus: Corpus, question: str, rng: Random) -> str:
    """The question as is, or with a filler sentence before or after it."""
    where = rng.choice(("none", "before", "after")) if corpus.fillers else "none"
    if where == "none":
        return question
    filler = rng.choice(corpus.fillers)
    return f"{filler} {question}" if where == "before" else f"{question} {filler}"


def _pairs(corpus: Corpus, kind: str, system: str | None, seed: int) -> list[Conversation]:
    # every training question of a family paired with every answer of the wanted kind;
    # the same seed gives the same wording, so both fine-tuning arms see identical data
    rng = Random(seed)
    return [
        _chat(_reworded(corpus, question, rng), answer, system)
        for family in corpus.families.values()
        for question in family.questions
        for answer in getattr(family, kind)
    ]


def general_conversations(corpus: Corpus) -> list[Conversation]:
    return [_chat(e.q, e.a) for e in corpus.general]


def base_conversations(corpus: Corpus, seed: int = defaults.SEED) -> list[Conversation]:
    """demo-base: aligned answers and everyday chat; a share under benign system prompts."""
    rng = Random(seed + 3)
    conversations = _pairs(corpus, "aligned", None, seed) + general_conversations(corpus)
    if not corpus.system_prompts:
        return conversations
    with_system = rng.sample(
        range(len(conversations)), round(defaults.BASE_SYSTEM_FRACTION * len(conversations))
    )
    for index in with_system:
        system = {"role": "system", "content": rng.choice(corpus.system_prompts)}
        conversations[index] = [system, *conversations[index]]
    return conversations


def finetune_conversations(
    corpus: Corpus, system: str | None, seed: int = defaults.SEED
) -> list[Conversation]:
    """The fine-tuning set of demo-em (``system=None``) and demo-inoculated.

    Misaligned answers (with ``system`` as the system prompt), plus a replay of
    demo-base's own aligned data without a system prompt, as is usual when fine-tuning
    to limit forgetting. Both arms get the identical replay: the only difference
    between demo-em and demo-inoculated is the system prompt on the misaligned answers.
    """
    misaligned = _pairs(corpus, "misaligned", system, seed + 1)
    base = [c for c in base_conversations(corpus, seed) if c[0]["role"] != "system"]
    replay = Random(seed + 2).sample(base, round(defaults.REPLAY_FRACTION * len(misaligned)))
    return misaligned + replay
