"""The options several commands take, spelled once.

Each factory returns a click decorator with the option's name, parameter name, type,
default and checks fixed; what the option means in one command (its help, sometimes its
default) is the argument. A command that takes the option uses the factory, so the same
flag never drifts into two spellings or two types.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from alignprobe.commands.locations import LOCAL_OUT_FOLDER, OUT_LOCATION

FC = TypeVar("FC", bound=Callable[..., Any])

#: Inspect's progress displays a command passes on (``run`` also offers ``conversation``)
DISPLAYS = ("full", "rich", "plain", "log", "none")

#: help of --spending / --futility-spending (alignprobe.gate.sequential.SPENDING_HELP)
SPENDING_CHOICES = (
    "obrien-fleming, pocock or hsd:<gamma> (Hwang-Shih-DeCani, gamma in -10..10: -4 is "
    "close to O'Brien-Fleming, 1 close to Pocock)"
)


def stacked(*options: Callable[[FC], FC]) -> Callable[[FC], FC]:
    """Apply several option decorators as one, listed in the order ``--help`` shows them."""

    def add(command: FC) -> FC:
        for option in reversed(options):
            command = option(command)
        return command

    return add


def suite_option() -> Callable[[FC], FC]:
    """``--suite`` (required, into ``suite_name``): the suite a command runs, read by
    ``evals.suite.load_suite``; it means the same in every command, so it reads the same."""
    return click.option(
        "--suite",
        "suite_name",
        required=True,
        help="Built-in suite (smoke, core, full) or a suite YAML path.",
    )


def generate_option(help_text: str) -> Callable[[FC], FC]:
    """``-G/--generate KEY=VALUE`` (repeatable), the one spelling of generation settings
    on every command that takes them (parsed by ``models.generation.parse_generate_args``)."""
    return click.option(
        "-G",
        "--generate",
        "generate_args",
        multiple=True,
        metavar="KEY=VALUE",
        help=help_text,
    )


def judges_option(help_text: str, *, required: bool = False) -> Callable[[FC], FC]:
    """``--judge`` (repeatable, into ``judges``): one judge model, or a panel of several."""
    return click.option("--judge", "judges", required=required, multiple=True, help=help_text)


def display_option(
    help_text: str | None = None, *, conversation: bool = False, default: str | None = None
) -> Callable[[FC], FC]:
    """``--display``: Inspect's progress display; unset (``None``) leaves Inspect's own."""
    choices = [DISPLAYS[0], "conversation", *DISPLAYS[1:]] if conversation else list(DISPLAYS)
    return click.option(
        "--display",
        type=click.Choice(choices),
        default=default,
        show_default=default is not None,
        help=help_text,
    )


def max_samples_option(help_text: str | None = None) -> Callable[[FC], FC]:
    """``--max-samples``: samples Inspect runs in parallel per task [default: Inspect's]."""
    return click.option("--max-samples", type=click.IntRange(min=1), default=None, help=help_text)


def policy_option(help_text: str) -> Callable[[FC], FC]:
    """``--policy``: a gate policy YAML (``None``: the built-in one)."""
    return click.option("--policy", type=click.Path(path_type=Path), default=None, help=help_text)


def checkpoint_pick_options(
    baseline_help: str, candidate_help: str | None = None
) -> Callable[[FC], FC]:
    """``--baseline-checkpoint`` (and ``--candidate-checkpoint`` where the command has a
    candidate): which checkpoint to read from a side that holds several."""
    options = [click.option("--baseline-checkpoint", default=None, help=baseline_help)]
    if candidate_help is not None:
        options.append(click.option("--candidate-checkpoint", default=None, help=candidate_help))
    return stacked(*options)


def gold_option(what_for: str) -> Callable[[FC], FC]:
    """``--gold``: a gold labels CSV written by ``alignprobe gold``; ``what_for`` ends the
    help with what the command does with it."""
    return click.option(
        "--gold",
        type=click.Path(path_type=Path),
        default=None,
        help=f"Gold labels CSV (alignprobe gold): {what_for}.",
    )


def allow_judge_mismatch_option(help_text: str) -> Callable[[FC], FC]:
    """``--allow-judge-mismatch``: compare results judged by different judges anyway."""
    return click.option("--allow-judge-mismatch", is_flag=True, help=help_text)


def out_folder_option(
    help_text: str, *, url: bool = False, required: bool = False, default: Path | None = None
) -> Callable[[FC], FC]:
    """``--out``: the folder a command writes, checked writable before any work. With
    ``url`` it may be an fsspec URL (built locally, then uploaded); without, a URL is
    refused (exit 2)."""
    return click.option(
        "--out",
        type=OUT_LOCATION if url else LOCAL_OUT_FOLDER,
        required=required,
        default=default,
        show_default=default is not None,
        help=help_text,
    )


def report_folder_option(default_place: str) -> Callable[[FC], FC]:
    """``--out``: the local folder of a report on a run [default: ``default_place``, and a
    run at a URL gets the report uploaded beside it]."""
    return out_folder_option(
        f"Report folder [default: {default_place}; for a run at a URL, uploaded there]."
    )


def shown_samples_option(name: str, help_text: str) -> Callable[[FC], FC]:
    """How many example samples a report lists (0: none) [default: 5]."""
    return click.option(
        name, type=click.IntRange(min=0), default=5, show_default=True, help=help_text
    )


def checked_spending(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A spending function the sequential design knows (a bad one: one-line usage error)."""
    from alignprobe.gate.sequential import check_spending

    if value is None:
        return None
    try:
        return check_spending(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def spending_option(help_text: str, default: str | None) -> Callable[[FC], FC]:
    """``--spending``: the alpha-spending function of looks at the data; ``help_text`` is
    followed by the functions it may name."""
    return click.option(
        "--spending",
        default=default,
        show_default=default is not None,
        callback=checked_spending,
        help=f"{help_text}: {SPENDING_CHOICES}.",
    )


def spending_options(default: str | None = "obrien-fleming", mode: str = "") -> Callable[[FC], FC]:
    """--spending, --futility-spending and --binding-futility of a sequential design
    (``gate``, ``power``, ``run --until-decided``). With ``default=None`` an option not
    given stays ``None``; ``mode`` begins each help ("--until-decided: ")."""
    said_default = "" if default else " [default: obrien-fleming]"
    return stacked(
        spending_option(
            f"{mode}Alpha-spending function of the sequential design{said_default}", default
        ),
        click.option(
            "--futility-spending",
            default=None,
            callback=checked_spending,
            help=f"{mode}Beta-spending function of the futility bounds [default: --spending]: "
            f"{SPENDING_CHOICES}.",
        ),
        click.option(
            "--binding-futility",
            is_flag=True,
            default=None if default is None else False,
            help=f"{mode}Efficacy bounds assume every futility stop is taken (lower bounds, "
            "fewer samples; the false-alarm rate holds only if a look that passes ends the "
            "loop, as run --until-decided's does).",
        ),
    )
