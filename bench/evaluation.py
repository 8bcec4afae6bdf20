"""Rule evaluation in a real Prometheus: our rules against Sloth-style rules on the same data.

Days of raw counters are backfilled (`promtool tsdb create-blocks-from openmetrics`), and a local
exporter continues them up to now. The recorded history both rule sets read (our 5m error and
total rates, Sloth's 5m ratios) is computed by Prometheus from that data, one range query per rule
as `promtool tsdb create-blocks-from rules` does, and backfilled too. A Prometheus without rules
then merges the blocks, gives the CPU it spends scraping, and reads both rule sets where the
history ends (samples read, accuracy against exact ratios from the raw series). Finally Prometheus
runs once with our rules and once with the Sloth-style ones, for their evaluation time, CPU and
series.
"""

import json
import os
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from compiler import durations, names, pipeline, serialize
from compiler.plan import Plan, SLOPlan
from compiler.targets import prometheus
from harness import prometheus as realprom

from . import sloth_style, traffic

HISTORY_INTERVAL = "1m"  # the default rule_interval: the resolution of the recorded history
ACCURACY_WINDOWS = ("1h", "6h", "1d", "3d", "30d")
BOUNDS = {"1h": 0.10, "6h": 0.05, "1d": 0.02, "3d": 0.02, "30d": 0.02}  # the alert accuracy bounds
SCRAPE_INTERVAL = "15s"
SAMPLED_SLOS = 10  # query statistics and accuracy are read for this many SLOs (half of them uneven)
ACCURACY_SPAN, ACCURACY_STEP = 2 * 3600, 600


@dataclass
class Run:
    """What one Prometheus run measured."""

    name: str
    groups: int = 0
    eval_seconds: float = 0.0  # summed group evaluation time of one round (mean over rounds)
    cpu_per_round: float = 0.0  # Prometheus' CPU seconds per round, less what it spends without rules
    samples_per_slo: float = 0.0  # samples read by one SLO's rules in one round
    series_per_slo: float = 0.0
    errors: dict[str, dict[str, float]] = field(default_factory=dict)  # window -> traffic -> max rel. error
    costliest: list[tuple[float, str]] = field(default_factory=list)  # (seconds per round, rule), top 5


def spec_files(shape: traffic.Shape, folder: Path, per_service: int = 10) -> None:
    """Ratio SLOs over 30d on the synthetic counters, `per_service` to a service file."""
    folder.mkdir(parents=True, exist_ok=True)
    for first in range(0, shape.slos, per_service):
        slos = [{"name": shape.slo_name(i), "objective": 99.9,
                 "sli": {"ratio": {"errors": shape.errors(i), "total": shape.total(i)}}}
                for i in range(first, min(first + per_service, shape.slos))]
        service = {"service": f"svc{first // per_service:03d}", "slos": slos}
        (folder / f"{service['service']}.yaml").write_bytes(serialize.to_yaml(service))


def _index(slo: SLOPlan) -> int:
    return int(slo.name.removeprefix("s"))


def _history_rules(plan: Plan) -> list[dict]:
    """The recording rules whose history the long windows read: our 5m rates, Sloth's 5m ratio."""
    out = []
    for service in plan.services:
        for slo in service.slos:
            keep = {names.errors_rate(slo.base_text), names.total_rate(slo.base_text)}
            out += [r for r in prometheus.group(slo, HISTORY_INTERVAL)["rules"] if r.get("record") in keep]
            out.append(sloth_style.groups(slo, HISTORY_INTERVAL)[0]["rules"][0])
    return out


def _whole_hour(rates: dict[int, float], mark: int, step: int) -> float | None:
    """What our rules record at the first evaluation of an hour (`mark`, Unix seconds): the recorded
    rates of the hour before times the interval; None without any."""
    hour = [rates[t] for t in range(mark - 3600, mark, step) if t in rates]
    return step * sum(hour) if hour else None


def _hour_counts(rate: str, values: list) -> dict[str, list[tuple[float, float]]]:
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


