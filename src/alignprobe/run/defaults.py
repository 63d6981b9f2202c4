"""Inspect settings for large runs, in one place.

``alignprobe run`` and ``alignprobe eval`` pass :func:`large_run_eval_args` to Inspect's
``eval_set()`` / ``eval()`` and :func:`large_run_model_roles` as ``model_roles``. Every
choice is measured by ``python bench/run.py`` (see ``docs/performance.md``); none of them drops
anything a report reads: every sample's messages, scores, score metadata and model events
are still written to the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from inspect_ai.model import GenerateConfig, Model, get_model

LARGE_RUN_EVAL_ARGS: Mapping[str, Any] = MappingProxyType(
    {
        # Keep every sample (messages, events, scores) in the log: reports need them.
        "log_samples": True,
        # The realtime buffer (a SQLite database beside the log, written on every
        # event) only serves live viewing of samples still running in `inspect view`.
        # Finished samples are logged the same way without it; it cost ~3 ms CPU per
        # sample in the benchmark.
        "log_realtime": False,
        # Live metrics are recomputed over all finished samples about once a second,
        # which grows with the run (quadratic over a 100k-sample run). Metrics are
        # still computed once at the end and written to the log.
        "score_display": False,
        # Raw provider request/response payloads would double the log for nothing a
        # report reads; Inspect's default, stated so a global setting cannot flip it.
        "log_model_api": False,
        # A sample whose model or judge call still failed after its bounded retries
        # (LARGE_RUN_GENERATE) runs once more before it counts as an error; more would
        # multiply the time a dead server holds each sample.
        "retry_on_error": 1,
    }
)
"""Inspect ``eval()`` / ``eval_set()`` keyword arguments for large runs."""

LARGE_RUN_GENERATE = GenerateConfig(
    # A request that hangs is abandoned after this many seconds and retried
    # (otherwise only the HTTP client's 600 s read timeout ends it). Generous:
    # a 600-token answer at 10 tokens/s takes a minute.
    attempt_timeout=300,
    # Inspect retries a failing call forever by default (backoff 3 s doubling to 30 min):
    # a server that always answers 429/500 would hold a sample silently for hours. Six
    # retries back off about 3.5 minutes in all; `timeout` caps a call's retries at 15
    # minutes when attempts hang. Then the call fails, the sample errors and the run
    # exits 1 (re-run to finish). Retries are printed as they happen (retry_notice.py).
    max_retries=6,
    timeout=900,
)
"""Generation settings every run starts from (lowest precedence: see ``generation.py``)."""

#: ``eval_set`` re-runs a task whose log ended in error this many times within one
#: invocation (Inspect's default is 10, which against a dead server multiplies every bound
#: above by 11); re-running the command resumes what is left.
TASK_RETRY_ATTEMPTS = 2


def large_run_eval_args(*, with_generate: bool = True, **overrides: Any) -> dict[str, Any]:
    """:data:`LARGE_RUN_EVAL_ARGS` with the caller's non-``None`` values on top.

    ``with_generate`` adds :data:`LARGE_RUN_GENERATE` as eval-wide settings (for a single
    ``eval``); ``alignprobe run`` puts them into each task's config instead, so a
    checkpoint's own ``generate:`` can override them.
    """
    args = dict(LARGE_RUN_EVAL_ARGS)
    if with_generate:
        args.update(LARGE_RUN_GENERATE.model_dump(exclude_none=True))
    args.update({key: value for key, value in overrides.items() if value is not None})
    return args


def large_run_model_roles(
    roles: Mapping[str, str | Model] | None,
    attempt_timeout: int | None = None,
    *,
    batch: bool = False,
) -> dict[str, str | Model] | None:
    """Role models (the judge) with the large-run ``attempt_timeout`` in their own config.

    Inspect passes ``max_connections``, ``max_retries`` and ``timeout`` from the eval to
    role models, but not ``attempt_timeout``: without this a hung judge request waits for
    the HTTP client's 600 s timeout. A role given as a ``Model`` is left as it is.
    """
    if roles is None:
        return None
    timeout = attempt_timeout or LARGE_RUN_GENERATE.attempt_timeout
    # batch: Inspect sends the role's calls through the provider's batch API where it
    # has one (about half price; a batch returns in minutes to hours, so no attempt
    # timeout may cut it); providers without one send calls one by one as usual
    config = GenerateConfig(batch=True) if batch else GenerateConfig(attempt_timeout=timeout)
    return {
        role: get_model(model, config=config, memoize=False) if isinstance(model, str) else model
        for role, model in roles.items()
    }
