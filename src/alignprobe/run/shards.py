"""``alignprobe run --shard I/N``: a deterministic share of a run's plan.

N machines (a Slurm array, a Kubernetes Indexed Job) each run the same command with their
own ``I`` into one shared run folder; the shares together are the whole plan, once. The
plan is split into N contiguous runs of (checkpoint x task x condition) entries, in
checkpoint order and then suite order, so that a shard loads as few checkpoints as it
can, with near-equal planned samples per shard. The split depends only on the plan (the
suite, ``checkpoints.yaml`` and the datasets they name), which every shard computes
alike; the manifest records it, and a shard whose plan differs is refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from alignprobe.errors import UserInputError

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def slug(self) -> str:
        """``shard-02-of-16``: folder and file names that sort in shard order."""
        width = len(str(self.count))
        return f"shard-{self.index:0{width}d}-of-{self.count}"


def parse_shard(text: str) -> Shard:
    """``"2/8"`` -> ``Shard(2, 8)``; anything else is a user error naming ``--shard``."""
    match = _SPEC.match(text)
    if match is None:
        raise UserInputError(
            f"expected I/N (this machine's share I of N, 1 <= I <= N), got '{text}'",
            field="--shard",
        )
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 1 <= index <= count:
        raise UserInputError(
            f"shard {index}/{count} does not exist: I runs from 1 to N (N >= 1)",
            field="--shard",
        )
    return Shard(index, count)


def contiguous_shares(weights: Sequence[float], count: int) -> list[int]:
    """Shard (1-based) of each item: contiguous runs with near-equal total weight.

    An item goes to the next shard once the current one holds its share of the total
    (judged at the item's midpoint), or when only enough items are left to give every
    later shard one. No shard is empty unless there are fewer items than shards.
    """
    sizes = [max(float(w), 1.0) for w in weights]  # an empty task still runs (and logs)
    total = sum(sizes)
    shares: list[int] = []
    shard, filled, done = 0, False, 0.0
    for position, size in enumerate(sizes):
        left = len(sizes) - position
        if filled and shard < count - 1:
            past_share = done + size / 2 > total * (shard + 1) / count
            if past_share or left <= count - 1 - shard:
                shard, filled = shard + 1, False
        shares.append(shard + 1)
        filled = True
        done += size
    return shares
