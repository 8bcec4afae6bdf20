"""Rule evaluation in a real Prometheus: our rules against Sloth's own rules on the same data.

Sloth's golden rules for its getting-started example and `slo compile` of the same Sloth spec are
copied to as many services as the run measures (`golden`), each service over its own raw series.
Days of raw counters are backfilled (`promtool tsdb create-blocks-from openmetrics`), and a local
exporter continues them. The recorded history both rule sets read (our 5m error and total rates and
hourly counts, Sloth's 5m ratios) is computed by Prometheus from that data, one range query per rule
as `promtool tsdb create-blocks-from rules` does, and backfilled too. Then one Prometheus runs both
rule sets side by side: their summed group evaluation time, then every rule expression of a sample
of SLOs as an instant query with `stats=all` (engine time and samples read), alternating the two
sets, then the accuracy of each window against the exact ratio of the traffic, and the series.
"""

import json
import os
import re
import statistics
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from compiler import durations, names, pipeline, serialize
from compiler.plan import Plan
from compiler.targets import prometheus
from harness import prometheus as realprom

from . import golden, traffic

HISTORY_INTERVAL = "1m"  # the default rule_interval: the resolution of the recorded history
ACCURACY_WINDOWS = ("1h", "6h", "1d", "3d", "30d")
BOUNDS = {"1h": 0.10, "6h": 0.05, "1d": 0.02, "3d": 0.02, "30d": 0.02}  # the alert accuracy bounds
SCRAPE_INTERVAL = "15s"
SAMPLED_SLOS = 10  # query statistics and accuracy are read for this many SLOs (half of them uneven)
ACCURACY_SPAN, ACCURACY_STEP = 2 * 3600, 600
QUERY_REPEATS = 5  # each instant query is run this often; its median engine time counts


@dataclass
class Run:
    """What one rule set cost, per SLO and round of evaluation."""

    name: str
    rules_per_slo: float = 0.0
    eval_seconds: float = 0.0  # summed group evaluation time of one round, all SLOs (mean over rounds)
    query_seconds: float = 0.0  # engine time of every rule expression of one SLO (instant queries)
    samples_per_slo: float = 0.0  # samples read by one SLO's rules in one round
    series_per_slo: float = 0.0
    errors: dict[str, dict[str, float]] = field(default_factory=dict)  # window -> traffic -> max rel. error
    by_rule: dict[str, tuple[float, float]] = field(default_factory=dict)  # rule -> (seconds, samples) per SLO
    by_part: dict[str, float] = field(default_factory=dict)  # PARTS -> engine seconds per SLO


@dataclass(frozen=True)
class RuleSet:
    name: str
    groups: Callable[[int], list[dict]]  # the rule groups of the SLO of an index
    identity: str  # the labels that tell its SLOs apart, for counting series
    history: Callable[[int], list[dict]]  # the recording rules whose history it reads


