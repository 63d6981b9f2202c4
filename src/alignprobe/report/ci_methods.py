"""The report's interval methods, stated once per measure kind.

Nearly every row of a kind gets its interval the same way, so the report says how once
(:attr:`MethodNotes.kinds`) and gives a numbered footnote only to the rows computed
otherwise: a rate of exactly 0 or 1, one question, a score without variation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from alignprobe.report.stats import RATE_CI_CLUSTERED, SCORE_CI_CLUSTERED

#: the usual method of each measure kind, as the report states it
KIND_METHODS = {
    "rate": (
        "Wilson score interval on the effective number of answers (answers divided by the "
        "design effect, estimated from how answers cluster by question; never above the "
        "number of answers), with the critical value of t on questions - 1 df"
    ),
    "score": (
        "t interval on the cluster-robust (CR1) standard error by question, questions - 1 df"
    ),
}
#: how the method text of a row computed the usual way starts (see report/stats.py)
_USUAL_PREFIX = {"rate": RATE_CI_CLUSTERED, "score": SCORE_CI_CLUSTERED}


@dataclass
class MethodNotes:
    """The method per measure kind present, and the footnotes of rows that differ."""

    kinds: list[tuple[str, str]] = field(default_factory=list)
    """(kind, method) for each kind the report shows, in first-seen order."""
    footnotes: list[str] = field(default_factory=list)
    """Footnote ``i + 1``'s text: a method some row used instead of its kind's."""

    def footnote(self, row: dict[str, Any]) -> int | None:
        """The footnote number of a rates row (``kind``, ``estimate``), None if usual."""
        method = str(row["estimate"].method)
        if method.startswith(_USUAL_PREFIX.get(str(row["kind"]), "\0")):
            return None
        text = f"{row['kind']}: {method}"
        if text not in self.footnotes:
            self.footnotes.append(text)
        return self.footnotes.index(text) + 1


def method_notes(rows: Iterable[dict[str, Any]]) -> MethodNotes:
    """Notes for the rates rows a report shows; footnotes numbered in row order."""
    notes = MethodNotes()
    for row in rows:
        kind = str(row["kind"])
        if kind not in dict(notes.kinds):
            notes.kinds.append((kind, KIND_METHODS.get(kind, "see the footnotes")))
        notes.footnote(row)
    return notes