def _older_history(shape: traffic.Shape, plan: Plan, first_minute: int, last_minute: int, path: Path) -> int:
    """What both rule sets read from before the raw data, from the traffic model: Sloth's 5m ratios
    once a minute, our whole-hour counts once an hour (`last_minute` is a whole hour); returns the
    sample count."""
    step = durations.parse(HISTORY_INTERVAL) // 1000
    samples = 0
    with path.open("w") as out:
        for slo in (slo for service in plan.services for slo in service.slos):
            index = _index(slo)
            counters = [traffic.counters(index, m) for m in range(first_minute - 65, last_minute)]
            # Events of the 5m before each minute from first_minute - 60 on: (errors, all).
            recent = [(now[1] - then[1], sum(now) - sum(then)) for then, now in zip(counters, counters[5:])]
            start = (first_minute - 60) * 60
            sloth = sloth_style.groups(slo, HISTORY_INTERVAL)[0]["rules"][0]
            text = _labels(sloth["labels"])
            out.writelines(f"{sloth['record']}{{{text}}} {errors / events} {(first_minute + i) * 60}\n"
                           for i, (errors, events) in enumerate(recent[60:]))
            samples += len(recent) - 60
            ours = {r["record"]: r["labels"] for r in prometheus.group(slo, HISTORY_INTERVAL)["rules"] if "record" in r}
            for which, count in ((0, names.errors_count), (1, names.total_count)):
                text = _labels(ours[count(names.LAST_HOUR)])
                # The base rates our rules would have recorded, once a minute.
                rates = {start + i * step: r[which] * shape.instances / 300 for i, r in enumerate(recent)}
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
                records.update(_hour_counts(rule["record"], series["values"]))
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


def _measure(server: realprom.Prometheus, interval: float, rounds: int, baseline: float, run: Run,
             progress) -> None:
    """Group evaluation times over `rounds` evaluations of every group, after one to warm up, and
    Prometheus' CPU per round above `baseline` (what scraping and these polls cost without rules)."""
    seen: dict[str, dict[str, float]] = {}
    cpu_start = cpu_end = None
    start = end = 0.0
    deadline = time.monotonic() + interval * (rounds + 4) + 120
    while time.monotonic() < deadline:
        groups = server.get("/api/v1/rules")["data"]["groups"]
        for group in groups:
            if group["lastEvaluation"].startswith("0001"):
                continue
            seen.setdefault(group["name"], {})[group["lastEvaluation"]] = group["evaluationTime"]
        counts = [len(seen.get(g["name"], {})) for g in groups]
        if cpu_start is None and counts and min(counts) >= 1:
            cpu_start, start = _metric(server, "process_cpu_seconds_total"), time.monotonic()
        if counts and min(counts) >= rounds + 1:
            cpu_end, end = _metric(server, "process_cpu_seconds_total"), time.monotonic()
            break
        time.sleep(interval / 2)
    else:
        raise RuntimeError(f"{run.name}: rule groups did not evaluate {rounds + 1} times in time")
    by_rule: dict[str, float] = {}
    for group in groups:
        for rule in group["rules"]:
            if rule["health"] != "ok":
                raise RuntimeError(f"{run.name}: {group['name']}: {rule.get('lastError')}")
            window = rule["labels"].get(names.WINDOW) or rule["labels"].get(sloth_style.WINDOW) \
                or rule["labels"].get(names.LONG_WINDOW, "")
            key = f"{rule['name'] if rule['type'] == 'recording' else 'alert'} {window}".strip()
            by_rule[key] = by_rule.get(key, 0.0) + rule["evaluationTime"]
    run.costliest = sorted(((t, k) for k, t in by_rule.items()), reverse=True)[:5]
    means = []
    for times in seen.values():
        ordered = [t for _, t in sorted(times.items())][1:]  # the first evaluation warms caches
        means.append(sum(ordered) / len(ordered))
    run.groups = len(seen)
    run.eval_seconds = sum(means)
    run.cpu_per_round = (cpu_end - cpu_start) / ((end - start) / interval) - baseline
    progress(f"  {run.name}: {run.groups} groups, {run.eval_seconds:.3f}s of evaluation per round, "
             f"{run.cpu_per_round:.3f} CPU s per round")


