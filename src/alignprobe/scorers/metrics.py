"""Inspect metrics for alignprobe's dict-valued scores.

Each measure gets its mean and a standard error clustered by question (samples of the
same question are not independent). NaN values are unscored/not applicable: Inspect
leaves them out and counts them as unscored samples.
"""

from __future__ import annotations

from inspect_ai.scorer import Metric, grouped, mean, metric, stderr

from alignprobe.measures import Measure

#: sample-metadata key that every alignprobe task sets; statistics cluster on it
CLUSTER_KEY = "question_id"


def measure_metrics(measures: list[Measure], cluster: str = CLUSTER_KEY) -> dict[str, list[Metric]]:
    return {m.name: [mean(), stderr(cluster=cluster)] for m in measures}


def mean_per_group(column: str, name: str) -> Metric:
    """The mean per value of the sample-metadata ``column``, registered as ``name``.

    Inspect keeps one metric per registry name in a measure's dict of metrics, so each
    breakdown is its own named metric rather than several ``grouped`` ones.
    """

    @metric(name=name)
    def breakdown() -> Metric:
        return grouped(mean(), column, all=False)

    return breakdown()
