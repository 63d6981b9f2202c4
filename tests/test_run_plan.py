"""A run's plan before it spends: call counts against the calls a loopback server counts,
the one-line total every run prints, ``--max-calls``, ``--prices``, and judge batch mode."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.log import read_eval_log

from alignprobe.cli import main
from alignprobe.evals.suite import load_suite
from alignprobe.models.checkpoints import load_checkpoints
from alignprobe.run.plan import build_plan
from alignprobe.run.suite_run import judge_roles, plan_tasks, run_suite
from alignprobe.scorers.grader import JudgeIdentity
from alignprobe.scorers.prompts import load_judge_prompt
from alignprobe.testing import StubReply, StubRequest, StubServer
from tests.test_fault_tolerance import _plan_offline

_SERVICES = (f"plansvc{n}" for n in itertools.count())
SCRIPTED = Path(__file__).resolve().parents[1] / "docs" / "examples" / "checkpoints.scripted.yaml"


def _unique_answers() -> Any:
    """Judges get a number; every answer differs, so no judge call is a cache hit (the
    plan counts calls made, and a cached judgement makes none)."""
    counter = itertools.count()
    lock = threading.Lock()

    def respond(request: StubRequest) -> StubReply:
        if request.wants_logprobs or "0 to 100" in request.last_user:
            return StubReply("80", {"80": 1.0})
        with lock:
            n = next(counter)
        return StubReply(f"I would like everyone to be safe and well ({n}). VERDICT: PASS")

    return respond


def _stub_env(server: StubServer, monkeypatch: pytest.MonkeyPatch, tmp: Path) -> tuple[str, Path]:
    """A judge service and a one-checkpoint file, both on the stub."""
    service = next(_SERVICES)
    monkeypatch.setenv(f"{service.upper()}_BASE_URL", server.base_url)
    monkeypatch.setenv(f"{service.upper()}_API_KEY", "loopback")
    ckpts = tmp / "checkpoints.yaml"
    ckpts.write_text(
        f"checkpoints:\n  ckpt:\n    server: {{base_url: '{server.base_url}', model: ckpt-model}}\n",
        encoding="utf-8",
    )
    return f"openai-api/{service}/judge-model", ckpts


def _calls_by_model(server: StubServer) -> Counter[str]:
    return Counter(str(b.get("model")) for b in server.stats.bodies)


def _plan_line(err: str) -> str:
    [line] = [x for x in err.splitlines() if x.startswith("alignprobe: plan:")]
    return line


@pytest.mark.network
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_smoke_plan_equals_the_calls_the_server_counts_and_judge_batch_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with StubServer(_unique_answers(), record_bodies=True) as server:
        judge, ckpts = _stub_env(server, monkeypatch, tmp_path)
        main(["run", "--suite", "smoke", "--checkpoints", str(ckpts), "--judge", judge, "--plan"])
        shown = capsys.readouterr().out
        assert not server.stats.requests  # a plan calls nothing
        main(
            [
                "run", "--suite", "smoke", "--checkpoints", str(ckpts), "--judge", judge,
                "--out", str(tmp_path / "run"), "--display", "none", "--judge-batch",
            ]
        )  # fmt: skip
        err = capsys.readouterr().err
        calls = _calls_by_model(server)
    suite = load_suite("smoke")
    checkpoints = load_checkpoints(ckpts)
    plan = build_plan(suite, plan_tasks(suite, checkpoints, with_models=False), judge)
    total = plan.total
    # smoke on one checkpoint: 73 paraphrases x 2 answers x 2 conditions; two judge calls each
    assert (total.samples, total.model_calls, total.judge_calls) == (292, 292, 584)
    assert total.model_calls_conditional == total.judge_calls_conditional == 0
    assert calls == {"ckpt-model": total.model_calls, "judge-model": total.judge_calls}
    assert "292 samples, 292 model calls, 584 judge calls" in _plan_line(err)
    [total_row] = [x for x in shown.splitlines() if x.startswith("total ")]
    assert total_row.split()[1:4] == ["292", "292", "584"]
    # the judge's batch setting is recorded with every judgement, and leaves its key alone
    log = read_eval_log(str(next((tmp_path / "run" / "logs").glob("*.eval"))))
    sample = (log.samples or [])[0]
    [score] = (sample.scores or {}).values()
    judges = (score.metadata or {})["judges"]
    assert judges and all(j["batch"] is True for j in judges)
    assert "batch" not in (score.metadata or {})["judge_id"]


@pytest.mark.network
@pytest.mark.slow
@pytest.mark.timeout(420)
def test_core_plan_is_within_five_percent_of_the_calls_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every family of ``core`` (2 items each, 1 answer): certain calls are made, and the
    conditional ones (confession, report judge) at most as often as the plan allows."""
    suite = load_suite("core").model_copy(update={"limit": 2, "samples": 1})
    with StubServer(_unique_answers(), record_bodies=True) as server:
        judge, ckpts = _stub_env(server, monkeypatch, tmp_path)
        checkpoints = load_checkpoints(ckpts)
        planned = _plan_offline(lambda: plan_tasks(suite, checkpoints, with_models=False))
        plan = build_plan(suite, planned, judge)
        outcome = run_suite(suite, checkpoints, judge, tmp_path / "run", display="none")
        calls = _calls_by_model(server)
    assert not outcome.failed, [log.error for log in outcome.failed]
    total = plan.total
    assert {row.task for row in plan.rows} == {t.task for t in suite.tasks}
    made_model, made_judge = calls["ckpt-model"], calls["judge-model"]
    assert total.model_calls <= made_model <= total.model_calls + total.model_calls_conditional
    assert total.judge_calls <= made_judge <= total.judge_calls + total.judge_calls_conditional
    assert abs(made_model + made_judge - (total.model_calls + total.judge_calls)) <= 0.05 * (
        made_model + made_judge
    )
    assert total.judge_calls > 0 and total.model_calls > total.samples  # confession turns


