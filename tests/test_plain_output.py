"""Off a terminal (CI logs, pipes) every message is one line: no wrapping in the middle of
a path, no carriage-return progress bars; retries are printed as they happen, one line
each, even under ``INSPECT_DISPLAY=none``."""

from __future__ import annotations

import io
import itertools
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval

import alignprobe._registry  # noqa: F401  - registers the retry notice hook
from alignprobe.plain_output import OFF_TERMINAL_ENV, plain_off_terminal
from alignprobe.run.defaults import large_run_eval_args, large_run_model_roles
from alignprobe.tasks.emergent_misalignment import emergent_misalignment
from alignprobe.testing import StubReply, StubRequest, StubServer

SRC = Path(__file__).resolve().parents[1] / "src"
LONG = "/home/ci/.cache/alignprobe/gguf/SmolLM2-135M-Instruct.Q4_1.gguf"
LOG = (
    "/home/runner/work/project/results/run/logs/"
    "2026-12-06T04-47-46-00-00_emergent-misalignment-inoculated_LeZkB7Rycd7N8xRJNXMygA.eval"
)
#: what a CI job runs, in a child whose stderr is a pipe: the command line's set-up, then
#: tqdm (as transformers and the gguf conversion use it) and alignprobe's own progress
CHILD = f"""
import sys
from alignprobe.cli import main
try:
    main(["--version"])
except SystemExit:
    pass
from tqdm import tqdm
for _ in tqdm(range(200), desc="Loading checkpoint shards"):
    pass
import rich
rich.print("Log: {LOG}")  # how Inspect's display prints, through rich's global console
from alignprobe.progress import counted, step
with step("converting {LONG} into {LONG}.converted/model-f16.gguf (once)"):
    pass
with counted("training demo-base", 3) as advance:
    for loss in (5.630, 5.280, 5.010):
        advance(1, note=f"loss {{loss:.3f}}")
"""


def test_a_piped_log_has_one_line_per_message() -> None:
    env = {k: v for k, v in os.environ.items() if k not in OFF_TERMINAL_ENV}
    env["PYTHONPATH"] = str(SRC)
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    err = done.stderr
    assert "\r" not in err and "Loading checkpoint shards" not in err  # no tqdm bar
    lines = err.splitlines()
    converting = [line for line in lines if line.startswith("converting ")]
    assert converting == [
        f"converting {LONG} into {LONG}.converted/model-f16.gguf (once)...",
        f"converting {LONG} into {LONG}.converted/model-f16.gguf (once): done in 0 s",
    ]
    assert f"Log: {LOG}" in done.stdout.splitlines()
    training = [line for line in lines if line.startswith("training demo-base: 3/3")]
    assert len(training) == 1 and training[0].endswith("left, loss 5.010")
    assert all(line.strip() for line in lines[:-1])  # nothing broken onto a line of its own


def test_a_terminal_keeps_its_progress_bars(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in OFF_TERMINAL_ENV:  # set, then removed: restored after the test either way
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert plain_off_terminal(Terminal()) is False
    assert not any(name in os.environ for name in OFF_TERMINAL_ENV)
    assert plain_off_terminal(io.StringIO()) is True
    assert os.environ["TQDM_DISABLE"] == "1"
    # a user's own choice wins
    monkeypatch.setenv("INSPECT_PY_LOGGER_FORMAT", "json")
    plain_off_terminal(io.StringIO())
    assert os.environ["INSPECT_PY_LOGGER_FORMAT"] == "json"


_SERVICES = (f"retrysvc{n}" for n in itertools.count())
#: 429 answers before the stub lets a call through: the client's own retries (2), then one
#: of Inspect's
FAILURES = 3


class _Stderr(io.StringIO):
    """sys.stderr for the test: readable from the stub server's thread while the run goes."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        with self.lock:
            return super().write(text)

    def text(self) -> str:
        with self.lock:
            return self.getvalue()


@pytest.mark.network
@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_retry_prints_one_line_while_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert os.environ["INSPECT_DISPLAY"] == "none"  # the display that printed nothing
    # a client retry of an earlier run in this process: counts start again with each run
    logging.getLogger("openai._base_client").info("Retrying request to /x in 0.1 seconds")
    stderr = _Stderr()
    monkeypatch.setattr(sys, "stderr", stderr)
    seen_when_answered: list[str] = []
    calls = itertools.count()

    def respond(request: StubRequest) -> StubReply:
        call = next(calls)
        if call < FAILURES:
            return StubReply("busy", status=429)
        if call == FAILURES:  # the call that finally goes through: the notices are out
            seen_when_answered.append(stderr.text())
        if request.wants_logprobs or "0 to 100" in request.last_user:
            return StubReply("90", {"90": 1.0})
        return StubReply("I would like everyone to be safe and well.")

    service = next(_SERVICES)
    with StubServer(respond) as server:
        monkeypatch.setenv(f"{service.upper()}_BASE_URL", server.base_url)
        monkeypatch.setenv(f"{service.upper()}_API_KEY", "loopback")
        [log] = inspect_eval(
            emergent_misalignment(samples=1),
            model=f"openai-api/{service}/model",
            model_roles=large_run_model_roles(
                {"grader": f"openai-api/{service}/judge"}, attempt_timeout=10
            ),
            limit=1,
            log_dir=str(tmp_path / "logs"),
            display="none",
            **large_run_eval_args(attempt_timeout=10, max_retries=3, timeout=60),
        )
    assert log.status == "success"
    lines = stderr.text().splitlines()
    # the client's own two quick retries: one line (the second is counted in the next)
    client = [line for line in lines if line.startswith("alignprobe: openai client:")]
    assert client == [
        "alignprobe: openai client: a call failed, its own retry 1 of 2 in "
        + client[0].split(" in ", 1)[1]
    ]
    assert "1 retry since the last notice, 1 in this run" in client[0]
    # then Inspect's retry of the call, with the status that made it
    inspect = [line for line in lines if line.startswith(f"alignprobe: {service}/model")]
    assert len(inspect) == 1 and "call failed (RateLimitError 429)" in inspect[0], lines
    assert "retry 1 of that call" in inspect[0]
    # both were printed before the run went on, not when it ended
    assert seen_when_answered and client[0] in seen_when_answered[0]
    assert inspect[0] in seen_when_answered[0]