# What a rule is for, in the engine time by part: the first three any rule set that keeps the
# contract's records and alerts and reads its base and 1h windows from raw series must evaluate.
RAW, CONTRACT, ALERTS, DERIVED = ("reads raw series", "contract records", "alerts", "windows from records")
PARTS = (RAW, CONTRACT, ALERTS, DERIVED)
_SELECTED = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*\{")  # the metric of a selector with matchers


def _part(rule: dict, recorded: set[str]) -> str:
    if "alert" in rule:
        return ALERTS
    if set(_SELECTED.findall(rule["expr"])) - recorded:
        return RAW
    return DERIVED if rule["record"].startswith("slo:sli_") else CONTRACT


def _classified(rules: list[dict]) -> list[tuple[str, str, str]]:
    """(key in the per-rule figures, expression, part) of each rule of one rule set."""
    recorded = {r["record"] for r in rules if "record" in r}
    return [(_rule_key(r), r["expr"], _part(r, recorded)) for r in rules]


def _rule_key(rule: dict) -> str:
    """A rule's name in the per-rule figures: its record and window, or its alert's window or tier."""
    labels = rule.get("labels", {})
    if "record" in rule:
        return f"{rule['record']} {labels.get(names.WINDOW) or labels.get(golden.WINDOW, '')}".strip()
    return f"alert {labels.get(names.LONG_WINDOW) or labels.get('sloth_severity', '')}".strip()


def rule_sets(plan: Plan, golden_rules: str, interval: str) -> tuple[RuleSet, RuleSet]:
    """(ours, Sloth's) for the copies of the plan: one SLO per service, the service named by its index."""
    slos = {traffic.index(slo.service): slo for service in plan.services for slo in service.slos}

    def ours_history(i: int) -> list[dict]:
        keep = {names.errors_rate(slos[i].base_text), names.total_rate(slos[i].base_text)}
        return [r for r in prometheus.group(slos[i], interval)["rules"] if r.get("record") in keep]

    def sloth_history(i: int) -> list[dict]:
        ratio = golden.groups(golden_rules, traffic.job(i), interval)[0]["rules"][0]
        assert ratio["labels"][golden.WINDOW] == "5m", ratio  # the ratio Sloth's 30d window averages
        return [ratio]
    return (RuleSet("ours", lambda i: [prometheus.group(slos[i], interval)], "slo_service, slo_name", ours_history),
            RuleSet("sloth", lambda i: golden.groups(golden_rules, traffic.job(i), interval), golden.IDENTITY,
                    sloth_history))


def _whole_hour(rates: dict[int, float], mark: int, step: int) -> float | None:
    """What our rules record at the first evaluation of an hour (`mark`, Unix seconds): the recorded
    rates of the hour before times the interval; None without any."""
    hour = [rates[t] for t in range(mark - 3600, mark, step) if t in rates]
    return step * sum(hour) if hour else None


def hour_counts(rate: str, values: list) -> dict[str, list[tuple[float, float]]]:
    """The hourly counts our rules record from a base rate's history (`prometheus._hour_counts`):
    the running count reads its own earlier values, which a range query cannot, so both are replayed
    here, evaluation by evaluation."""
    count = names.errors_count if rate.startswith(names.errors_rate("")) else names.total_count
    step = durations.parse(HISTORY_INTERVAL) // 1000
    rates = {int(t): float(v) for t, v in values}
    this, last = [], []
    running, at = None, None
    for t in range(min(rates), max(rates) + 1, step):
        first = t % 3600 < step
        if first and (whole := _whole_hour(rates, t, step)) is not None:
            last.append((t, whole))
        carried = running is not None and t - at <= 2.5 * step and not first
        if t in rates:
            running = step * rates[t] + (running if carried else 0.0)
        elif not carried:
            running = None
            continue
        at = t
        this.append((t, running))
    return {count(names.THIS_HOUR): this, count(names.LAST_HOUR): last}


def _older_history(shape: traffic.Shape, ours: RuleSet, sloth: RuleSet, first_minute: int, last_minute: int,
                   path: Path) -> int:
    """What both rule sets read from before the raw data, from the traffic model: Sloth's 5m ratios
    once a minute, our whole-hour counts once an hour (`last_minute` is a whole hour); returns the
    sample count."""
    step = durations.parse(HISTORY_INTERVAL) // 1000
    samples = 0
    with path.open("w") as out:
        for index in range(shape.slos):
            counters = [traffic.counters(index, m) for m in range(first_minute - 65, last_minute)]
            # Events of a unit of traffic in the 5m before each minute from first_minute - 60 on: (errors, all).
            recent = [(now[1] - then[1], sum(now) - sum(then)) for then, now in zip(counters, counters[5:])]
            start = (first_minute - 60) * 60
            ratio = sloth.history(index)[0]
            text = _labels(ratio["labels"])
            out.writelines(f"{ratio['record']}{{{text}}} {errors / events} {(first_minute + i) * 60}\n"
                           for i, (errors, events) in enumerate(recent[60:]))
            samples += len(recent) - 60
            ours_labels = {r["record"]: r["labels"] for g in ours.groups(index) for r in g["rules"] if "record" in r}
            for which, count in ((0, names.errors_count), (1, names.total_count)):
                text = _labels(ours_labels[count(names.LAST_HOUR)])
                # The base rates our rules would have recorded, once a minute.
                rates = {start + i * step: r[which] * traffic.UNITS / 300 for i, r in enumerate(recent)}
                for mark in range(-(-first_minute // 60) * 3600, last_minute * 60 + 1, 3600):
                    out.write(f"{count(names.LAST_HOUR)}{{{text}}} {_whole_hour(rates, mark, step)} {mark}\n")
                    samples += 1
        out.write("# EOF\n")
    return samples


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items()))


def _record_history(server: realprom.Prometheus, rules: list[dict], start: int, end: int, path: Path) -> int:
    """Evaluate each rule over [start, end] once a minute, as `promtool tsdb create-blocks-from rules`
    does (a range query per rule), and write the results as OpenMetrics; returns the sample count."""
    def evaluate(rule: dict) -> str:
        body = server.get("/api/v1/query_range", query=rule["expr"], start=start, end=end, step=HISTORY_INTERVAL)
        lines = []
        for series in body["data"]["result"]:
            text = _labels({**series["metric"], **rule["labels"]})
            records = {rule["record"]: series["values"]}
            if rule["record"].startswith((names.errors_rate(""), names.total_rate(""))):
                records.update(hour_counts(rule["record"], series["values"]))
            lines += [f"{record}{{{text}}} {v} {t}\n" for record, values in records.items() for t, v in values]
        return "".join(lines)
    samples = 0
    with path.open("w") as out, ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        for text in pool.map(evaluate, rules):
            out.write(text)
            samples += text.count("\n")
        out.write("# EOF\n")
    return samples


def _write_rules(path: Path, groups: list[dict]) -> Path:
    path.write_bytes(serialize.to_yaml({"groups": groups}))
    return path


def _scrape_config(target: str) -> dict:
    return {"global": {"scrape_interval": SCRAPE_INTERVAL},
            "scrape_configs": [{"job_name": traffic.JOB, "honor_labels": True,
                                "static_configs": [{"targets": [target]}]}]}


def _metric(server: realprom.Prometheus, name: str) -> float:
    with urllib.request.urlopen(f"{server.base}/metrics", timeout=30) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return 0.0


def _settle(server: realprom.Prometheus, progress, timeout: float = 300) -> None:
    """Wait until the TSDB has merged the backfilled blocks, so that no compaction runs while we measure."""
    deadline = time.monotonic() + timeout
    while _metric(server, "prometheus_tsdb_compactions_triggered_total") < 1 and time.monotonic() < deadline:
        time.sleep(2)
    last, stable_since = None, time.monotonic()
    while time.monotonic() < deadline:
        blocks = (_metric(server, "prometheus_tsdb_blocks_loaded"),
                  _metric(server, "prometheus_tsdb_compactions_total"),
                  _metric(server, "prometheus_tsdb_vertical_compactions_total"))
        if blocks != last:
            last, stable_since = blocks, time.monotonic()
        elif time.monotonic() - stable_since > 10:
            progress(f"  TSDB settled: {int(blocks[0])} blocks after {int(blocks[1])} compactions")
            return
        time.sleep(2)


def _group_times(server: realprom.Prometheus, owner: dict[str, str], interval: float, rounds: int,
                 progress) -> dict[str, float]:
    """The summed evaluation time of one round of each rule set's groups (`owner`: group name -> set),
    the mean of `rounds` evaluations of every group after one to warm up."""
    seen: dict[str, dict[str, float]] = {}
    deadline = time.monotonic() + interval * (rounds + 4) + 120
    while time.monotonic() < deadline:
        groups = server.get("/api/v1/rules")["data"]["groups"]
        for group in groups:
            if not group["lastEvaluation"].startswith("0001"):  # Go's zero time: not evaluated yet
                seen.setdefault(group["name"], {})[group["lastEvaluation"]] = group["evaluationTime"]
        if groups and min(len(seen.get(g["name"], {})) for g in groups) >= rounds + 1:
            break
        time.sleep(interval / 2)
    else:
        raise RuntimeError(f"the rule groups did not evaluate {rounds + 1} times in time")
    for group in groups:
        for rule in group["rules"]:
            if rule["health"] != "ok":
                raise RuntimeError(f"{group['name']}: {rule.get('lastError')}")
    summed = dict.fromkeys(owner.values(), 0.0)
    for name, times in seen.items():
        ordered = [t for _, t in sorted(times.items())][1:]  # the first evaluation warms caches
        summed[owner[name]] += sum(ordered) / len(ordered)
    progress("  summed group evaluation time per round: "
             + ", ".join(f"{name} {seconds:.3f}s" for name, seconds in summed.items()))
    return summed


def _query_costs(server: realprom.Prometheus, sets: tuple[RuleSet, ...], indices: range, at: int,
                 results: dict[str, Run]) -> None:
    """Every rule expression of the SLOs `indices` as an instant query at `at` with `stats=all`: the
    median engine time of QUERY_REPEATS runs, the two sets alternating, and the samples read; per SLO."""
    rules = {s.name: _classified([r for i in indices for g in s.groups(i) for r in g["rules"]]) for s in sets}
    times = {name: [[] for _ in exprs] for name, exprs in rules.items()}
    samples = {name: [0] * len(exprs) for name, exprs in rules.items()}
    for _ in range(QUERY_REPEATS):
        for name, exprs in rules.items():
            for n, (_, expr, _) in enumerate(exprs):
                stats = server.get("/api/v1/query", query=expr, time=at, stats="all")["data"]["stats"]
                times[name][n].append(stats["timings"]["evalTotalTime"])
                samples[name][n] = stats["samples"]["totalQueryableSamples"]
    for name, exprs in rules.items():
        run, by_rule = results[name], {}
        run.by_part = dict.fromkeys(PARTS, 0.0)
        for n, (key, _, part) in enumerate(exprs):
            seconds, read = by_rule.get(key, (0.0, 0.0))
            median = statistics.median(times[name][n]) / len(indices)
            by_rule[key] = (seconds + median, read + samples[name][n] / len(indices))
            run.by_part[part] += median
        run.by_rule = by_rule
        run.query_seconds = sum(t for t, _ in by_rule.values())
        run.samples_per_slo = sum(s for _, s in by_rule.values())
        run.rules_per_slo = len(exprs) / len(indices)


def _series(server: realprom.Prometheus, by: str) -> float:
    result = server.query(f'count by ({by}) ({{__name__=~"slo:.+|slo_info|sloth_slo_info", {by.split(",")[0]}!=""}})')
    return sum(float(r["value"][1]) for r in result) / max(len(result), 1)


def _accuracy(server: realprom.Prometheus, rule_set: RuleSet, indices: range, end: int, run: Run) -> None:
    """Largest relative error of each window's rule against the exact ratio of the traffic model.

    Evaluated over the recorded history (once a minute, as a deployed ruler writes it) every 10
    minutes of its last two hours, so every phase of the hourly traffic swings is seen.
    """
    for window in ACCURACY_WINDOWS:
        seconds = durations.parse(window) // 1000
        worst: dict[str, float] = {}
        for i in indices:
            expr = next(r["expr"] for g in rule_set.groups(i) for r in g["rules"]
                        if r.get("record") == names.error_ratio(window))
            for at in range(end - ACCURACY_SPAN, end + 1, ACCURACY_STEP):
                value = server.query(expr, time=at)
                exact = traffic.exact_ratio(i, (at - seconds) // 60, at // 60)
                error = abs(float(value[0]["value"][1]) / exact - 1)
                kind = "steady" if i % 2 == 0 else "uneven"
                worst[kind] = max(worst.get(kind, 0.0), error)
        run.errors[window] = worst


def run(work: Path, shape: traffic.Shape, days: int, interval: int, rounds: int, promtool: str, progress,
        shared: Path, history_days: int | None = None) -> tuple[Run, Run]:
    """(ours, Sloth's) measured side by side on the same backfilled data; with `history_days` beyond
    `days`, the recorded history both rule sets read goes that far back, as after that long running."""
    spec, golden_rules = golden.read(shared)
    golden.write_specs(spec, [traffic.job(i) for i in range(shape.slos)], work / "slos")
    plan = pipeline.build_plan(work / "slos", work / "no-settings.yaml")
    end_minute = int(time.time() // 60)
    first_minute = end_minute - days * 1440
    data = work / "data"
    progress(f"  writing {days}d of {shape.slos * shape.series:,} raw series, one sample a minute")
    samples = traffic.write_openmetrics(shape, first_minute, end_minute, work / "raw.om")
    progress(f"  backfilling {samples:,} samples (promtool tsdb create-blocks-from openmetrics)")
    _backfill(promtool, work / "raw.om", data, days)
    # The history ends with the raw data: a ruler writes no sample before the data it reads.
    history_end = end_minute * 60
    # Once the raw data has a base window; from the next whole hour on where older history precedes
    # it, so that our hourly counts follow the older ones without a gap.
    older = bool(history_days and history_days > days)
    recorded_from = -(-(first_minute + 5) // 60) * 60 if older else first_minute + 5
    history = rule_sets(plan, golden_rules, HISTORY_INTERVAL)
    with realprom.running(work, [], data) as server:
        progress("  recording the 5m history both rule sets read, from the raw series")
        rules = [r for i in range(shape.slos) for s in history for r in s.history(i)]
        samples = _record_history(server, rules, recorded_from * 60, history_end, work / "history.om")
    progress(f"  backfilling {samples:,} recorded samples")
    _backfill(promtool, work / "history.om", data, days)
    if older:
        progress(f"  writing {history_days - days}d of older recorded history from the traffic model")
        samples = _older_history(shape, *history, end_minute - history_days * 1440, recorded_from, work / "older.om")
        progress(f"  backfilling {samples:,} older recorded samples")
        _backfill(promtool, work / "older.om", data, history_days - days)
    sets = rule_sets(plan, golden_rules, durations.to_text(interval * 1000))
    results = {s.name: Run(s.name) for s in sets}
    owner = {g["name"]: s.name for s in sets for i in range(shape.slos) for g in s.groups(i)}
    files = [_write_rules(work / f"{s.name}.rules.yml", [g for i in range(shape.slos) for g in s.groups(i)])
             for s in sets]
    sample = range(min(SAMPLED_SLOS, shape.slos))
    progress(f"  Prometheus with both rule sets ({len(owner)} groups every {interval}s), side by side")
    with traffic.Exporter(shape, time.time) as exporter, \
            realprom.running(work, files, data, _scrape_config(exporter.target)) as server:
        _settle(server, progress)
        for name, seconds in _group_times(server, owner, interval, rounds, progress).items():
            results[name].eval_seconds = seconds
        progress(f"  instant queries of every rule of {len(sample)} SLOs, {QUERY_REPEATS} times each")
        _query_costs(server, sets, sample, int(time.time()), results)
        progress("  accuracy of each window over the recorded history")
        for s in sets:
            _accuracy(server, s, sample, history_end, results[s.name])
            results[s.name].series_per_slo = _series(server, s.identity)
    return results["ours"], results["sloth"]


def _backfill(promtool: str, source: Path, data: Path, days: int) -> None:
    # Blocks as long as the data: promtool reads its input once per block.
    subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet",
                    f"--max-block-duration={days * 24 + 24}h", str(source), str(data)], check=True)
    source.unlink()


def report(ours: Run, sloth: Run) -> list[str]:
    lines = [f"  {'':36} {'ours':>12} {'Sloth':>12} {'ratio':>8}"]
    for label, a, b in (("rules / SLO", ours.rules_per_slo, sloth.rules_per_slo),
                        ("engine query time ms / SLO / round", 1000 * ours.query_seconds, 1000 * sloth.query_seconds),
                        ("group evaluation s / round, all SLOs", ours.eval_seconds, sloth.eval_seconds),
                        ("samples read / SLO / round", ours.samples_per_slo, sloth.samples_per_slo),
                        ("series / SLO", ours.series_per_slo, sloth.series_per_slo)):
        lines.append(f"  {label:36} {a:12.4g} {b:12.4g} {a / b if b else float('nan'):8.3f}")
    for run in (ours, sloth):
        lines.append(f"  engine ms / SLO of {run.name} by part: "
                     + ", ".join(f"{part} {1000 * run.by_part.get(part, 0.0):.2f}" for part in PARTS))
    kept = sum(ours.by_part.get(part, 0.0) for part in (RAW, CONTRACT, ALERTS))
    if sloth.query_seconds:
        lines.append(f"  ours without {DERIVED}: {kept / sloth.query_seconds:.3f} of Sloth's engine time; "
                     f"{DERIVED} take {ours.by_part.get(DERIVED, 0.0) / sloth.query_seconds:.3f}")
    for run in (ours, sloth):
        costliest = sorted(run.by_rule.items(), key=lambda item: -item[1][0])[:8]
        lines.append(f"  costliest rules of {run.name} per SLO (engine ms, samples): "
                     + ", ".join(f"{key} {1000 * t:.2f} {s:.0f}" for key, (t, s) in costliest))
    lines.append("  largest error of a recorded window against the exact ratio (steady / uneven traffic):")
    for window in ACCURACY_WINDOWS:
        o, s = ours.errors.get(window, {}), sloth.errors.get(window, {})
        lines.append(f"    {window:>4} bound {BOUNDS[window]:>4.0%}: ours {o.get('steady', 0):.2%} / "
                     f"{o.get('uneven', 0):.2%}   Sloth {s.get('steady', 0):.2%} / {s.get('uneven', 0):.2%}")
    return lines