def _baseline(server: realprom.Prometheus, interval: float, rounds: int, progress) -> float:
    """Prometheus' CPU per round without rules, polled as `_measure` polls."""
    cpu, start = _metric(server, "process_cpu_seconds_total"), time.monotonic()
    while time.monotonic() - start < interval * rounds:
        server.get("/api/v1/rules")
        time.sleep(interval / 2)
    per_round = (_metric(server, "process_cpu_seconds_total") - cpu) / ((time.monotonic() - start) / interval)
    progress(f"  without rules (scraping only): {per_round:.3f} CPU s per round")
    return per_round


def _samples(server: realprom.Prometheus, groups: list[dict], at: int, slos: int) -> float:
    """Samples read by every rule of `groups` in one evaluation at `at`, per SLO (query statistics)."""
    total = 0
    for group in groups:
        for rule in group["rules"]:
            body = server.get("/api/v1/query", query=rule["expr"], time=at, stats="all")
            total += body["data"]["stats"]["samples"]["totalQueryableSamples"]
    return total / slos


def _series(server: realprom.Prometheus, by: str) -> float:
    result = server.query(f'count by ({by}) ({{__name__=~"slo:.+|slo_info|sloth_slo_info", {by.split(",")[0]}!=""}})')
    return sum(float(r["value"][1]) for r in result) / max(len(result), 1)


def _window_expr(groups: list[dict], window: str) -> str:
    return next(r["expr"] for g in groups for r in g["rules"] if r.get("record") == names.error_ratio(window))


