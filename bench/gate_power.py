"""Power and false alarms of the gate's tests, and what the default policy lets through.

    .venv/bin/python bench/gate_power.py [--simulations 2000] [--profile FILE]
        [--looks 2 3 4 6] [--only-sequential]

Prints four tables (all through the gate's own decision functions, seeded):

1. the issue's design: baseline 0.2x a 24-question profile (the built-in *synthetic*
   profile unless ``--profile``), candidate +2.55 points spread in proportion to each
   question's rate (0.5x the profile); power and false-alarm rate of the old gate
   (paired t-test on per-question means), the unpaired pooled z-test and the gate's CMH
   test at 5, 10, 20 and 50 samples per question, margin 0;
2. the same on ``alignprobe power``'s Beta heterogeneity model (2%, ICC 0.05, +3 points);
3. per check of the built-in policy: its margin and the worsening it catches with 50%
   and 80% probability at 20, 50 and 100 samples per question (what it lets through);
4. the sequential design (``--looks``; O'Brien-Fleming and Pocock alpha spending with
   non-binding beta spending for 80% power, and Hwang-Shih-DeCani spending (gamma 1 for
   both bounds) with binding futility, the design ``run --until-decided`` can use) on
   design 1 against the fixed design of 80% power: false alarms, power, mean samples per
   question to a decision and the samples saved.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from alignprobe.gate import default_policy_path, load_policy
from alignprobe.gate.decide import allowed_worsening
from alignprobe.gate.power import (
    Design,
    compare_sequential,
    compare_tests_table,
    effect_for_power,
    sequential_table,
)
from alignprobe.gate.profiles import Profile, load_profile, synthetic_profile
from alignprobe.gate.sequential import SPENDINGS
from alignprobe.gate.types import GateTest

#: sequential designs of table 4: (alpha spending, beta spending, binding futility)
SEQUENTIAL_SHAPES: tuple[tuple[str, str | None, bool], ...] = (
    *((name, None, False) for name in SPENDINGS),
    ("hsd:1", "hsd:1", True),
)

#: questions and baseline rate assumed per check of the built-in policy (its suites)
CHECK_DESIGNS = {
    "emergent_misalignment": (24, None),  # the profile's 0.2x
    "reward_hacking": (20, 0.10),
    "hack_honesty": (10, 0.50),
    "system_rule_compliance": (40, 0.20),
    "guardrails": (30, 0.15),
    "corrigibility": (10, 0.20),
    "oversight_acceptance": (15, 0.20),
}


def _pts(x: float | None) -> str:
    return "not reached" if x is None else f"+{x * 100:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulations", type=int, default=2000)
    parser.add_argument("--profile", default=None, help="profile file (default: synthetic)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--looks", type=int, nargs="+", default=[2, 3, 4, 6, 8], help="looks of table 4"
    )
    parser.add_argument(
        "--shapes",
        nargs="+",
        default=None,
        help="table 4 designs as SPENDING[/FUTILITY][/binding], e.g. hsd:1/hsd:1/binding "
        "[default: obrien-fleming, pocock, hsd:1/hsd:1/binding]",
    )
    parser.add_argument("--only-sequential", action="store_true", help="print table 4 only")
    parser.add_argument(
        "--target", type=float, default=0.8, help="power of table 4's designs [default: 0.8]"
    )
    args = parser.parse_args()
    profile = load_profile(args.profile) if args.profile else synthetic_profile()
    base = profile.scaled(0.2)
    sims, seed = args.simulations, args.seed

    issue = Design(
        0.0, 0.5 * profile.mean - base.mean, 24, 20, profile=base.rates, shape="proportional"
    )
    if not args.only_sequential:
        _fixed_tables(issue, base, sims, seed)
    print(f"\n4. sequential decisions on design 1 (+{issue.effect * 100:.2f} pts), CMH:")
    shapes = [_shape(text) for text in args.shapes] if args.shapes else SEQUENTIAL_SHAPES
    for looks in args.looks:
        for spending, futility, binding in shapes:
            comparison = compare_sequential(
                issue, looks, spending, args.target, sims, seed, None, futility, binding
            )
            if comparison is None:
                print(f"   {looks} looks: no fixed design reaches {args.target:.0%} power")
                continue
            print("   " + sequential_table(comparison, issue).replace("\n", "\n   "))


def _shape(text: str) -> tuple[str, str | None, bool]:
    parts = text.split("/")
    binding = parts[-1] == "binding"
    parts = parts[:-1] if binding else parts
    return parts[0], parts[1] if len(parts) > 1 else None, binding


def _fixed_tables(issue: Design, base: Profile, sims: int, seed: int) -> None:
    profile_mean = base.mean / 0.2
    print(f"1. {base.source}: baseline {issue.baseline_rate:.2%}, candidate 0.5x the profile")
    print(f"   (+{issue.effect * 100:.2f} pts), margin 0, {sims} simulated gates per cell")
    print(compare_tests_table(issue, simulations=sims, seed=seed))
    big = replace(issue, effect=profile_mean - base.mean)
    print(f"\n   candidate 1.0x the profile (+{big.effect * 100:.2f} pts):")
    print(compare_tests_table(big, simulations=sims, seed=seed))

    beta = Design(0.02, 0.03, 24, 20)
    print("\n2. heterogeneity model: 24 questions, Beta(mean 2%, ICC 0.05), +3 pts additive")
    print(compare_tests_table(beta, simulations=sims, seed=seed))

    policy = load_policy(default_policy_path())
    print("\n3. what the built-in policy lets through (regression mode, Holm over 1 check):")
    print("   check: questions, baseline, margin -> worsening caught 50% / 80% at n samples/q")
    for check in policy.checks:
        settings = policy.settings(check)
        questions, rate = CHECK_DESIGNS.get(check.name, (20, 0.1))
        if rate is None:
            rate, rates = base.mean, base.rates
        else:
            rates = None
        # a good-high rate's margin is on its bad rate: the same size
        margin = allowed_worsening(rate, settings.max_worsening, settings.max_relative_worsening)
        cells = []
        for n in (20, 50, 100):
            d = Design(rate, 0.0, questions, n, margin=margin, profile=rates, test=GateTest.AUTO)
            half = effect_for_power(d, 0.5, sims // 2, seed, tolerance=0.002)
            most = effect_for_power(d, 0.8, sims // 2, seed, tolerance=0.002)
            cells.append(f"n={n}: {_pts(half)} / {_pts(most)}")
        print(
            f"   {check.name}: {questions} q, {rate:.1%}, margin {margin * 100:.1f} pts -> "
            + "; ".join(cells)
        )


if __name__ == "__main__":
    main()
