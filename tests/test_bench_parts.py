"""The parts the benchmark relies on: the fast window rounding, the Sloth-style baseline and the
synthetic counters. The benchmark itself (`make bench`) prints figures and is not a test."""

import subprocess
from decimal import Decimal

import yaml
from hypothesis import given, settings, strategies as st

from bench import corpus, evaluation, sloth_style, traffic
from compiler import durations, names, pipeline, plan, promql
from compiler.plan import budget
from compiler.targets import prometheus
from conftest import write_spec


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=30_000, max_value=800 * durations.UNITS["d"]))
def test_readable_picks_the_nearest_candidate_by_ratio(ms):
    expected = min(budget._READABLE, key=lambda c: max(c / Decimal(ms), Decimal(ms) / c))
    assert plan.readable(Decimal(ms)) == expected


def _plan(tmp_path, services: int = 3):
    corpus.write(tmp_path / "slos", services, 4)
    return pipeline.build_plan(tmp_path / "slos", tmp_path / "none")


def test_sloth_style_rules_have_sloths_shape_and_pass_promtool(tmp_path, promtool):
    the_plan = _plan(tmp_path)
    slo = the_plan.services[0].slos[0]
    groups = sloth_style.groups(slo, "1m")
    assert [g["name"].split("-" + slo.service)[0] for g in groups] == \
        ["sloth-slo-sli-recordings", "sloth-slo-meta-recordings", "sloth-slo-alerts"]
    windows = {r["labels"]["sloth_window"]: r["expr"] for r in groups[0]["rules"]}
    assert sorted(windows, key=durations.parse) == [durations.to_text(w) for w in slo.windows]
    # Every window but the period reads the raw series over the whole window (Sloth's cost).
    assert all(f"[{w}]" in expr and "slo:" not in expr for w, expr in windows.items() if w != slo.period_text)
    assert windows[slo.period_text].startswith(f"sum_over_time(slo:sli_error:ratio_rate{slo.base_text}{{")
    rules = write_spec(tmp_path, "sloth.rules.yml", yaml.safe_dump(
        {"groups": [g for s in the_plan.services for x in s.slos for g in sloth_style.groups(x, "1m")]}))
    result = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_replayed_hour_counts_are_what_the_rules_record(tmp_path, promtool):
    # The benchmark's history replays the hourly counts the rules would have recorded from a base
    # rate; promtool evaluates the rules themselves on the same rate, with a gap of two evaluations.
    slo = _plan(tmp_path).services[0].slos[0]
    rate = names.total_rate(slo.base_text)
    # Rates missing for two evaluations, then for eleven across a whole hour.
    values = [(60 * m, 1 + m % 7) for m in range(0, 200) if m not in (70, 71, *range(115, 126))]
    rules = write_spec(tmp_path, "counts.rules.yml", yaml.safe_dump({"groups": [{"name": "counts", "rules": [
        {k: v for k, v in r.items() if k != "labels"} for r in prometheus._hour_counts(slo, rate, names.total_count, {})]}]}))
    series = str(promql.Selector("", (promql.Matcher("__name__", "=", rate), *prometheus.selector(slo).matchers)))
    # A recorded rate that stops is marked stale, so the rules do not read it past the gap.
    steps = " ".join(str(dict(values).get(60 * m, "stale")) for m in range(0, 200))
    replayed = evaluation._hour_counts(rate, values)
    checks = [{"expr": record, "eval_time": f"{t // 60}m", "exp_samples": [
                  {"labels": str(prometheus.series(slo, record)), "value": v}]}
              for record, points in replayed.items() for t, v in points if t // 60 in (59, 60, 71, 72, 119, 120, 121, 180)]
    # The running count goes on through a gap within the hour and stops at the hour's end without
    # a rate; the whole hours are recorded once, from the rates.
    assert sorted((r.rsplit("_", 2)[-2], int(c["eval_time"][:-1])) for c in checks for r in [c["expr"]]) == \
        [("last", 60), ("last", 120), ("last", 180), ("this", 59), ("this", 60), ("this", 71), ("this", 72),
         ("this", 119), ("this", 180)]
    test = write_spec(tmp_path, "counts.test.yml", yaml.safe_dump({
        "rule_files": [str(rules)], "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": [{"series": series, "values": steps}],
                   "promql_expr_test": checks}]}))
    result = subprocess.run([promtool, "test", "rules", str(test)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_counters_are_the_running_sum_of_the_hourly_traffic():
    for index in (0, 1):
        good = bad = 0.0
        for minute in range(0, 5 * 60):
            assert traffic.counters(index, minute) == (round(good, 3), round(bad, 3))
            step = traffic._per_minute(index, minute // 60)
            good, bad = good + step[0], bad + step[1]


def test_uneven_traffic_has_busy_hours_at_low_and_quiet_hours_at_high_error_ratios():
    busy, quiet = traffic.exact_ratio(1, 0, 60), traffic.exact_ratio(1, 60, 120)
    assert (round(busy, 6), round(quiet, 6)) == (traffic.BUSY_ERRORS, traffic.QUIET_ERRORS)
    assert abs(traffic.exact_ratio(0, 0, 120) - traffic.STEADY_ERRORS) < 1e-9
