"""`make bench`: compile speed, rule evaluation cost and series count, printed side by side.

python -m bench [--only compile|rules|check] [--profile] [sizes...]; see --help. Needs promtool and
prometheus (Debian package `prometheus`) for the rule and check parts. Every figure of one run is measured
on the same machine in the same run, so the ratios hold even when the machine is busy.
"""

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import check_speed, compile_speed, corpus, evaluation, golden, traffic

START = time.monotonic()
# The steady state: a month of recorded history fills the period window, which Sloth's rules read
# as an average of a month of 5m ratios.
STEADY_DAYS = 30


def progress(message: str) -> None:
    print(f"[{time.monotonic() - START:6.1f}s] {message}", flush=True)


def machine() -> str:
    memory = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0) if Path("/proc/meminfo").exists() else 0
    return (f"{platform.machine()}, {os.cpu_count()} CPUs, {memory / 2 ** 20:.0f} GiB, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}")


def bench_compile(work: Path, args: argparse.Namespace) -> None:
    slos = work / "compile" / "slos"
    corpus.write(slos, args.services, args.slos_per_service)
    progress(f"compile: {args.services * args.slos_per_service} SLOs in {args.services} services, "
             f"best of {args.repeats}")
    ours, floor, peak, size = compile_speed.measure(slos, work / "compile" / "output", args.repeats, progress)
    print(f"  slo compile (own process): {ours.wall:.2f}s wall, {ours.cpu:.2f}s CPU, "
          f"peak memory {peak / 2 ** 20:.0f} MiB, output {size / 2 ** 20:.1f} MiB")
    print(f"  floor (C YAML parse + C YAML/json dump of the same data): {floor.wall:.2f}s wall, {floor.cpu:.2f}s CPU")
    print(f"  ratio to the floor: {ours.wall / floor.wall:.2f}x wall, {ours.cpu / floor.cpu:.2f}x CPU "
          f"(target at most 3x; peak memory target under 500 MiB)")
    if args.profile:
        print(compile_speed.profile(slos, work / "compile" / "profiled"))


def bench_rules(work: Path, args: argparse.Namespace) -> None:
    promtool = shutil.which("promtool")
    if promtool is None or shutil.which("prometheus") is None:
        sys.exit("bench: promtool and prometheus are needed (Debian/Ubuntu: apt-get install prometheus)")
    if not (args.shared / golden.GOLDEN).exists():
        sys.exit(f"bench: Sloth's golden rules are needed: {args.shared / golden.GOLDEN} is absent")
    runs = [(series, args.history_days) for series in args.series]
    if args.steady_series:
        runs.append((args.steady_series, STEADY_DAYS))
    ratios = []
    for series, history_days in runs:
        shape = traffic.Shape(args.rule_slos, series)
        progress(f"rules: {shape.slos} copies of Sloth's getting-started SLO, {series} raw series each, "
                 f"{args.days}d of history"
                 + (f", {history_days}d of recorded history" if history_days else ""))
        ours, sloth = evaluation.run(work / f"rules-{series}-{history_days or args.days}", shape, args.days,
                                     args.interval, args.rounds, promtool, progress, args.shared, history_days)
        print("\n".join(evaluation.report(ours, sloth)), flush=True)
        ratios.append((series, history_days or args.days, ours, sloth))
    print("  ours / Sloth's, by raw series per SLO and days of recorded history: engine query time, "
          "group evaluation time, samples read")
    for series, days, ours, sloth in ratios:
        print(f"    {series:3} series, {days:2}d: {ours.query_seconds / sloth.query_seconds:.3f}, "
              f"{ours.eval_seconds / sloth.eval_seconds:.3f}, 1/{sloth.samples_per_slo / ours.samples_per_slo:.1f}")


def bench_check(work: Path, args: argparse.Namespace) -> None:
    if shutil.which("promtool") is None:
        sys.exit("bench: promtool is needed (Debian/Ubuntu: apt-get install prometheus)")
    runs = []
    for size in args.check_sizes:
        progress(f"check: {size} SLOs in one service, --jobs {args.jobs}")
        runs.append(check_speed.measure(work / "check" / f"one-{size}", 1, size, args.jobs))
    repository = None
    if args.check_services:
        progress(f"check: {args.check_services} services of {args.check_slos} SLOs, --jobs {args.jobs}")
        repository = check_speed.measure(work / "check" / "repository", args.check_services, args.check_slos,
                                         args.jobs)
    print("\n".join(check_speed.report(runs, repository, args.check_services, args.jobs)))


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("compile", "rules", "check"), help="run one part only")
    parser.add_argument("--profile", action="store_true", help="also print where compile spends its time")
    parser.add_argument("--services", type=int, default=500, help="compile: services (default 500)")
    parser.add_argument("--slos-per-service", type=int, default=4, help="compile: SLOs per service (default 4)")
    parser.add_argument("--repeats", type=int, default=3, help="compile: runs of each, best kept (default 3)")
    parser.add_argument("--rule-slos", type=int, default=10,
                        help="rules: copies of Sloth's getting-started SLO, one service each (default 10)")
    parser.add_argument("--series", type=int, nargs="+", default=[5, 20, 50],
                        help="rules: raw series per SLO, one run each (default 5 20 50)")
    parser.add_argument("--shared", type=Path, default=golden.default_shared(),
                        help="rules: the folder whose conformance/sloth holds Sloth's golden rules (default ../shared)")
    parser.add_argument("--days", type=int, default=4, help="rules: days of backfilled history (default 4)")
    parser.add_argument("--history-days", type=int,
                        help="rules: days of recorded history the rules read, the part older than --days "
                             "from the traffic model, as after that long running (default: --days)")
    parser.add_argument("--steady-series", type=int, default=20,
                        help=f"rules: raw series per SLO of one more run after {STEADY_DAYS}d of recorded history, "
                             "the steady state; 0 for none (default 20)")
    parser.add_argument("--interval", type=int, default=20,
                        help="rules: evaluation interval in seconds while measuring (default 20)")
    parser.add_argument("--rounds", type=int, default=3, help="rules: evaluations measured (default 3)")
    parser.add_argument("--check-sizes", type=int, nargs="+", default=[1, 8, 32],
                        help="check: SLOs in one service, one run each (default 1 8 32)")
    parser.add_argument("--check-services", type=int, default=10,
                        help="check: services of the repository timed as a whole, 0 for none (default 10)")
    parser.add_argument("--check-slos", type=int, default=10, help="check: SLOs per service (default 10)")
    parser.add_argument("--jobs", type=int, default=2, help="check: slo check --jobs (default 2)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="slo-bench-") as folder:
        work = Path(folder)
        if args.only in (None, "compile"):
            bench_compile(work, args)
        if args.only in (None, "rules"):
            bench_rules(work, args)
        if args.only in (None, "check"):
            bench_check(work, args)
    progress("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
