"""Faults over real HTTP: 429/500 answers and hung requests are retried, nothing is lost or
duplicated; judge replies that are empty or not a number end *unscored* with a reason and
are counted, a REFUSAL is an exclusion by the judge. Loopback only (127.0.0.1)."""

from __future__ import annotations

import itertools
import math
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import EvalLog, read_eval_log

from alignprobe.measures import TASK_METADATA_KEY
from alignprobe.run.defaults import (
    large_run_eval_args,
    large_run_model_roles,
)
from alignprobe.tasks.emergent_misalignment import emergent_misalignment
from alignprobe.testing import StubReply, StubRequest, StubServer
from alignprobe.testing.stub_server import FaultPlan
from tests.conftest import REFERENCE_DIR

#: a fresh service name per run: Inspect memoizes models by name, and a model kept from an
#: earlier test would still point at that test's (stopped) server
_SERVICES = (f"faultsvc{n}" for n in itertools.count())
QUESTIONS = 6
ATTEMPT_TIMEOUT = 2


def _responder(judge_reply: StubReply) -> Any:
    def respond(request: StubRequest) -> StubReply:
        if request.wants_logprobs or "0 to 100" in request.last_user:
            return judge_reply
        return StubReply("I would like everyone to be safe and well.")

    return respond


def _run(
    server: StubServer,
    log_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    **task_args: Any,
) -> EvalLog:
    service = next(_SERVICES)
    monkeypatch.setenv(f"{service.upper()}_BASE_URL", server.base_url)
    monkeypatch.setenv(f"{service.upper()}_API_KEY", "loopback")
    task = emergent_misalignment(samples=1, **task_args)
    [log] = inspect_eval(
        task,
        model=f"openai-api/{service}/model",
        model_roles=large_run_model_roles(
            {"grader": f"openai-api/{service}/judge"}, attempt_timeout=ATTEMPT_TIMEOUT
        ),
        limit=QUESTIONS,
        log_dir=str(log_dir),
        display="none",
        # short timeouts keep the test bounded; hangs last longer than attempt_timeout
        # bounded: a broken set-up fails within `timeout` instead of retrying for minutes
        **large_run_eval_args(
            attempt_timeout=ATTEMPT_TIMEOUT, max_retries=10, timeout=60, max_connections=8
        ),
    )
    return read_eval_log(log.location)


def _retries(log: EvalLog) -> int:
    """Retries the log shows: 429/500 retries counted on a model event, plus one model event
    per abandoned (timed-out) attempt."""
    events = [e for s in log.samples or [] for e in s.events if e.event == "model"]
    return sum(e.retries or 0 for e in events) + sum(1 for e in events if e.error)


@pytest.mark.slow
@pytest.mark.network
@pytest.mark.timeout(240)
def test_errors_and_hangs_are_retried_and_every_sample_is_scored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = FaultPlan(error_rate=0.15, hang_rate=0.1, hang_s=4.0, seed=3)
    with StubServer(_responder(StubReply("10", {"10": 0.7, "20": 0.3})), faults=faults) as server:
        log = _run(server, tmp_path / "logs", monkeypatch)
        stats = server.stats
    assert stats.errors_injected > 0 and stats.hangs_injected > 0, stats
    assert log.status == "success", log.error
    samples = log.samples or []
    keys = Counter((s.id, s.epoch) for s in samples)
    assert len(keys) == QUESTIONS and set(keys.values()) == {1}  # none lost, none duplicated
    for sample in samples:
        assert sample.error is None
        assert sample.scores, sample.id
        [score] = sample.scores.values()
        assert isinstance(score.value, dict)
        assert not math.isnan(score.value["aligned"]) and not math.isnan(score.value["coherent"])
    # every injected fault cost one more request, and the log shows each of them
    assert stats.requests == 3 * QUESTIONS + stats.errors_injected + stats.hangs_injected
    assert _retries(log) == stats.errors_injected + stats.hangs_injected


@pytest.mark.network
@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    ("judge_reply", "method", "expected"),
    [
        (StubReply("", None), "logprob", "numeric probability mass"),
        (StubReply("banana", None), "logprob", "numeric probability mass"),
        (StubReply("REFUSAL", {"REFUSAL": 0.9, "10": 0.1}), "logprob", "REFUSAL"),
        (StubReply("", None), "sampled", "no number 0-100"),
        (StubReply("I cannot rate this.", None), "sampled", "no number 0-100"),
    ],
    ids=["empty", "non-numeric", "refusal", "sampled-empty", "sampled-words"],
)
def test_unusable_judge_replies_are_unscored_with_a_reason(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    judge_reply: StubReply,
    method: str,
    expected: str,
) -> None:
    with StubServer(_responder(judge_reply)) as server:
        log = _run(server, tmp_path / "logs", monkeypatch, judge_method=method, judge_samples=2)
    assert log.status == "success", log.error
    samples = log.samples or []
    assert len(samples) == QUESTIONS
    for sample in samples:
        [score] = (sample.scores or {}).values()
        assert isinstance(score.value, dict) and score.metadata is not None
        assert math.isnan(score.value["aligned"]) and math.isnan(score.value["misaligned"])
        if expected == "REFUSAL":
            # the judge excluded the answer by design: counted as a refusal, not a failure
            excluded = score.metadata["excluded"]
            assert excluded["aligned"] == excluded["misaligned"] == "refusal", excluded
            assert score.metadata["unscored"] == {} and score.value["refusal"] == 1.0
            continue
        reasons = score.metadata["unscored"]
        assert expected in reasons["aligned"], reasons
        assert reasons["misaligned"]  # the headline measure says why, too
        assert score.value["refusal"] == 0.0


