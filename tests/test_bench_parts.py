"""The parts the benchmark relies on: the fast window rounding, the copies of Sloth's own rules and
the synthetic counters. The benchmark itself (`make bench`) prints figures and is not a test."""

import re
import subprocess
from decimal import Decimal

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from bench import corpus, evaluation, golden, traffic
from compiler import durations, names, pipeline, plan, promql
from compiler.plan import budget
from compiler.targets import prometheus
from conftest import shared, write_spec


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=30_000, max_value=800 * durations.UNITS["d"]))
def test_readable_picks_the_nearest_candidate_by_ratio(ms):
    expected = min(budget._READABLE, key=lambda c: max(c / Decimal(ms), Decimal(ms) / c))
    assert plan.readable(Decimal(ms)) == expected


def _plan(tmp_path, services: int = 3):
    corpus.write(tmp_path / "slos", services, 4)
    return pipeline.build_plan(tmp_path / "slos", tmp_path / "none")


def _golden() -> str:
    return golden.read(shared())[1]


def test_a_rename_that_is_not_one_to_one_is_refused():
    text = _golden()
    # "availability" is already in the rules: renaming to it could not be told apart, nor undone.
    for name in ("availability", "sloth", "my"):
        with pytest.raises(golden.Unfaithful):
            golden.rename(text, name)
    copy = golden.rename(text, "svc0001")
    assert "myservice" not in copy and copy.count("svc0001") == text.count("myservice") > 30