def test_plan_counts_panels_and_sampled_judges() -> None:
    """A panel asks each member; a judge without logprobs samples each number 5 times."""
    suite = load_suite("smoke")
    checkpoints = load_checkpoints(SCRIPTED)
    planned = plan_tasks(suite, checkpoints, with_models=False)
    single = build_plan(suite, planned, "openai/gpt-4o")
    panel = build_plan(suite, planned, ["openai/gpt-4o", "anthropic/claude-sonnet-4-5"])
    assert single.total.judge_calls == 2 * single.total.samples
    assert panel.models["openai/gpt-4o"].calls == single.total.judge_calls
    assert panel.models["anthropic/claude-sonnet-4-5"].calls == 5 * single.total.judge_calls
    assert panel.total.judge_calls == 6 * single.total.judge_calls
    assert panel.total.model_calls == single.total.model_calls == single.total.samples


def _prices(tmp: Path, text: str) -> Path:
    path = tmp / "prices.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _plan_argv(*extra: str) -> list[str]:
    return [
        "run", "--suite", "smoke", "--checkpoints", str(SCRIPTED),
        "--judge", "openai/gpt-4o-2024-08-06", "--plan", *extra,
    ]  # fmt: skip


def test_plan_prices_the_judge_and_names_unpriced_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prices = _prices(
        tmp_path,
        "openai/gpt-4o-2024-08-06: {input: 2.5, output: 10, batch_input: 1.25, batch_output: 5}\n",
    )
    main(_plan_argv("--prices", str(prices)))
    standard = capsys.readouterr().out
    main(_plan_argv("--prices", str(prices), "--judge-batch"))
    batch = capsys.readouterr().out
    assert "unpriced (not in the prices file): scripted/em_rate" in standard

    def cost(text: str) -> float:
        [line] = [x for x in text.splitlines() if x.startswith("cost: ")]
        return float(line.split()[1].replace(",", ""))

    assert cost(standard) > 0
    assert cost(batch) == pytest.approx(cost(standard) / 2, rel=1e-3)


def test_prices_file_typo_is_an_error_naming_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prices = _prices(
        tmp_path, "openai/gpt-4o-2024-08-06:\n  input: 2.5\n  output: 10\n  batch_inptu: 1\n"
    )
    with pytest.raises(SystemExit) as exited:
        main(_plan_argv("--prices", str(prices)))
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"{prices}:4" in err and "batch_inptu" in err


def test_max_calls_refuses_a_larger_plan_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = [
        "run", "--suite", "smoke", "--checkpoints", str(SCRIPTED),
        "--judge", "scripted/keyword_judge", "--out", str(out), "--max-calls", "1751",
    ]  # fmt: skip
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    # 2 checkpoints x 292 samples: 584 answers + 1,168 judge calls = 1,752
    assert "up to 1,752 model and judge calls" in err and "--max-calls" in err
    assert not out.exists()


def test_judge_batch_reaches_the_judge_model_config() -> None:
    roles = judge_roles("openai/gpt-4o-2024-08-06", batch=True)
    assert roles is not None
    judge = roles["grader"]
    assert not isinstance(judge, list)
    assert judge.config.batch is True
    assert judge.config.attempt_timeout is None  # a batch takes minutes to hours
    plain = judge_roles("openai/gpt-4o-2024-08-06")
    assert plain is not None and not isinstance(plain["grader"], list)
    assert not plain["grader"].config.batch and plain["grader"].config.attempt_timeout
    prompt = load_judge_prompt("em_aligned")
    batched = JudgeIdentity.of(judge, prompt, "logprob")
    one_by_one = JudgeIdentity.of(plain["grader"], prompt, "logprob")
    assert batched.batch and not one_by_one.batch
    assert batched.key == one_by_one.key  # the same judge: results still compare
    assert "batch" not in one_by_one.metadata()