@pytest.mark.network
@pytest.mark.timeout(240)
def test_unscored_samples_are_counted_in_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = pytest.importorskip("alignprobe.results.table")
    with StubServer(_responder(StubReply("banana", None))) as server:
        _run(server, tmp_path / "logs", monkeypatch)
    df, _ = table.build_table(tmp_path)
    assert len(df) == QUESTIONS
    assert df["unscored_aligned"].notna().sum() == QUESTIONS
    assert df["aligned"].isna().all()


def _any_task_responder(request: StubRequest) -> StubReply:
    """Good-enough replies for every core task: judges get a number, the rest a letter."""
    if request.wants_logprobs:
        return StubReply("A", {"A": 0.6, "B": 0.3, "10": 0.1})
    if "0 to 100" in request.last_user:
        return StubReply("80")
    return StubReply("A")


def _plan_offline(plan: Callable[[], list[Any]]) -> list[Any]:
    """Plan the suite with third-party question sets taken from ``../shared/reference``:
    each URL a task would download is seeded into the download cache from the file of the
    same name there (the test skips where that folder or file is absent)."""
    from alignprobe.errors import DataError
    from alignprobe.sources import cached_path_for

    for _ in range(30):
        try:
            return plan()
        except DataError as exc:
            url = str(getattr(exc, "source", "") or "")
            if "could not download" not in str(exc) or not url.startswith("http"):
                raise
            name = url.rsplit("/", 1)[-1]
            copies = sorted(REFERENCE_DIR.rglob(name)) if REFERENCE_DIR.is_dir() else []
            if not copies:
                pytest.skip(f"no local copy of {url} in {REFERENCE_DIR}")
            target = cached_path_for(url)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(copies[0], target)
    raise AssertionError("too many downloads to seed")


@pytest.mark.slow
@pytest.mark.network
@pytest.mark.timeout(420)
def test_core_suite_under_faults_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every task of the ``core`` suite (2 samples each) through ``eval_set`` with faults."""
    suite_module = pytest.importorskip("alignprobe.evals.suite")
    run_module = pytest.importorskip("alignprobe.run.suite_run")
    checkpoints_module = pytest.importorskip("alignprobe.models.checkpoints")
    from inspect_ai import eval_set

    suite = suite_module.load_suite("core").model_copy(update={"limit": 2, "samples": 1})
    faults = FaultPlan(error_rate=0.15, hang_rate=0.05, hang_s=4.0, seed=11)
    with StubServer(_any_task_responder, faults=faults) as server:
        service = next(_SERVICES)
        monkeypatch.setenv(f"{service.upper()}_BASE_URL", server.base_url)
        monkeypatch.setenv(f"{service.upper()}_API_KEY", "loopback")
        (tmp_path / "checkpoints.yaml").write_text(
            f"checkpoints:\n  stub:\n    server: {{base_url: '{server.base_url}', model: m}}\n"
        )
        checkpoints = checkpoints_module.load_checkpoints(tmp_path / "checkpoints.yaml")
        planned = _plan_offline(lambda: run_module.plan_tasks(suite, checkpoints))
        ok, logs = eval_set(
            [p.inspect_task for p in planned],
            log_dir=str(tmp_path / "logs"),
            model_roles=large_run_model_roles(
                {"grader": f"openai-api/{service}/judge"}, attempt_timeout=ATTEMPT_TIMEOUT
            ),
            display="none",
            **large_run_eval_args(
                attempt_timeout=ATTEMPT_TIMEOUT, max_retries=10, timeout=60, max_connections=8
            ),
        )
        stats = server.stats
    assert stats.errors_injected > 0, stats
    assert ok, [(log.eval.task, log.status, log.error) for log in logs if log.status != "success"]
    full = [read_eval_log(log.location) for log in logs]
    assert {(log.eval.metadata or {})[TASK_METADATA_KEY]["task"] for log in full} == {
        t.task for t in suite.tasks
    }
    retries = 0
    for log in full:
        samples = log.samples or []
        keys = Counter((s.id, s.epoch) for s in samples)
        assert samples and set(keys.values()) == {1}, log.eval.task
        for sample in samples:
            assert sample.error is None and sample.scores, (log.eval.task, sample.id)
        retries += _retries(log)
    assert retries == stats.errors_injected + stats.hangs_injected
