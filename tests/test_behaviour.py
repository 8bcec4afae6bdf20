"""How the generated rules behave, checked by promtool on inputs written here."""

import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from compiler import promql, synthetic
from compiler.targets import promtool_tests
from conftest import write_spec

SPEC = """\
service: shop
owner: team-shop
labels: {team: 'a"b\\c'}
slos:
  - name: availability
    description: 'Shown verbatim: {{ $value }} {{ .Labels }} {% raw %} "quoted" \\ back'
    objective: 99.9
    sli:
      ratio:
        errors: http_requests_total{job="shop", code=~"5..", path!="a\\"b"}
        total: http_requests_total{job="shop"}
        group_by: [route]
"""


@pytest.fixture
def shop(tmp_path, slo) -> Path:
    write_spec(tmp_path / "slos", "shop.yaml", SPEC)
    out = tmp_path / "output"
    result = slo("compile", "--slos", tmp_path / "slos", "--out", out, "--settings", tmp_path / "none")
    assert result.code == 0, result.err
    return out


def promtool_test(promtool: str, out: Path, tests: list[dict]) -> subprocess.CompletedProcess:
    path = out / "prometheus" / "tests" / "extra.test.yml"
    path.write_text(yaml.safe_dump({"rule_files": ["../shop.rules.yml"], "evaluation_interval": "1m",
                                    "tests": tests}))
    return subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True)


def assert_exprs(promtool: str, out: Path, series: list[dict], exprs: list[dict]) -> None:
    """promtool evaluates `exprs` (promql_expr_test cases) over `series` at a 1m interval."""
    result = promtool_test(promtool, out, [{"interval": "1m", "input_series": series, "promql_expr_test": exprs}])
    assert result.returncode == 0, result.stdout + result.stderr


