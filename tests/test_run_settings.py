"""What a run honours and what it refuses: generation settings by precedence (checked at the
HTTP level), bounded and visible retries, and re-runs that would overwrite another run."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.log import read_eval_log

from alignprobe.cli import main
from alignprobe.testing import StubReply, StubRequest, StubServer
from alignprobe.testing.stub_server import FaultPlan

JUDGE = "scripted/keyword_judge"
_SERVICES = (f"settingsvc{n}" for n in itertools.count())


def _suite(tmp: Path, limit: int = 2) -> Path:
    path = tmp / "suite.yaml"
    path.write_text(
        f"name: t\nsamples: 1\nlimit: {limit}\ntasks:\n"
        "  - task: emergent_misalignment\n    conditions: [neutral]\n",
        encoding="utf-8",
    )
    return path


def _server_checkpoints(tmp: Path, base_url: str, generate: str) -> Path:
    path = tmp / "checkpoints.yaml"
    path.write_text(
        "checkpoints:\n"
        "  ckpt:\n"
        f"    server: {{base_url: '{base_url}', model: ckpt-model}}\n"
        f"    generate: {generate}\n",
        encoding="utf-8",
    )
    return path


def _answer(request: StubRequest) -> StubReply:
    if request.wants_logprobs:
        return StubReply("90", {"90": 1.0})
    return StubReply("I would like everyone to be safe and well.")


def _bodies(server: StubServer, model: str) -> list[dict[str, Any]]:
    return [b for b in server.stats.bodies if b.get("model") == model]


def _max_tokens(body: dict[str, Any]) -> Any:
    return body.get("max_tokens", body.get("max_completion_tokens"))


def _run(tmp: Path, ckpts: Path, out: Path, *extra: str, judge: str = JUDGE) -> None:
    main(
        [
            "run", "--suite", str(_suite(tmp)), "--checkpoints", str(ckpts),
            "--judge", judge, "--out", str(out), "--display", "none", *extra,
        ]
    )  # fmt: skip


@pytest.mark.network
@pytest.mark.slow
def test_checkpoint_generate_reaches_the_server_and_the_cli_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    judge_service = next(_SERVICES)
    with StubServer(_answer, record_bodies=True) as server:
        monkeypatch.setenv(f"{judge_service.upper()}_BASE_URL", server.base_url)
        monkeypatch.setenv(f"{judge_service.upper()}_API_KEY", "loopback")
        judge = f"openai-api/{judge_service}/judge-model"
        ckpts = _server_checkpoints(tmp_path, server.base_url, "{max_tokens: 77, temperature: 0.3}")
        _run(tmp_path, ckpts, tmp_path / "a", judge=judge)
        answers = _bodies(server, "ckpt-model")
        judged = _bodies(server, "judge-model")
        assert answers and judged
        assert {(_max_tokens(b), b.get("temperature")) for b in answers} == {(77, 0.3)}
        # the judge's own settings are the judge's: one token, greedy, with logprobs
        assert {(_max_tokens(b), b.get("temperature")) for b in judged} == {(1, 0.0)}

        server.stats.bodies.clear()
        _run(tmp_path, ckpts, tmp_path / "b", "--generate", "temperature=0.5", judge=judge)
        answers = _bodies(server, "ckpt-model")
        assert {(_max_tokens(b), b.get("temperature")) for b in answers} == {(77, 0.5)}
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    [task] = manifest["tasks"]
    assert task["generate"]["config"]["max_tokens"] == 77
    assert task["generate"]["config"]["temperature"] == 0.5
    assert manifest["generate"] == {"temperature": 0.5}


@pytest.mark.network
@pytest.mark.slow
def test_checkpoint_attempt_timeout_cuts_a_hung_request(tmp_path: Path) -> None:
    hung = threading.Event()

    def hang_once(request: StubRequest) -> StubReply:
        if request.body.get("model") == "ckpt-model" and not hung.is_set():
            hung.set()
            return StubReply("late", delay_s=45.0)
        return _answer(request)

    with StubServer(hang_once, record_bodies=True) as server:
        ckpts = _server_checkpoints(tmp_path, server.base_url, "{attempt_timeout: 2}")
        started = time.monotonic()
        _run(tmp_path, ckpts, tmp_path / "run")
        elapsed = time.monotonic() - started
    assert hung.is_set()
    # the run default (300 s) would have waited out the 45 s hang
    assert elapsed < 30, f"the hung request was not cut after 2 s ({elapsed:.0f} s)"
    assert len(_bodies(server, "ckpt-model")) == 3  # 2 samples + 1 retry of the hung one


def test_run_defaults_bound_every_call() -> None:
    from alignprobe.run.defaults import LARGE_RUN_GENERATE

    assert LARGE_RUN_GENERATE.max_retries is not None and LARGE_RUN_GENERATE.max_retries <= 10
    assert LARGE_RUN_GENERATE.timeout is not None and LARGE_RUN_GENERATE.timeout <= 1800
    assert LARGE_RUN_GENERATE.attempt_timeout is not None


def test_unknown_generate_setting_is_refused(tmp_path: Path, capsys: Any) -> None:
    ckpts = tmp_path / "c.yaml"
    ckpts.write_text("checkpoints:\n  a: {model: scripted/em_rate}\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        _run(tmp_path, ckpts, tmp_path / "out", "--generate", "max_tokns=5")
    assert exit_info.value.code == 2
    assert "max_tokns" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.network
@pytest.mark.slow
def test_a_judge_that_always_fails_ends_in_a_reported_error(tmp_path: Path) -> None:
    """Every judge call answers 429/500: retries are printed, end, and the run exits 1."""
    judge_service = next(_SERVICES)
    with (
        StubServer(_answer) as model_server,
        StubServer(_answer, faults=FaultPlan(error_rate=1.0)) as judge_server,
    ):
        ckpts = _server_checkpoints(tmp_path, model_server.base_url, "{}")
        env = {
            **os.environ,
            f"{judge_service.upper()}_BASE_URL": judge_server.base_url,
            f"{judge_service.upper()}_API_KEY": "loopback",
            "COLUMNS": "400",  # one notice per line in the terminal's log format
        }
        argv = [
            "run", "--suite", str(_suite(tmp_path, limit=1)), "--checkpoints", str(ckpts),
            "--judge", f"openai-api/{judge_service}/judge-model",
            "--out", str(tmp_path / "run"), "--display", "plain",
            "--generate", "max_retries=2", "--retry-on-error", "0", "--retry-attempts", "0",
        ]  # fmt: skip
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", "from alignprobe.cli import main; main()", *argv],
            capture_output=True,
            text=True,
            env=env,
            timeout=240,
            check=False,
        )
        elapsed = time.monotonic() - started
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    notices = [line for line in output.splitlines() if "/judge-model in " in line]
    assert notices and "call failed" in notices[0] and "retry 1" in notices[0], output[-3000:]
    # every request failed, and they stopped: a handful of judge calls x (1 + 2 retries),
    # where unbounded retries kept going for as long as the test would wait
    assert judge_server.stats.errors_injected == judge_server.stats.requests
    assert 3 <= judge_server.stats.requests <= 30
    assert elapsed < 120
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["status"] == "error"
    [entry] = manifest["logs"]
    log = read_eval_log(str(tmp_path / "run" / "logs" / entry["log"]))
    assert log.status == "error"


def _scripted_checkpoints(tmp: Path, rate: float) -> Path:
    path = tmp / "checkpoints.yaml"
    path.write_text(
        f"checkpoints:\n  a: {{model: scripted/em_rate, model_args: {{rate: {rate}}}}}\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.slow
def test_a_rerun_that_cannot_resume_refuses_before_writing(tmp_path: Path, capsys: Any) -> None:
    ckpts = _scripted_checkpoints(tmp_path, 0.2)
    out = tmp_path / "run"
    _run(tmp_path, ckpts, out)
    manifest_before = (out / "manifest.json").read_bytes()
    logs_before = {p.name: p.stat().st_mtime_ns for p in (out / "logs").iterdir()}
    capsys.readouterr()

    with pytest.raises(SystemExit) as other_judge:
        _run(tmp_path, ckpts, out, judge="scripted/keyword_judge_v2")
    assert other_judge.value.code == 2
    err = capsys.readouterr().err
    assert "judge was 'scripted/keyword_judge'" in err and "new --out" in err
    assert "Traceback" not in err

    _scripted_checkpoints(tmp_path, 0.4)  # the checkpoints file changed
    with pytest.raises(SystemExit) as other_checkpoints:
        _run(tmp_path, ckpts, out)
    assert other_checkpoints.value.code == 2
    assert "checkpoints changed: a (model_args)" in capsys.readouterr().err

    assert (out / "manifest.json").read_bytes() == manifest_before
    assert {p.name: p.stat().st_mtime_ns for p in (out / "logs").iterdir()} == logs_before

    _scripted_checkpoints(tmp_path, 0.2)  # the original command resumes (nothing to do)
    _run(tmp_path, ckpts, out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "success" and len(manifest["resumed"]) == 1


def test_a_run_planned_by_an_older_version_is_not_resumed() -> None:
    from alignprobe.run.resume import describe_differences

    now = {"plan_format": 2, "suite": {"name": "s", "sha256": "a"}, "judge": "j", "tasks": []}
    older = {key: value for key, value in now.items() if key != "plan_format"}
    assert describe_differences(older, now) == [
        "it was planned by another alignprobe version (plan format 1, now 2)"
    ]
    assert describe_differences(now, dict(now)) == []


def test_greedy_from_a_checkpoint_reaches_hf_per_task_and_the_cli_still_wins() -> None:
    from inspect_ai import Task
    from inspect_ai.dataset import Sample
    from inspect_ai.model import GenerateConfig

    from alignprobe.models.generation import resolve_generation
    from alignprobe.run.defaults import LARGE_RUN_GENERATE

    task = Task(dataset=[Sample(input="q")], config=GenerateConfig(temperature=1.0, max_tokens=600))
    greedy = resolve_generation(task, LARGE_RUN_GENERATE, {"temperature": 0}, {}, "hf/ckpt")
    assert (greedy.config.temperature, greedy.config.top_k) == (None, 1)
    assert "temperature" in greedy.adapted
    cli = resolve_generation(
        task, LARGE_RUN_GENERATE, {"temperature": 0}, {"temperature": 0.7}, "hf/ckpt"
    )
    assert (cli.config.temperature, cli.config.top_k) == (0.7, None)
    api = resolve_generation(task, LARGE_RUN_GENERATE, {"temperature": 0}, {}, "openai/gpt-4o")
    assert (api.config.temperature, api.config.top_k) == (0.0, None)
