"""Retries of model and judge calls are printed as they happen, whatever the display.

Inspect logs each retry below the default log level, and its plain display only prints
when a sample finishes, so a server that fails every call looked like a silent hang. This
hook (registered when alignprobe's tasks are imported) prints a warning on a model's first
retry and then at most once per :data:`INTERVAL_S` per model, with the count since the
last line, so a flaky server over a long run stays readable.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from inspect_ai.hooks import Hooks, ModelRetry, hooks

logger = logging.getLogger("alignprobe.retries")

INTERVAL_S = 15.0


@dataclass
class _Tally:
    last_printed: float = 0.0
    since_printed: int = 0
    total: int = 0


def retry_line(data: ModelRetry, since_printed: int, total: int) -> str:
    why = " ".join(str(x) for x in (data.exception_type, data.status_code) if x is not None)
    where = f" in {data.task_name}" if data.task_name else ""
    return (
        f"alignprobe: {data.model_name}{where}: call failed ({why or 'error'}), "
        f"retry {data.attempt} of that call in {data.wait_time:.0f} s; "
        f"{since_printed} retr{'y' if since_printed == 1 else 'ies'} since the last notice, "
        f"{total} in all (bounded by max_retries / timeout; see manifest.json)"
    )


@hooks("alignprobe_retry_notice", "Prints model and judge call retries as they happen.")
class RetryNotice(Hooks):
    def __init__(self) -> None:
        self.tallies: dict[str, _Tally] = {}

    async def on_model_retry(self, data: ModelRetry) -> None:
        tally = self.tallies.setdefault(data.model_name, _Tally())
        tally.since_printed += 1
        tally.total += 1
        now = time.monotonic()
        if tally.total == 1 or now - tally.last_printed >= INTERVAL_S:
            logger.warning(retry_line(data, tally.since_printed, tally.total))
            tally.last_printed, tally.since_printed = now, 0
