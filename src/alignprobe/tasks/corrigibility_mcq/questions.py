"""Split a model-written-evals question into stem and lettered choices, and re-letter it.

``"<stem>\\n\\nChoices:\\n (A) Yes\\n (B) No"`` (optionally wrapped as ``Question: ...
\\n\\nAnswer:``). The text before the first choice is kept verbatim, as is anything after
the last choice line, so the original order renders back to the published text.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from dataclasses import dataclass

from alignprobe.fileio import RowProblem
from alignprobe.tasks.corrigibility_mcq.types import MalformedReason

_CHOICE = re.compile(r"^([ \t]*)\(([A-Z])\)[ \t]*(.*)$", re.MULTILINE)
_HEADER = re.compile(r"^\s*(?:\**\s*)?(choices|answers?|options)\b.*:\s*\**\s*$", re.I | re.M)
_QUESTION_PREFIX = re.compile(r"^\s*question\s*:\s*", re.I)
_WORD = re.compile(r"[^\W\d_]{1,}")


@dataclass(frozen=True)
class ParsedQuestion:
    prefix: str
    """Everything before the first choice line (stem and the ``Choices:`` header)."""
    choices: tuple[str, ...]
    """Choice texts in published order (index 0 = letter A)."""
    suffix: str
    """Everything after the last choice line (e.g. ``\\n\\nAnswer:``)."""
    indent: str = " "

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(string.ascii_uppercase[: len(self.choices)])

    @property
    def stem(self) -> str:
        """The question without choice header or ``Question:`` wrapper."""
        text = _HEADER.sub("", self.prefix)
        return _QUESTION_PREFIX.sub("", text).strip()

    @property
    def stem_words(self) -> int:
        return len(_WORD.findall(self.stem))

    def render(self, order: tuple[int, ...], instruction: str = "") -> str:
        """The question with choice ``order[j]`` shown at letter j; ``instruction`` before the suffix."""
        lines = [
            f"{self.indent}({letter}) {self.choices[index]}"
            for letter, index in zip(self.letters, order, strict=True)
        ]
        body = self.prefix + "\n".join(lines)
        if instruction:
            body += "\n\n" + instruction
        return body + self.suffix


def parse_question(text: str) -> ParsedQuestion:
    """Parse; :class:`RowProblem` says what is wrong (the caller adds file and line)."""
    matches = list(_CHOICE.finditer(text))
    if len(matches) < 2:
        raise RowProblem(
            MalformedReason.TOO_FEW_CHOICES,
            "expected at least two lettered choices like ' (A) ...' on their own lines",
        )
    letters = [m.group(2) for m in matches]
    expected = list(string.ascii_uppercase[: len(letters)])
    if letters != expected:
        found = ", ".join(letters)
        repeated = sorted(letter for letter, n in Counter(letters).items() if n > 1)
        if repeated:
            raise RowProblem(
                MalformedReason.REPEATED_LETTER,
                f"choice letter {', '.join(repeated)} appears more than once (found {found})",
            )
        raise RowProblem(
            MalformedReason.LETTERS_OUT_OF_ORDER,
            f"choices must be lettered {', '.join(expected)} in order, found {found}",
        )
    choices: list[str] = []
    for current, following in zip(matches, [*matches[1:], None], strict=True):
        # a choice runs to the next choice; the last one is its own line only
        end = following.start() if following is not None else current.end()
        choices.append(text[current.start(3) : end].strip())
    empty = [letter for letter, choice in zip(letters, choices, strict=True) if not choice]
    if empty:
        raise RowProblem(MalformedReason.EMPTY_CHOICE, f"choice ({', '.join(empty)}) has no text")
    return ParsedQuestion(
        prefix=text[: matches[0].start()],
        choices=tuple(choices),
        suffix=text[matches[-1].end() :],
        indent=matches[0].group(1),
    )


def swapped_order(n: int) -> tuple[int, ...]:
    """Show choice ``(j + n // 2) % n`` at letter j: every choice changes letter (n >= 2).

    Two choices are swapped; more are rotated (a reversal would leave the middle one of an
    odd number in place).
    """
    shift = n // 2
    return tuple((j + shift) % n for j in range(n))


def answer_letter(answer: str) -> str | None:
    """``" (A)"`` / ``"(A)"`` / ``"A"`` -> ``"A"``."""
    match = re.fullmatch(r"\s*\(?\s*([A-Z])\s*\)?\s*", answer)
    return match.group(1) if match else None
