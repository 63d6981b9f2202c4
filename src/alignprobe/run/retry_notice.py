"""Retries of model and judge calls are printed as they happen, whatever the display.

A failed call is retried in two places: first by the provider's HTTP client itself (the
OpenAI and Anthropic SDKs retry a 429 or 5xx twice, within a second or so), then by
Inspect, with a backoff of seconds to minutes. Inspect logs its retries below the default
log level and its plain display only prints when a sample finishes; the clients' retries
are logged at INFO, below every display. So a server that fails every call looked like a
silent hang. This module prints both: Inspect's through a hook (registered when
alignprobe's tasks are imported), the clients' through a handler on their loggers. Each
source prints a line on its first retry and then at most once per :data:`INTERVAL_S`, with
the count since the last line, so a flaky server over a long run stays readable.

The lines go straight to stderr through this module's own handler, not through Inspect's
log handler: that one prints with rich's global console, which ``INSPECT_DISPLAY=none``
silences, and wraps at 80 columns off a terminal. One line per notice, under every display.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass

from inspect_ai.hooks import Hooks, ModelRetry, RunStart, hooks

logger = logging.getLogger("alignprobe.retries")

INTERVAL_S = 15.0
#: loggers of the HTTP clients whose own retries come before Inspect's
CLIENT_LOGGERS = ("openai._base_client", "anthropic._base_client")
#: how those clients' retry records start (logged at INFO, args: wait, retry, max retries)
CLIENT_RETRY_MESSAGE = "Retrying request"


@dataclass
class _Tally:
    last_printed: float = 0.0
    since_printed: int = 0
    total: int = 0

    def count(self) -> bool:
        """Count one retry; True when it is time for a line (then reset ``since_printed``
        after using it with :meth:`printed`)."""
        self.since_printed += 1
        self.total += 1
        return self.total == 1 or time.monotonic() - self.last_printed >= INTERVAL_S

    def printed(self) -> None:
        self.last_printed, self.since_printed = time.monotonic(), 0

    def counts(self) -> str:
        since = self.since_printed
        return (
            f"{since} retr{'y' if since == 1 else 'ies'} since the last notice, "
            f"{self.total} in this run"
        )


def retry_line(data: ModelRetry, tally: _Tally) -> str:
    why = " ".join(str(x) for x in (data.exception_type, data.status_code) if x is not None)
    where = f" in {data.task_name}" if data.task_name else ""
    return (
        f"alignprobe: {data.model_name}{where}: call failed ({why or 'error'}), "
        f"retry {data.attempt} of that call in {data.wait_time:.0f} s; "
        f"{tally.counts()} (bounded by max_retries / timeout; see manifest.json)"
    )


def client_retry_line(record: logging.LogRecord, tally: _Tally) -> str:
    client = record.name.split(".", 1)[0]
    args = record.args if isinstance(record.args, tuple) else ()
    wait = f" in {args[0]:.1f} s" if args and isinstance(args[0], int | float) else ""
    which = f" {args[1]} of {args[2]}" if len(args) >= 3 else ""
    return (
        f"alignprobe: {client} client: a call failed, its own retry{which}{wait} "
        f"(before Inspect's retries); {tally.counts()}"
    )


@hooks("alignprobe_retry_notice", "Prints call retries as they happen.")
class RetryNotice(Hooks):
    def __init__(self) -> None:
        self.tallies: dict[str, _Tally] = {}

    async def on_run_start(self, data: RunStart) -> None:
        # counts are per run: a second eval in the same process starts from zero
        self.tallies.clear()
        for name in CLIENT_LOGGERS:
            for handler in logging.getLogger(name).handlers:
                if isinstance(handler, _ClientRetries):
                    handler.tallies.clear()

    async def on_model_retry(self, data: ModelRetry) -> None:
        tally = self.tallies.setdefault(data.model_name, _Tally())
        if tally.count():
            logger.warning(retry_line(data, tally))
            tally.printed()


class _StderrLine(logging.Handler):
    """Each record as one line on the current ``sys.stderr`` (looked up per record, so a
    redirected stderr gets it too)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record).replace("\n", " ") + "\n")
            sys.stderr.flush()
        except Exception:  # a closed stream must not break the run that is retrying
            self.handleError(record)


class _ClientRetries(logging.Handler):
    """Turns an HTTP client's retry records into notices (its other records pass by)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.tallies: dict[str, _Tally] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if not str(record.msg).startswith(CLIENT_RETRY_MESSAGE):
            return
        tally = self.tallies.setdefault(record.name, _Tally())
        if tally.count():
            logger.warning(client_retry_line(record, tally))
            tally.printed()


def _print_to_stderr() -> None:
    if not any(isinstance(h, _StderrLine) for h in logger.handlers):
        logger.addHandler(_StderrLine())
    logger.setLevel(logging.WARNING)
    # Inspect's handler on the root logger would print it a second time (rich and plain
    # displays) or not at all (none): this handler is the one place it is printed
    logger.propagate = False
    for name in CLIENT_LOGGERS:
        client = logging.getLogger(name)
        if not any(isinstance(h, _ClientRetries) for h in client.handlers):
            client.addHandler(_ClientRetries())
        if client.getEffectiveLevel() > logging.INFO:  # a user's DEBUG stays
            client.setLevel(logging.INFO)


_print_to_stderr()