def test_user_text_is_escaped_and_the_generated_tests_prove_it(shop, promtool):
    rules = (shop / "prometheus" / "shop.rules.yml").read_text()
    assert '{{ "{{" }} $value }}' in rules
    files = sorted((shop / "prometheus" / "tests" / "shop").glob("*.tiers.test.yml"))
    result = subprocess.run([promtool, "test", "rules", *map(str, files)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    tests = [t for f in files for t in yaml.safe_load(f.read_text())["tests"]]
    described = [a["exp_annotations"]["description"] for t in tests for c in t["alert_rule_test"]
                 for a in c["exp_alerts"]]
    assert described and all('Shown verbatim: {{ $value }} {{ .Labels }} {% raw %} "quoted" \\ back' in d
                              for d in described)


def test_zero_traffic_gives_no_ratio_rather_than_nan(shop, promtool):
    series = 'http_requests_total{job="shop", route="/pay", code="200"}'
    errors = 'http_requests_total{job="shop", route="/pay", code="500"}'
    # 10 minutes of traffic at 1% errors, then none at all.
    assert_exprs(promtool, shop, [{"series": series, "values": "0+99x10 990+0x30"},
                                  {"series": errors, "values": "0+1x10 10+0x30"}], [
        {"expr": "slo:sli_error:ratio_rate5m", "eval_time": "30m", "exp_samples": []},
        {"expr": "slo:current_burn_rate:ratio", "eval_time": "30m", "exp_samples": []},
        {"expr": "slo:sli_error:ratio_rate5m != slo:sli_error:ratio_rate5m", "eval_time": "8m",
         "exp_samples": []},
        {"expr": "count(slo:sli_error:ratio_rate1h > 0.0099 < 0.0101)", "eval_time": "30m",
         "exp_samples": [{"labels": "{}", "value": 1}]},
    ])


def test_missing_error_counter_counts_as_zero_errors(shop, promtool):
    series = 'http_requests_total{job="shop", route="/pay", code="200"}'
    assert_exprs(promtool, shop, [{"series": series, "values": "0+100x30"}], [
        {"expr": 'slo:sli_error:ratio_rate30d{route="/pay"}', "eval_time": "20m",
         "exp_samples": [{"labels": 'slo:sli_error:ratio_rate30d{route="/pay", slo_name="availability", '
                                    'slo_service="shop", slo_window="30d", team="a\\"b\\\\c"}', "value": 0}]},
        {"expr": 'slo:sli_error:ratio_rate1h{route="/pay"}', "eval_time": "20m",  # read from raw series
         "exp_samples": [{"labels": 'slo:sli_error:ratio_rate1h{route="/pay", slo_name="availability", '
                                    'slo_service="shop", slo_window="1h", team="a\\"b\\\\c"}', "value": 0}]},
        {"expr": "slo:period_error_budget_remaining:ratio", "eval_time": "20m",
         "exp_samples": [{"labels": 'slo:period_error_budget_remaining:ratio{route="/pay", '
                                    'slo_name="availability", slo_service="shop", slo_window="30d", '
                                    'team="a\\"b\\\\c"}', "value": 1}]},
    ])


def test_the_period_outlives_traffic_that_stops(shop, promtool):
    # Route /b serves 100 requests a minute at 1% errors for 90 minutes, then nothing: its period
    # ratio stays, from the whole hour it served and the half hour of the next, kept to the hour's end.
    good, bad = 'http_requests_total{job="shop", route="/b", code="200"}', 'http_requests_total{job="shop", route="/b", code="500"}'
    assert_exprs(promtool, shop, [{"series": good, "values": "0+99x90 _x90"}, {"series": bad, "values": "0+1x90 _x90"}], [
        {"expr": 'count(slo:sli_error:ratio_rate30d{route="/b"} > 0.0099 < 0.0101)', "eval_time": f"{m}m",
         "exp_samples": [{"labels": "{}", "value": 1}]} for m in (100, 119, 121, 170)] + [
        # The hour that ended without traffic is recorded: at least the 30 minutes it served.
        {"expr": 'count(slo:sli_total:count_last_hour{route="/b"} >= 3000)', "eval_time": "120m",
         "exp_samples": [{"labels": "{}", "value": 1}]},
    ])


def test_long_windows_weigh_each_event_equally_not_each_5m_ratio(shop, promtool):
    # A busy hour at 0.1% errors, then a quiet hour at 10%: 1h of 6000 req/min and 1h of 60 req/min.
    # Exact 2h ratio: (0.001 * 360000 + 0.1 * 3600) / (360000 + 3600) = 0.00198; an average of ratios
    # would be about 0.05, 25 times too high.
    good = 'http_requests_total{job="shop", route="/", code="200"}'
    bad = 'http_requests_total{job="shop", route="/", code="500"}'
    assert_exprs(promtool, shop, [{"series": good, "values": "0+5994x60 359640+54x60"},
                                  {"series": bad, "values": "0+6x60 360+6x60"}], [
        {"expr": "count(slo:sli_error:ratio_rate6h > 0.00190 < 0.00206)", "eval_time": "120m",
         "exp_samples": [{"labels": "{}", "value": 1}]},
    ])


def test_a_short_scrape_gap_keeps_the_alert_windows(shop, promtool):
    # An hour at 1% errors, then five missing scrapes: at 65m the 5m rate has one sample and is gone,
    # but the long windows, and the burn rate they alert on, carry on.
    good = 'http_requests_total{job="shop", route="/", code="200"}'
    bad = 'http_requests_total{job="shop", route="/", code="500"}'
    assert_exprs(promtool, shop, [{"series": good, "values": "0+99x60 _x5 6534+99x10"},
                                  {"series": bad, "values": "0+1x60 _x5 66+1x10"}], [
        {"expr": "slo:sli_error:ratio_rate5m", "eval_time": "65m", "exp_samples": []},
        {"expr": "count(slo:sli_error:ratio_rate6h > 0.0099 < 0.0101)", "eval_time": "65m",
         "exp_samples": [{"labels": "{}", "value": 1}]},
        {"expr": "count(slo:sli_error:ratio_rate3d > 0.0099 < 0.0101)", "eval_time": "65m",
         "exp_samples": [{"labels": "{}", "value": 1}]},
    ])


@pytest.mark.parametrize("pattern", ["5..", "2..|3..", "(GET|POST)", "[45]\\d\\d", "a+b*c?", ".*", "x{3}"])
def test_regex_examples_match_their_pattern(pattern):
    import re
    example = synthetic.regex_example(pattern)
    assert example is not None and re.fullmatch(pattern, example)


def test_synthetic_counters_split_one_metric_into_errors_and_the_rest():
    errors = promql.selector('http_requests_total{job="a", code=~"5.."}')
    total = promql.selector('http_requests_total{job="a"}')
    (bad, bad_rate), (good, good_rate) = synthetic.counters(errors, total, ("route",), Decimal("0.01"))
    assert synthetic.matches(errors, bad) and synthetic.matches(total, bad)
    assert synthetic.matches(total, good) and not synthetic.matches(errors, good)
    assert (bad_rate, good_rate) == (Decimal(1), Decimal(99)) and bad["route"] == good["route"]


def test_synthetic_counters_for_two_metrics():
    errors, total = promql.selector("app_errors_total"), promql.selector("app_requests_total")
    (bad, bad_rate), (everything, all_rate) = synthetic.counters(errors, total, (), Decimal("0.5"))
    assert (bad["__name__"], everything["__name__"], bad_rate, all_rate) == \
        ("app_errors_total", "app_requests_total", Decimal(50), Decimal(100))


@pytest.mark.parametrize("value, text", [(15.8, "15.8"), (1000, "1k"), (0.0123, "12.3m"), (0, "0"),
                                         (1234567, "1.235M")])
def test_humanize_matches_prometheus(value, text):
    assert promtool_tests.humanize(value) == text


WEEK_SPEC = """\
service: shop
slos:
  - name: availability
    objective: 99.9
    window: 7d
    sli:
      ratio:
        errors: http_requests_total{job="shop", code="500"}
        total: http_requests_total{job="shop"}
"""


def test_a_long_period_counts_clock_hours_and_only_its_share_of_the_oldest(tmp_path, slo, promtool):
    # 100 requests a minute; half fail for the first two hours, none after. A week and 90 minutes
    # in, the period starts half-way through the second hour: the hourly counts must give the same
    # ratio as a sum of every recorded rate in the week, which reads sixty times more samples.
    write_spec(tmp_path / "slos", "shop.yaml", WEEK_SPEC)
    out = tmp_path / "output"
    assert slo("compile", "--slos", tmp_path / "slos", "--out", out, "--settings", tmp_path / "none").code == 0
    week = 7 * 24 * 60
    # A week's base window is 4m. Read in two halves: promtool refuses a query of over 10,000 samples.
    half = "(sum_over_time({r}[4999m30s]) + sum_over_time({r}[" + f"{week - 5001}m30s] offset 5000m))"
    every_rate = f"{half.format(r='slo:sli_errors:rate4m')} / {half.format(r='slo:sli_total:rate4m')}"

    def same(at: int) -> dict:
        return {"expr": f"count(abs(slo:sli_error:ratio_rate7d / ignoring (slo_window) ({every_rate}) - 1) < 1e-9)",
                "eval_time": f"{at}m", "exp_samples": [{"labels": "{}", "value": 1}]}

    def value(expr: str, at: int, expected: float | None) -> dict:
        samples = [] if expected is None else [{"labels": "{}", "value": expected}]
        return {"expr": f"sum({expr})", "eval_time": f"{at}m", "exp_samples": samples}
    assert_exprs(promtool, out, [
        {"series": 'http_requests_total{job="shop", code="200"}', "values": f"0+50x120 6000+100x{week + 120}"},
        {"series": 'http_requests_total{job="shop", code="500"}', "values": f"0+50x120 6000+0x{week + 120}"}], [
        same(week + 90), same(week + 75),
        # Without the share of the oldest hour the week would count 30 more minutes of failures.
        {"expr": "slo:sli_error:ratio_rate7d > 0.002", "eval_time": f"{week + 90}m", "exp_samples": []},
        value("slo:sli_total:count_this_hour", week + 90, 31 * 100),  # the hour's evaluations so far
        value("slo:sli_total:count_last_hour", week + 120, 60 * 100),  # recorded as the next hour starts
        value("slo:sli_total:count_last_hour", week + 121, None),  # and only then
    ])
