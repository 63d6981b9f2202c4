"""Gold labels -> ``gold.md``, ``gold.html`` and ``gold.json`` in a report folder (used by
``alignprobe gold report`` and ``alignprobe compare --gold``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from alignprobe.judging.gold import ConflictPolicy, load_gold
from alignprobe.judging.gold_stats import GoldReport, gold_report
from alignprobe.judging.render import render_pair
from alignprobe.results.sample_rows import Measures
from alignprobe.run.suite_run import write_json_atomic


def write_gold_report(
    table: pd.DataFrame,
    measures: Measures,
    labels: Path,
    out: Path,
    lam: float | None = 1.0,
    conflicts: ConflictPolicy = ConflictPolicy.REFUSE,
) -> tuple[GoldReport, list[Path]]:
    gold = load_gold(labels, table, measures, conflicts)
    report = gold_report(table, measures, gold, lam=lam)
    paths = render_pair("gold", out, g=report)
    json_path = out / "gold.json"
    write_json_atomic(json_path, report.as_dict())
    return report, [*paths, json_path]
