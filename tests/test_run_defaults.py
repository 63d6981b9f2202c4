"""The large-run settings are accepted by Inspect and keep what reports need."""

from __future__ import annotations

import inspect

from inspect_ai import eval as inspect_eval
from inspect_ai import eval_set
from inspect_ai.model import GenerateConfig, Model

from alignprobe.run.defaults import (
    LARGE_RUN_EVAL_ARGS,
    large_run_eval_args,
    large_run_model_roles,
)


def test_every_setting_is_an_eval_and_eval_set_argument() -> None:
    generate_fields = set(GenerateConfig.model_fields)
    for function in (inspect_eval, eval_set):
        accepted = set(inspect.signature(function).parameters) | generate_fields
        assert set(LARGE_RUN_EVAL_ARGS) <= accepted, function.__name__


def test_samples_stay_in_the_log() -> None:
    assert LARGE_RUN_EVAL_ARGS["log_samples"] is True


def test_caller_values_win_and_none_is_ignored() -> None:
    args = large_run_eval_args(max_connections=7, log_realtime=True, max_samples=None)
    assert args["max_connections"] == 7 and args["log_realtime"] is True
    assert "max_samples" not in args


def test_role_models_get_the_attempt_timeout() -> None:
    roles = large_run_model_roles({"grader": "scripted/keyword_judge"}, attempt_timeout=5)
    assert roles is not None
    grader = roles["grader"]
    assert isinstance(grader, Model) and grader.config.attempt_timeout == 5
    assert large_run_model_roles(None) is None