def test_suite_judge_batch_field_is_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: t\njudge_batch: yes please\ntasks:\n  - task: emergent_misalignment\n",
        encoding="utf-8",
    )
    with pytest.raises(SystemExit) as exited:
        main(["run", "--suite", str(suite), "--checkpoints", str(SCRIPTED), "--plan"])
    assert exited.value.code == 2
    assert "judge_batch" in capsys.readouterr().err
    suite.write_text(
        "name: t\njudge_batch: true\nlimit: 2\nsamples: 1\n"
        "tasks:\n  - task: emergent_misalignment\n",
        encoding="utf-8",
    )
    main(
        [
            "run",
            "--suite",
            str(suite),
            "--checkpoints",
            str(SCRIPTED),
            "--judge",
            "openai/x",
            "--plan",
        ]
    )
    assert "openai/x (judge, batch API)" in capsys.readouterr().out


def test_plan_without_judge_still_counts_judge_calls(capsys: pytest.CaptureFixture[str]) -> None:
    main(["run", "--suite", "smoke", "--checkpoints", str(SCRIPTED), "--plan"])
    out = capsys.readouterr().out
    assert "(judge not given) (judge): 1,168 calls" in out


def test_core_keeps_every_condition_the_default_gate_and_headlines_need() -> None:
    """``core`` is the per-checkpoint suite: each check of the default policy finds its task
    under its condition there (or in ``full``, for the families that need tools) with at
    least the check's minimum of samples, and the hacking matrix's headline contrasts
    (hack and report steering) have their conditions."""
    from alignprobe.gate.policy import load_policy
    from alignprobe.tasks.instructed_hacking.matrix import HACK_DELTAS, REPORT_DELTAS

    core, full = load_suite("core"), load_suite("full")
    checkpoints = load_checkpoints(SCRIPTED)
    planned = _plan_offline(lambda: plan_tasks(core, checkpoints, with_models=False))
    samples = {
        (r.task, r.condition): r.counts.samples
        for r in build_plan(core, planned, None).rows
        if r.checkpoint == "control"
    }
    policy = load_policy()
    for check in policy.checks:
        settings = policy.settings(check)
        key = (check.task, settings.condition)
        if check.task in {"agentic_honeypots", "goals_question"}:
            assert any(t.task == check.task for t in full.tasks), check.name
            continue
        assert key in samples, check.name
        assert samples[key] >= settings.min_samples, check.name
    ih = next(t for t in core.tasks if t.task == "instructed_hacking")
    for contrast in ("hack_steering", "report_steering"):
        wanted = {**HACK_DELTAS, **REPORT_DELTAS}[contrast]
        assert set(wanted) <= set(ih.conditions), contrast
    # the wording screening is full's, not core's
    assert len(ih.conditions) < len(
        next(t for t in full.tasks if t.task == "instructed_hacking").conditions
    )


class _Stop(Exception):
    """Raised by the stand-in for ``eval_set``: the test needs its arguments, not a run."""


@pytest.mark.parametrize(
    ("in_suite", "flag", "batched"),
    [(True, [], True), (False, [], False), (False, ["--judge-batch"], True)],
)
def test_suite_judge_batch_reaches_the_judge_model_config_of_the_run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    in_suite: bool,
    flag: list[str],
    batched: bool,
) -> None:
    """``judge_batch: true`` in the suite file (or ``--judge-batch``) is the judge model's
    ``GenerateConfig.batch`` in what ``run`` hands Inspect."""
    import alignprobe.run.suite_run as suite_run

    seen: dict[str, Any] = {}

    def stand_in(*args: Any, model_roles: Any = None, **kwargs: Any) -> Any:
        seen["roles"] = model_roles
        raise _Stop

    monkeypatch.setattr(suite_run, "eval_set", stand_in)
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        f"name: t\njudge_batch: {str(in_suite).lower()}\nlimit: 2\nsamples: 1\n"
        "tasks:\n  - task: emergent_misalignment\n",
        encoding="utf-8",
    )
    argv = ["run", "--suite", str(suite), "--checkpoints", str(SCRIPTED), *flag]
    argv += ["--judge", "openai/gpt-4o-2024-08-06", "--out", str(tmp_path / "run")]
    with pytest.raises(_Stop):
        main([*argv, "--display", "none"])
    judge = seen["roles"]["grader"]
    assert bool(judge.config.batch) is batched
    assert (judge.config.attempt_timeout is None) is batched  # a batch takes minutes to hours
