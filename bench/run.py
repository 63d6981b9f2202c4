"""alignprobe throughput benchmark: ``python bench/run.py [--quick]``.

Against a loopback OpenAI-compatible stub server (its own process) it measures, in one run
and at the same concurrency C and injected latency L:

  a. a raw asyncio loop of ``AsyncOpenAI`` calls: the ceiling;
  b. a plain Inspect task, one generate per sample, Inspect's default settings;
  c. ``alignprobe/emergent_misalignment`` with its logprob judge (3 calls per sample), with
     Inspect's defaults and with alignprobe's large-run settings (``run/defaults.py``);

and prints model calls per second, achieved vs ideal, CPU per call, and the ratios c/b, c/a.
Two scenarios: L small (the client process's CPU is the limit, which shows framework cost)
and L realistic (the server's latency is the limit). Then it times ``compare`` and ``gate``
on a synthetic 100,000-row results table (see ``tables.py``).
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from agreement import run_agreement_benchmark  # noqa: E402
from stub import StubProcess, StubSpec  # noqa: E402
from tables import run_table_benchmarks  # noqa: E402

from alignprobe.run.defaults import large_run_eval_args  # noqa: E402


@dataclass
class Scenario:
    name: str
    latency_s: float
    concurrency: int
    raw_calls: int
    plain_samples: int
    em_samples: int
    reply_words: int = 40


@dataclass
class Result:
    label: str
    calls: int
    wall_s: float
    cpu_s: float
    ideal_per_s: float
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def per_s(self) -> float:
        return self.calls / self.wall_s if self.wall_s else 0.0

    @property
    def cpu_ms_per_call(self) -> float:
        return 1000 * self.cpu_s / self.calls if self.calls else float("nan")


def scenarios(quick: bool) -> list[Scenario]:
    scale = 1 if quick else 4
    return [
        Scenario("cpu-bound", 0.02, 50, 1500 * scale, 400 * scale, 300 * scale),
        Scenario("latency-bound", 1.0, 32, 320 * scale, 160 * scale, 150 * scale),
    ]


def _worker(load: str, spec: dict[str, Any]) -> dict[str, Any]:
    # a fresh interpreter per load: no shared imports, pools or caches between loads
    done = subprocess.run(
        [sys.executable, str(BENCH_DIR / "workers.py"), load, json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{load} load failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_scenario(scenario: Scenario) -> list[Result]:
    c, lat = scenario.concurrency, scenario.latency_s
    spec = StubSpec(latency_s=lat, reply_words=scenario.reply_words)
    results: list[Result] = []
    with StubProcess(spec) as stub:
        base = {"base_url": stub.base_url, "concurrency": c}

        def measure(label: str, load: str, ideal: float, **extra: Any) -> None:
            raw = _worker(load, {**base, **extra})
            result = Result(label, raw["calls"], raw["wall_s"], raw["cpu_s"], ideal, raw)
            results.append(result)
            print(_row(result), flush=True)

        print(_header(scenario), flush=True)
        measure("a  raw AsyncOpenAI loop", "raw", c / lat, calls=scenario.raw_calls)
        measure("m  Inspect Model.generate, no eval", "floor", c / lat, calls=scenario.raw_calls)
        measure("b  Inspect plain task, defaults", "plain", c / lat, samples=scenario.plain_samples)
        # one answer then two judge calls in parallel: 3 calls per 2L per sample slot
        em_ideal = 1.5 * c / lat
        measure("c0 EM + judge, Inspect defaults", "em", em_ideal, samples=scenario.em_samples)
        measure(
            "c  EM + judge, large-run settings",
            "em",
            em_ideal,
            samples=scenario.em_samples,
            eval_args=large_run_eval_args(max_connections=c),
        )
    print(_ratios(results), flush=True)
    return results


def _header(s: Scenario) -> str:
    return (
        f"\n== {s.name}: latency L={s.latency_s:g} s, concurrency C={s.concurrency}, "
        f"ideal C/L={s.concurrency / s.latency_s:g} calls/s (EM: 1.5 C/L), "
        f"answers of {s.reply_words} words\n"
        f"{'load':36} {'calls':>6} {'wall s':>7} {'calls/s':>8} {'ideal/s':>8} "
        f"{'of ideal':>8} {'CPU ms/call':>11}"
    )


def _row(r: Result) -> str:
    return (
        f"{r.label:36} {r.calls:>6} {r.wall_s:>7.1f} {r.per_s:>8.1f} {r.ideal_per_s:>8.0f} "
        f"{r.per_s / r.ideal_per_s:>8.0%} {r.cpu_ms_per_call:>11.2f}"
    )


def _ratios(results: list[Result]) -> str:
    by = {r.label.split()[0]: r for r in results}
    a, m, b, c0, c = by["a"], by["m"], by["b"], by["c0"], by["c"]
    return (
        f"calls/s ratios:   c/b = {c.per_s / b.per_s:.2f}   c/a = {c.per_s / a.per_s:.2f}   "
        f"(Inspect defaults: c0/b = {c0.per_s / b.per_s:.2f}   c0/a = {c0.per_s / a.per_s:.2f})\n"
        f"same ratios from CPU per call (robust to a busy machine): "
        f"c/b = {b.cpu_ms_per_call / c.cpu_ms_per_call:.2f}   "
        f"c/a = {a.cpu_ms_per_call / c.cpu_ms_per_call:.2f}\n"
        f"share of each load's own ideal, c vs a = {c.per_s / c.ideal_per_s:.0%} vs "
        f"{a.per_s / a.ideal_per_s:.0%}\n"
        f"model layer alone, m/a = {a.cpu_ms_per_call / m.cpu_ms_per_call:.2f} from CPU per call: "
        f"the most any Inspect task can reach where the client's CPU is the limit"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small counts (~3 minutes)")
    parser.add_argument(
        "--scenario", choices=["cpu-bound", "latency-bound"], action="append", default=None
    )
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the synthetic table")
    parser.add_argument("--no-tables", action="store_true", help="skip compare/gate timing")
    parser.add_argument("--no-agreement", action="store_true", help="skip alpha at scale")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    args = parser.parse_args(argv)

    # a terminated benchmark still stops its stub server (the `with` blocks run)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    chosen = [s for s in scenarios(args.quick) if not args.scenario or s.name in args.scenario]
    report: dict[str, Any] = {"scenarios": {}}
    for scenario in chosen:
        results = run_scenario(scenario)
        report["scenarios"][scenario.name] = [
            {"label": r.label, "calls": r.calls, "wall_s": r.wall_s, "cpu_s": r.cpu_s,
             "calls_per_s": r.per_s, "ideal_per_s": r.ideal_per_s}
            for r in results
        ]  # fmt: skip
    if not args.no_tables:
        report["tables"] = run_table_benchmarks(args.rows)
    if not args.no_agreement:
        report["agreement"] = run_agreement_benchmark()
    print(f"\nbenchmark finished in {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
