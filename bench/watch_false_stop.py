"""False stops and detection of ``alignprobe watch --stop-on-onset``, by simulation.

    .venv/bin/python bench/watch_false_stop.py [--runs 1000] [--looks 6] [--alpha 0.05]

Each simulated training run has ``--looks`` checkpoints of 24 questions x 2 answers,
tested against a base at 5% misaligned with the trajectory's own test and decided by the
watch's onset rule (alpha spending over the looks, :mod:`alignprobe.watch.decide`).
Prints, for Pocock and O'Brien-Fleming spending and for a naive rule (every look at the
full alpha, what stopping on the report's first significant step would do):

* the false-stop rate when no checkpoint changes (every one at 5%);
* with the rate rising to 30% at look ``looks // 2 + 1``: how often training stops, how
  often before the rise (a false stop), and the mean look of a correct stop.
"""

from __future__ import annotations

import argparse

from alignprobe.watch.decide import OnsetRule
from alignprobe.watch.simulate import simulate_stops

BASE_RATE = 0.05
RISEN_RATE = 0.30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--looks", type=int, default=6)
    parser.add_argument("--alpha", type=float, default=0.05)
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
    print(f"{args.runs} runs, {args.looks} looks, alpha {args.alpha}, rise at look {rise}")
    print("| rule | false stops (flat) | stops (rising) | stops before the rise | mean stop look |")
    print("|---|---|---|---|---|")
    for name, rule in rules.items():
        null = simulate_stops(rule, flat, BASE_RATE, runs=args.runs, seed=1)
        alt = simulate_stops(rule, rising, BASE_RATE, runs=args.runs, seed=2)
        early = sum(1 for look in alt.stop_looks if look < rise)
        correct = [look for look in alt.stop_looks if look >= rise]
        mean = sum(correct) / len(correct) if correct else float("nan")
        print(
            f"| {name} | {null.rate:.3f} | {alt.rate:.3f} | {early / args.runs:.3f} | {mean:.2f} |"
        )


if __name__ == "__main__":
    main()
