"""``alignprobe gate`` (CI regression gate) and ``alignprobe power`` (its power for a design)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from alignprobe.commands.echo import beside, upload_beside
from alignprobe.commands.locations import LOCAL_OUT_FILE, RUN_LOCATION
from alignprobe.commands.options import (
    FC,
    allow_judge_mismatch_option,
    checkpoint_pick_options,
    gold_option,
    policy_option,
    spending_options,
)
from alignprobe.exit_codes import ExitCode
from alignprobe.gate.types import GateMode, GateTest

#: alignprobe.gate.power.POOLED_Z (not imported here: the CLI loads statsmodels lazily)
POOLED_Z = "pooled-z"


def _side_option(name: str) -> Callable[[FC], FC]:
    """``--baseline`` / ``--candidate``: one side of the comparison, in one or more rounds."""
    return click.option(
        name,
        required=True,
        multiple=True,
        type=RUN_LOCATION,
        help="Run dir (or its URL, s3://...), table file or imported result; repeat to "
        "concatenate rounds.",
    )


@click.command("gate")
@_side_option("--baseline")
@_side_option("--candidate")
@policy_option("Gate policy YAML [default: built-in gate.yaml].")
@click.option(
    "--junit",
    type=LOCAL_OUT_FILE,
    default=None,
    help="Write JUnit XML here (one testcase per check).",
)
@click.option(
    "--json",
    "json_path",
    type=LOCAL_OUT_FILE,
    default=None,
    help="Write the verdict here [default: verdict.json beside the candidate].",
)
@checkpoint_pick_options(
    "Checkpoint to use when the baseline holds several.",
    "Checkpoint to use when the candidate holds several.",
)
@allow_judge_mismatch_option("Compare results judged by different judges or prompt versions.")
@click.option(
    "--allow-version-mismatch", is_flag=True, help="Compare results of different task versions."
)
@click.option(
    "--look",
    type=click.IntRange(min=1),
    default=None,
    help="Sequential gate: this look (1-based) of --of; exit 3 = run another round.",
)
@click.option(
    "--of", "of", type=click.IntRange(min=1), default=None, help="Looks planned (at least 2)."
)
@click.option(
    "--max-samples-per-question",
    type=click.IntRange(min=1),
    default=None,
    help="Planned candidate answers per question at the last look (needed with --look).",
)
@spending_options()
@gold_option("decide labelled rate checks on PPI-corrected rates")
def gate_command(
    baseline: tuple[Path, ...],
    candidate: tuple[Path, ...],
    policy: Path | None,
    junit: Path | None,
    json_path: Path | None,
    baseline_checkpoint: str | None,
    candidate_checkpoint: str | None,
    allow_judge_mismatch: bool,
    allow_version_mismatch: bool,
    look: int | None,
    of: int | None,
    max_samples_per_question: int | None,
    spending: str,
    gold: Path | None,
    futility_spending: str | None,
    binding_futility: bool,
) -> None:
    """Fail the build if CANDIDATE regressed against BASELINE.

    Exit 0: every applicable check passed. Exit 1: a significant regression. Exit 2: the
    gate cannot decide (too few samples, unscored or errored rows, a run that ended in
    error, different judges or task versions, nothing applicable) or the input is wrong.
    Exit 3 (only with --look k --of K, k < K): no check failed and some crossed neither
    boundary yet: run another round and look again.
    """
    from alignprobe.errors import UserInputError
    from alignprobe.gate import GateOptions, load_policy, load_side, run_gate
    from alignprobe.gate.checks import Looks
    from alignprobe.gate.policy import default_policy_path
    from alignprobe.gate.report import append_step_summary, terminal_table, write_junit
    from alignprobe.gate.results import combine_sides
    from alignprobe.run.storage import publish

    looks = None
    if (look is None) != (of is None):
        raise UserInputError("--look and --of go together (--look k --of K)", field="--look")
    if look is not None and of is not None:
        if of < 2:
            raise UserInputError(
                "--of 1 is the fixed gate: drop --look and --of (a sequential gate needs "
                "at least 2 looks)",
                field="--of",
            )
        if look > of:
            raise UserInputError(f"--look {look} is past --of {of}", field="--look")
        if max_samples_per_question is None:
            raise UserInputError(
                "--look needs --max-samples-per-question (the planned answers per question "
                "at the last look)",
                field="--max-samples-per-question",
            )
        looks = Looks(
            look, of, max_samples_per_question, spending, futility_spending, binding_futility
        )
    elif max_samples_per_question is not None:
        raise UserInputError("--max-samples-per-question needs --look k --of K", field="--look")
    gate_policy = load_policy(policy)
    base = combine_sides([load_side(b, "baseline", baseline_checkpoint) for b in baseline])
    cand = combine_sides([load_side(c, "candidate", candidate_checkpoint) for c in candidate])
    correction = None
    if gold is not None:
        from alignprobe.gate.gold import load_gold_correction

        if looks is not None:
            raise UserInputError("--gold is not available with sequential looks", field="--gold")
        correction = load_gold_correction(gold, base, cand)
        if correction.labels.skipped:
            click.echo(f"alignprobe: {gold}: {correction.labels.skipped_summary()}", err=True)
    verdict = run_gate(
        base,
        cand,
        gate_policy,
        policy_source=policy or default_policy_path(),
        options=GateOptions(allow_judge_mismatch, allow_version_mismatch, looks, correction),
    )
    # every file asked for is written before the verdict is printed: a failed write is one
    # error line and exit 2, never a PASS on the terminal followed by a traceback
    written: list[Path | str] = [verdict.write(json_path or beside(candidate[-1], "verdict.json"))]
    origin = upload_beside(candidate[-1], json_path)
    if origin is not None:  # beside the candidate's logs in the store, as for a local run
        written += publish([Path(written[0])], origin)
    if junit is not None:
        written.append(write_junit(verdict, junit))
    summary = append_step_summary(verdict)
    if summary is not None:
        written.append(summary)
    click.echo(terminal_table(verdict))
    for path in written:
        click.echo(f"wrote {path}")
    incomplete = [
        problem if len(side.inputs) > 1 else f"{side.where}: {problem}"
        for side in (base, cand)
        for problem in side.run_problems
    ]
    if verdict.exit_code == ExitCode.USER_ERROR:  # the contract's one line, on stderr
        why = incomplete[0] if incomplete else f"{cand.where}: {verdict.summary}"
        click.echo(f"alignprobe: error: {why}; cannot decide", err=True)
    sys.exit(verdict.exit_code)


@click.command("power")
@click.option(
    "--baseline-rate",
    type=click.FloatRange(0, 1),
    default=None,
    help="Baseline rate of the bad outcome (0-1), questions spread by the Beta model "
    "(--icc). Without it (and without --profile) the built-in synthetic profile is used.",
)
@click.option(
    "--profile",
    default=None,
    help="Per-question baseline rates: a YAML/CSV of rates, a results table, run dir, "
    "import folder or published Betley CSV, or 'synthetic' (the built-in synthetic "
    "24-question profile, mean 8.5%).",
)
@click.option(
    "--profile-scale",
    type=click.FloatRange(0, min_open=True),
    default=1.0,
    show_default=True,
    help="Multiply every profile rate by this (0.2 = a baseline at a fifth of the profile).",
)
@click.option(
    "--from",
    "from_run",
    default=None,
    metavar="RUN",
    help="Plan from a baseline run's own per-question profile (run dir, table or import "
    "folder; --profile-checkpoint/-measure/-condition pick it): the predicted power of the "
    "gate's test beside a simulation of the gate on that profile, per sample size.",
)
@click.option("--profile-checkpoint", default=None, help="Checkpoint of a results profile.")
@click.option(
    "--profile-measure", default="misaligned", show_default=True, help="Measure of the profile."
)
@click.option(
    "--profile-condition",
    default="neutral",
    show_default=True,
    help="Condition of a results profile ('*' = all).",
)
@click.option(
    "--effect",
    type=click.FloatRange(0, 1, min_open=True),
    required=True,
    help="Mean absolute increase to detect (0.05 = five points).",
)
@click.option(
    "--effect-shape",
    type=click.Choice(["additive", "proportional"]),
    default="additive",
    show_default=True,
    help="additive: every question +effect; proportional: every question's rate x "
    "(1 + effect / baseline rate), the same mean increase.",
)
@click.option(
    "--questions",
    type=click.IntRange(min=2),
    default=None,
    help="Questions (the paired units); required with --baseline-rate, set by a profile.",
)
@click.option(
    "--samples",
    type=click.IntRange(min=1),
    required=True,
    help="Samples per question per checkpoint.",
)
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="One-sided significance level of the gate, in (0, 1).",
)
@click.option(
    "--checks",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Checks in the gate (level alpha/checks).",
)
@click.option(
    "--margin", type=float, default=0.0, show_default=True, help="Allowed worsening of the check."
)
@click.option(
    "--mode",
    type=click.Choice([m.value for m in GateMode]),
    default=GateMode.REGRESSION.value,
    show_default=True,
    help="regression: power = chance to fail; non_inferiority: chance to pass.",
)
@click.option(
    "--icc",
    type=float,
    default=0.05,
    show_default=True,
    help="Between-question heterogeneity (intraclass correlation) of the Beta model.",
)
@click.option(
    "--test",
    "test",
    type=click.Choice([*(t.value for t in GateTest if t is not GateTest.PPI), POOLED_Z]),
    default=GateTest.AUTO.value,
    show_default=True,
    help="auto = cmh (what the gate runs on a rate); pooled-z for comparison only.",
)
@click.option(
    "--compare-tests",
    is_flag=True,
    help="Also print power and false alarms of the t-test, pooled z-test and CMH at 5, "
    "10, 20 and 50 samples per question.",
)
@click.option(
    "--sequential",
    "looks",
    type=click.IntRange(min=1),
    default=None,
    help="Also simulate a group-sequential design with this many looks (rounds) against "
    "the fixed design of TARGET power: false alarms, power, mean samples to a decision.",
)
@spending_options()
@click.option(
    "--simulations",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    help="Simulated gates per estimate (more: narrower intervals, slower).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--target",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.8,
    show_default=True,
    help="Power to find the sample size for, in (0, 1).",
)
def power_command(
    baseline_rate: float | None,
    profile: str | None,
    profile_scale: float,
    from_run: str | None,
    profile_checkpoint: str | None,
    profile_measure: str,
    profile_condition: str,
    effect: float,
    effect_shape: str,
    questions: int | None,
    samples: int,
    alpha: float,
    checks: int,
    margin: float,
    mode: str,
    icc: float,
    test: str,
    compare_tests: bool,
    looks: int | None,
    spending: str,
    futility_spending: str | None,
    binding_futility: bool,
    simulations: int,
    seed: int,
    target: float,
) -> None:
    """Simulate the gate's power, and the samples a design needs.

    The samples needed are those for TARGET power.
    """
    from alignprobe.errors import UserInputError
    from alignprobe.gate.power import (
        Design,
        compare_tests_table,
        effect_for_power,
        false_alarm_rate,
        gate_power,
        samples_for_power,
    )
    from alignprobe.gate.profiles import load_profile, synthetic_profile
    from alignprobe.run.storage import is_remote, local_copy

    if from_run is not None and (profile is not None or baseline_rate is not None):
        raise UserInputError(
            "--from plans from a run's profile: give it without --profile or --baseline-rate",
            field="--from",
        )
    if from_run is not None:
        profile = from_run
    if profile is not None and baseline_rate is not None:
        raise UserInputError("give --baseline-rate or --profile, not both", field="--profile")
    if profile is not None and is_remote(profile):  # a run folder in a store: its mirror
        profile = str(local_copy(profile))
    rates = None
    if baseline_rate is None:
        chosen = (
            synthetic_profile()
            if profile in (None, "synthetic")
            else load_profile(
                profile,
                checkpoint=profile_checkpoint,
                measure=profile_measure,
                condition=profile_condition,
            )
        )
        if profile_scale != 1.0:
            chosen = chosen.scaled(profile_scale)
        rates, where = chosen.rates, chosen.source
    elif questions is None:
        raise UserInputError("--questions is needed with --baseline-rate", field="--questions")
    try:
        design = Design(
            baseline_rate or 0.0,
            effect,
            questions or 2,
            samples,
            alpha,
            checks,
            icc,
            margin,
            "pooled-z" if test == POOLED_Z else GateTest(test),
            GateMode(mode),
            rates,
            "proportional" if effect_shape == "proportional" else "additive",
        )
    except ValueError as exc:
        raise UserInputError(str(exc), field="power") from None
    if from_run is not None:
        from alignprobe.gate.power_plan import plan_from_profile

        click.echo(plan_from_profile(design, where, target, simulations, seed))
        return
    power = gate_power(design, simulations, seed)
    alarm = false_alarm_rate(design, simulations, seed)
    needed = samples_for_power(design, target, simulations, seed)
    mde = effect_for_power(design, target, simulations, seed)
    shown = "cmh" if test == GateTest.AUTO.value else test
    click.echo(
        f"design: {design.questions} questions x {samples} samples per checkpoint; baseline "
        f"rate {design.baseline_rate:.1%}, effect {effect * 100:+.1f} pts ({effect_shape}), "
        f"margin {margin * 100:.1f} pts; {mode}, one-sided {shown} at "
        f"α={alpha:g}/{checks} check(s)"
    )
    if rates is None:
        click.echo(
            f"assumption: question rates ~ Beta(mean {design.baseline_rate:.1%}, ICC {icc:g}); "
            f"candidate rate from question rate + effect; {simulations} simulated gates, "
            f"seed {seed}"
        )
    else:
        click.echo(
            f"profile: {where}; per-question rates {min(rates):.1%}-{max(rates):.1%}; "
            f"{simulations} simulated gates, seed {seed}"
        )
    what = "power" if design.mode is GateMode.REGRESSION else "chance to pass (non-inferior)"
    click.echo(f"{what}: {power.rate:.1%} (95% CI {power.low:.1%}-{power.high:.1%})")
    edge = "with no change" if design.mode is GateMode.REGRESSION else "at a worsening = margin"
    error = "false-alarm rate" if design.mode is GateMode.REGRESSION else "false-pass rate"
    click.echo(f"{error} {edge}: {alarm.rate:.1%} (95% CI {alarm.low:.1%}-{alarm.high:.1%})")
    if needed is None:
        click.echo(f"samples per question for {target:.0%} power: not reached by 20000")
    else:
        click.echo(f"samples per question for {target:.0%} power: {needed}")
    if design.mode is GateMode.REGRESSION:
        caught = "not reached" if mde is None else f"{mde * 100:+.1f} pts"
        click.echo(
            f"minimum detectable effect at {target:.0%} power ({samples} samples per "
            f"question): {caught}"
        )
    if compare_tests:
        click.echo("")
        click.echo(compare_tests_table(design, simulations=simulations, seed=seed))
    if looks is not None:
        from alignprobe.gate.power import compare_sequential, sequential_table

        click.echo("")
        comparison = compare_sequential(
            design,
            looks,
            spending,
            target,
            simulations,
            seed,
            fixed_samples=needed,
            futility_spending=futility_spending,
            binding=binding_futility,
        )
        if comparison is None:
            click.echo(f"sequential: no fixed design reaches {target:.0%} power to compare")
        else:
            click.echo(sequential_table(comparison, design))