def _accuracy(server: realprom.Prometheus, slos: list[SLOPlan], groups, raw_from: int, end: int, run: Run) -> None:
    """Largest relative error of each window's rule against the exact ratio from the raw series (from
    the traffic model for a window that starts before `raw_from`).

    Evaluated over the recorded history (once a minute, as a deployed ruler writes it) every 10
    minutes of its last two hours, so every phase of the hourly traffic swings is seen.
    """
    for window in ACCURACY_WINDOWS:
        seconds = durations.parse(window) // 1000
        worst: dict[str, float] = {}
        for slo in slos:
            ratio = slo.sli.ratio
            exact_expr = f"sum(rate({ratio.errors}[{window}])) / sum(rate({ratio.total}[{window}]))"
            for at in range(end - ACCURACY_SPAN, end + 1, ACCURACY_STEP):
                value = server.query(_window_expr(groups(slo), window), time=at)
                if at - seconds < raw_from:
                    # Longer than the raw data: the traffic model gives the exact ratio.
                    exact = traffic.exact_ratio(_index(slo), (at - seconds) // 60, at // 60)
                else:
                    exact = float(server.query(exact_expr, time=at)[0]["value"][1])
                error = abs(float(value[0]["value"][1]) / exact - 1)
                kind = "steady" if _index(slo) % 2 == 0 else "uneven"
                worst[kind] = max(worst.get(kind, 0.0), error)
        run.errors[window] = worst


def run(work: Path, shape: traffic.Shape, days: int, interval: int, rounds: int, promtool: str,
        progress, history_days: int | None = None) -> tuple[Run, Run]:
    """(ours, sloth-style) measured on the same backfilled data; with `history_days` beyond `days`,
    the recorded history both rule sets read goes that far back, as after that long running."""
    spec_files(shape, work / "slos")
    plan = pipeline.build_plan(work / "slos", work / "no-settings.yaml")
    slos = [slo for s in plan.services for slo in s.slos]
    end_minute = int(time.time() // 60)
    first_minute = end_minute - days * 1440
    data = work / "data"
    progress(f"  writing {days}d of {shape.slos * shape.instances * 2:,} raw series, one sample a minute")
    samples = traffic.write_openmetrics(shape, first_minute, end_minute, work / "raw.om")
    progress(f"  backfilling {samples:,} samples (promtool tsdb create-blocks-from openmetrics)")
    _backfill(promtool, work / "raw.om", data, days)
    # The history ends with the raw data: a ruler writes no sample before the data it reads.
    history_end = end_minute * 60
    # Once the raw data has a base window; from the next whole hour on where older history precedes
    # it, so that our hourly counts follow the older ones without a gap.
    older = bool(history_days and history_days > days)
    recorded_from = -(-(first_minute + 5) // 60) * 60 if older else first_minute + 5
    with realprom.running(work, [], data) as server:
        progress("  recording the 5m rate history both rule sets read, from the raw series")
        samples = _record_history(server, _history_rules(plan), recorded_from * 60, history_end,
                                  work / "history.om")
    progress(f"  backfilling {samples:,} recorded samples")
    _backfill(promtool, work / "history.om", data, days)
    if older:
        first_recorded = end_minute - history_days * 1440
        progress(f"  writing {history_days - days}d of older recorded history from the traffic model")
        samples = _older_history(shape, plan, first_recorded, recorded_from, work / "older.om")
        progress(f"  backfilling {samples:,} older recorded samples")
        _backfill(promtool, work / "older.om", data, history_days - days)
    interval_text = durations.to_text(interval * 1000)
    rule_sets = {"ours": lambda slo: [prometheus.group(slo, interval_text)],
                 "sloth-style": lambda slo: sloth_style.groups(slo, interval_text)}
    results = {name: Run(name) for name in rule_sets}
    sample = slos[:SAMPLED_SLOS]
    with traffic.Exporter(shape, time.time) as exporter:
        config = _scrape_config(exporter.target)
        progress("  Prometheus without rules: merging the backfilled blocks, then reading both rule sets")
        with realprom.running(work, [], data, config) as server:
            _settle(server, progress)
            baseline = _baseline(server, interval, rounds, progress)
            # Read where the history ends, as a ruler running for days would read it.
            for name, groups in rule_sets.items():
                rules = [g for slo in sample for g in groups(slo)]
                results[name].samples_per_slo = _samples(server, rules, history_end, len(sample))
                _accuracy(server, sample, groups, first_minute * 60, history_end, results[name])
        for (name, groups), by in zip(rule_sets.items(), ("slo_service, slo_name", "sloth_id")):
            every = [g for slo in slos for g in groups(slo)]
            rules = _write_rules(work / f"{name}.rules.yml", every)
            progress(f"  Prometheus with {name} rules: {len(every)} groups every {interval_text}")
            with realprom.running(work, [rules], data, config) as server:
                _measure(server, interval, rounds, baseline, results[name], progress)
                results[name].series_per_slo = _series(server, by)
    return results["ours"], results["sloth-style"]


def _backfill(promtool: str, source: Path, data: Path, days: int) -> None:
    # Blocks as long as the data: promtool reads its input once per block.
    subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet",
                    f"--max-block-duration={days * 24 + 24}h", str(source), str(data)], check=True)
    source.unlink()


def report(ours: Run, sloth: Run) -> list[str]:
    lines = [f"  {'':28} {'ours':>12} {'sloth-style':>12} {'ratio':>8}"]
    for label, a, b in (("group evaluation s / round", ours.eval_seconds, sloth.eval_seconds),
                        ("Prometheus CPU s / round", ours.cpu_per_round, sloth.cpu_per_round),
                        ("samples read / SLO / round", ours.samples_per_slo, sloth.samples_per_slo),
                        ("series / SLO", ours.series_per_slo, sloth.series_per_slo)):
        lines.append(f"  {label:28} {a:12.4g} {b:12.4g} {a / b if b else float('nan'):8.3f}")
    for run in (ours, sloth):
        lines.append(f"  costliest rules of {run.name} (s per round, all SLOs): "
                     + ", ".join(f"{k} {t:.3f}" for t, k in run.costliest))
    lines.append("  largest error of a recorded window against the exact ratio (steady / uneven traffic):")
    for window in ACCURACY_WINDOWS:
        o, s = ours.errors.get(window, {}), sloth.errors.get(window, {})
        lines.append(f"    {window:>4} bound {BOUNDS[window]:>4.0%}: ours {o.get('steady', 0):.2%} / "
                     f"{o.get('uneven', 0):.2%}   sloth-style {s.get('steady', 0):.2%} / {s.get('uneven', 0):.2%}")
    return lines