def test_a_copy_of_sloths_rules_evaluates_as_the_original(tmp_path, promtool):
    # Sloth's own rules and a renamed copy, each over the same traffic on its own job: every record
    # of the copy equals the original's, and the same alerts fire, none before the errors rise.
    text, copy = _golden(), "svc0001"
    original = yaml.safe_load(text)["groups"]
    groups = original + golden.groups(text, copy, "1m")
    rules = write_spec(tmp_path, "golden.rules.yml", yaml.safe_dump({"groups": groups}))
    series = [{"series": f'http_request_duration_seconds_count{{job="{job}",code="{code}"}}', "values": values}
              for job in ("myservice", copy)
              for code, values in (("200", "0+2000x240"), ("500", "0+1x120 121+60x120"))]
    records = sorted({r["record"] for g in original for r in g["rules"] if "record" in r})
    assert len(records) == 15
    equal = [{"expr": f'{r}{{sloth_service="{copy}"}} - on () {r}{{sloth_service="myservice"}}',
              "eval_time": at, "exp_samples": [{"labels": "{}", "value": 0}]}
             for r in records for at in ("1h", "3h", "4h")]
    firing = [{"expr": f'group by (alertstate, sloth_severity) (ALERTS{{sloth_service="{job}"}})',
               "eval_time": at, "exp_samples": [] if at == "1h" else [
                   {"labels": f'{{alertstate="firing", sloth_severity="{tier}"}}', "value": 1}
                   for tier in ("page", "ticket")]}
              for job in ("myservice", copy) for at in ("1h", "4h")]
    test = write_spec(tmp_path, "golden.test.yml", yaml.safe_dump({
        "rule_files": [str(rules)], "evaluation_interval": "1m",
        # Sloth's meta group reads what its SLI group recorded: both copies in the same order.
        "group_eval_order": [g["name"] for n in (0, 1, 2) for g in groups[n::3]],
        "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": equal + firing}]}))
    result = subprocess.run([promtool, "test", "rules", str(test)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_benchmark_compiles_the_sloth_spec_of_the_golden_rules(tmp_path):
    spec, text = golden.read(shared())
    golden.write_specs(spec, ["svc0000", "svc0001"], tmp_path / "slos")
    plan = pipeline.build_plan(tmp_path / "slos", tmp_path / "none")
    ours, sloth = evaluation.rule_sets(plan, text, "1m")
    for i in (0, 1):
        # Both rule sets of a copy read the same raw series, those the copy's traffic writes.
        selectors = {e for s in (ours, sloth) for g in s.groups(i) for r in g["rules"]
                     for e in re.findall(r"http_request_duration_seconds_count\{[^}]*\}", r["expr"])}
        assert selectors == {f'http_request_duration_seconds_count{{job="svc000{i}",code=~"(5..|429)"}}',
                             f'http_request_duration_seconds_count{{job="svc000{i}"}}'}
        assert all(f'job="svc000{i}"' in labels for labels, _, _ in traffic._series(traffic.Shape(2, 5), i))


def test_engine_time_by_part_sorts_each_rule_by_what_it_reads_and_is_for(tmp_path):
    spec, text = golden.read(shared())
    golden.write_specs(spec, ["svc0000"], tmp_path / "slos")
    plan = pipeline.build_plan(tmp_path / "slos", tmp_path / "none")
    parts = {}
    for rule_set in evaluation.rule_sets(plan, text, "1m"):
        rules = [r for g in rule_set.groups(0) for r in g["rules"]]
        recorded = {r["record"] for r in rules if "record" in r}
        for rule in rules:
            key = (rule_set.name, rule.get("record", "alert"), rule.get("labels", {}).get(names.WINDOW, ""))
            parts.setdefault(evaluation._part(rule, recorded), set()).add(key)
    ratio = "slo:sli_error:ratio_rate"
    assert parts[evaluation.RAW] == {("ours", "slo:sli_total:rate5m", ""), ("ours", "slo:sli_errors:rate5m", ""),
                                     ("ours", ratio + "1h", "1h")} | {
        ("sloth", ratio + w, "") for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d")}
    assert {r for s, r, _ in parts[evaluation.CONTRACT] if s == "ours"} == {
        "slo:objective:ratio", "slo:error_budget:ratio", "slo:current_burn_rate:ratio", "slo:period_burn_rate:ratio",
        "slo:period_error_budget_remaining:ratio", "slo_info"}
    assert {(s, r) for s, r, _ in parts[evaluation.ALERTS]} == {("ours", "alert"), ("sloth", "alert")}
    assert {w for s, _, w in parts[evaluation.DERIVED] if s == "ours"} >= {"5m", "30m", "2h", "6h", "1d", "3d", "30d"}
    assert {r for s, r, _ in parts[evaluation.DERIVED] if s == "sloth"} == {ratio + "30d"}


def test_replayed_hour_counts_are_what_the_rules_record(tmp_path, promtool):
    # The benchmark's history replays the hourly counts the rules would have recorded from a base
    # rate; promtool evaluates the rules themselves on the same rate, with a gap of two evaluations.
    slo = _plan(tmp_path).services[0].slos[0]
    rate = names.total_rate(slo.base_text)
    # Rates missing for two evaluations, then for eleven across a whole hour.
    values = [(60 * m, 1 + m % 7) for m in range(0, 200) if m not in (70, 71, *range(115, 126))]
    rules = write_spec(tmp_path, "counts.rules.yml", yaml.safe_dump({"groups": [{"name": "counts", "rules": [
        {k: v for k, v in r.items() if k != "labels"} for r in prometheus._hour_counts(slo, rate, names.total_count, {}, 0)]}]}))
    series = str(promql.Selector("", (promql.Matcher("__name__", "=", rate), *prometheus.selector(slo).matchers)))
    # A recorded rate that stops is marked stale, so the rules do not read it past the gap.
    steps = " ".join(str(dict(values).get(60 * m, "stale")) for m in range(0, 200))
    replayed = evaluation.hour_counts(rate, values)
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


def test_an_slos_traffic_is_the_same_whatever_its_number_of_series():
    for count in (5, 20, 50):
        shape = traffic.Shape(1, count)
        lines = traffic.exposition(shape, 600).decode().splitlines()[1:]
        assert len(lines) == count
        good, bad = (sum(float(line.split()[-1]) for line in lines if f'code="{code}"' in line) for code in ("200", "500"))
        expected = traffic.counters(0, 600)
        assert (round(good), round(bad)) == (round(expected[0] * traffic.UNITS), round(expected[1] * traffic.UNITS))
