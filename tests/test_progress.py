"""Long steps say what they are doing and how long is left, on a terminal and in a log."""

from __future__ import annotations

from pathlib import Path

import pytest

from alignprobe import progress
from alignprobe.sources import fetch


def test_counted_work_prints_lines_with_time_left_outside_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = iter([0.0, 12.0, 13.0, 30.0])  # start, then one reading per advance
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    with progress.counted("training demo-em", 4) as advance:
        advance(1, "loss 2.000")  # t=12: past the interval, one line
        advance(1)  # t=13: too soon, quiet
        advance(2, "loss 0.500")  # t=30: the last step always prints
    captured = capsys.readouterr()
    assert captured.out == ""  # progress never mixes with results on stdout
    lines = captured.err.splitlines()
    assert lines == [
        "training demo-em: 4 steps...",
        "training demo-em: 1/4 steps, 12 s elapsed, about 36 s left, loss 2.000",
        "training demo-em: 4/4 steps, 30 s elapsed, about 0 s left, loss 0.500",
    ]


def test_an_uncountable_step_says_when_it_started_and_how_long_it_took(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = iter([100.0, 225.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    with progress.step("loading hf/ckpt"):
        pass
    assert capsys.readouterr().err.splitlines() == [
        "loading hf/ckpt...",
        "loading hf/ckpt: done in 2 min 05 s",
    ]


@pytest.mark.network
def test_a_download_shows_its_progress(
    file_server: tuple[str, Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    base_url, root, _ = file_server
    (root / "questions.yaml").write_bytes(b"x" * 300_000)
    path = fetch(f"{base_url}/questions.yaml")
    assert path.read_bytes() == b"x" * 300_000
    err = capsys.readouterr().err
    assert f"downloading {base_url}/questions.yaml: 292 KiB..." in err
    assert "292/292 KiB" in err
