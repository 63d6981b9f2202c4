"""False stops and detection of ``alignprobe watch --stop-on-onset``, by simulation.

    .venv/bin/python bench/watch_false_stop.py [--runs 400] [--looks 6] [--alpha 0.05]
        [--questions 24] [--samples 3] [--policy gate.yaml]

Each simulated training run has ``--looks`` checkpoints of ``--questions`` x ``--samples``
answers, each decided against a base at 5% misaligned by the watch's own look
(:func:`alignprobe.watch.decide.gate_look`: the gate under ``--policy``, default the
watch's default, at each look's share of alpha). Prints, for Pocock and O'Brien-Fleming
spending and for a naive rule (the gate at the full alpha at every look, what stopping on
the first failing gate would do):

* the false-stop rate when no checkpoint changes (every one at 5%), with its 95% Wilson
  interval;
* with the rate rising to 30% at look ``looks // 2 + 1``: how often training stops, how
  often before the rise (a false stop), and the mean look of a correct stop.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from statsmodels.stats.proportion import proportion_confint

from alignprobe.watch.decide import OnsetRule
from alignprobe.watch.simulate import simulate_stops

BASE_RATE = 0.05
RISEN_RATE = 0.30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--looks", type=int, default=6)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--questions", type=int, default=24)
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--policy", type=Path, default=None)
    args = parser.parse_args()
    rise = args.looks // 2 + 1
    flat = [BASE_RATE] * args.looks
    rising = [BASE_RATE if look < rise else RISEN_RATE for look in range(1, args.looks + 1)]
    rules = {
        "pocock (watch default)": OnsetRule(args.alpha, args.looks, "pocock"),
        "obrien-fleming": OnsetRule(args.alpha, args.looks, "obrien-fleming"),
        # every look at the full alpha: spending a whole alpha at each look
        "naive (alpha every look)": OnsetRule(args.alpha * args.looks, args.looks, "hsd:0"),
    }
    shape = {"policy": args.policy, "questions": args.questions, "samples": args.samples}
    print(
        f"{args.runs} runs, {args.looks} looks, alpha {args.alpha}, {args.questions} questions "
        f"x {args.samples} answers, policy {args.policy or 'default'}, rise at look {rise}"
    )
    print(
        "| rule | false stops (flat) [95% CI] | stops (rising) | stops before the rise "
        "| mean stop look |"
    )
    print("|---|---|---|---|---|")
    undecided = 0
    for name, rule in rules.items():
        null = simulate_stops(rule, flat, BASE_RATE, runs=args.runs, seed=1, **shape)
        alt = simulate_stops(rule, rising, BASE_RATE, runs=args.runs, seed=2, **shape)
        undecided += null.undecided + alt.undecided
        low, high = proportion_confint(null.stops, null.runs, method="wilson")
        early = sum(1 for look in alt.stop_looks if look < rise)
        correct = [look for look in alt.stop_looks if look >= rise]
        mean = sum(correct) / len(correct) if correct else float("nan")
        print(
            f"| {name} | {null.rate:.3f} [{low:.3f}, {high:.3f}] | {alt.rate:.3f} "
            f"| {early / args.runs:.3f} | {mean:.2f} |",
            flush=True,
        )
    if undecided:  # e.g. fewer answers than the policy's min_samples: nothing can stop
        print(f"{undecided} looks could not decide (no onset): see the gate's reasons")


if __name__ == "__main__":
    main()
