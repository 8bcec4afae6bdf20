"""Calendar period records, evaluated by promtool across a month and a week start in UTC, and a month
and quarter start after a daylight-saving change in Europe/Berlin.

The traffic changes from hour to hour around each boundary; the expected error ratio of the period
is the ratio of the counter increases since the boundary, computed here from the traffic itself.
promtool starts at 1970-01-01 00:00 UTC, so the rules are evaluated hourly (rule_interval 1h) to reach
April in seconds (a leap day, in 1972, would take minutes: tests/test_calendar_boundaries.py shows the
period number changing at every month start of 2024 and 2028 in a real Prometheus). Each evaluation counts the interval before it (see docs/calendar.md): the
period's first evaluation, at its start, takes in the last interval of the period before, so the
increases run from one interval before the boundary.
"""

import calendar
import datetime
import subprocess

import yaml

from conftest import write_spec

SETTINGS = """\
rule_interval: 1h
missing_data_for: 1h
scrape_interval: 15m
tiers:
  - {severity: page, budget_spent: 5, long: 6h, short: 1h}
  - {severity: ticket, budget_spent: 10, long: 3d, short: 6h}
"""
SLO = """\
  - name: {window}
    objective: 99
    window: calendar-{window}
    sli:
      ratio:
        errors: http_requests_total{{job="shop", code="500"}}
        total: http_requests_total{{job="shop"}}
    alerting: {{page: false, ticket: false, missing_data: false}}
"""
STEP = 30 * 60  # seconds between input samples: a 1h rate over them is exact on Prometheus 2 and 3
HOUR = 3600
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _at(*date: int) -> int:
    """Seconds since 1970 of a UTC date and hour."""
    return int((datetime.datetime(*date, tzinfo=datetime.timezone.utc) - EPOCH).total_seconds())


def _traffic(boundaries: list[int], end: int) -> tuple[list[tuple[int, int, int]], callable]:
    """Phases (steps, errors per step, requests per step) that change at every hour from three before to
    three after each boundary, and the counters (errors, requests) at a time."""
    changes = sorted({b + h * HOUR for b in boundaries for h in range(-3, 4) if 0 < b + h * HOUR < end} | {end})
    phases, start = [], 0
    for i, change in enumerate(changes):
        phases.append(((change - start) // STEP, 1 + (7 * i) % 11, 100 + (13 * i) % 50))
        start = change

    def counters(t: int) -> tuple[int, int]:
        errors = requests = 0
        left, begin = t // STEP, 0
        for steps, e, r in phases:
            n = min(steps, left)
            errors, requests, left = errors + n * e, requests + n * r, left - n
        return errors, requests
    return phases, counters


def _values(phases: list[tuple[int, int, int]], column: int) -> str:
    """promtool's expanding notation: a counter from 0 rising by the phase's amount per step."""
    out, value, first = [], 0, True
    for phase in phases:
        steps, per = phase[0], phase[column]
        start = value if first else value + per
        out.append(f"{start}+{per}x{steps if first else steps - 1}")
        value, first = start + per * (steps if first else steps - 1), False
    return " ".join(out)


def _run(slo, promtool, tmp_path, zone: str, windows: list[str], checks: list[tuple[str, int, int]]) -> None:
    """Compile SLOs of `windows` in `zone`, and check the error ratio of each (window, boundary, at) by promtool."""
    spec = "service: shop\nslos:\n" + "".join(SLO.format(window=w) for w in windows)
    write_spec(tmp_path / "slos", "shop.yaml", spec)
    settings = write_spec(tmp_path, "settings.yaml", SETTINGS + f"calendar_timezone: {zone}\n")
    out = tmp_path / "out"
    assert slo("compile", "--slos", tmp_path / "slos", "--out", out, "--settings", settings).code == 0
    end = max(at for _, _, at in checks) + HOUR
    phases, counters = _traffic([b for _, b, _ in checks], end)
    # Errors are part of the requests: the 200s are the rest.
    ok = [(steps, 0, r - e) for steps, e, r in phases]
    tests = []
    for window, boundary, at in checks:
        (errors, requests), (errors0, requests0) = counters(at), counters(boundary - HOUR)
        ratio = (errors - errors0) / (requests - requests0)
        sel = f'{{slo_service="shop", slo_name="{window}"}}'
        labels = f'{{slo_name="{window}",slo_service="shop",slo_window="calendar-{window}"}}'
        tests += [
            {"expr": f"abs(slo:sli_error:ratio_this_period{sel} - {ratio!r}) < bool 1e-9", "eval_time": f"{at}s",
             "exp_samples": [{"labels": labels, "value": 1}]},
            {"expr": f"abs(slo:period_error_budget_remaining:ratio{sel} - {1 - ratio / 0.01!r}) < bool 1e-7",
             "eval_time": f"{at}s", "exp_samples": [{"labels": labels, "value": 1}]}]
    suite = {"rule_files": [str(p) for p in sorted((out / "prometheus" / "tests" / "shop").glob("*.rules.yml"))],
             "evaluation_interval": "1h",
             "tests": [{"interval": f"{STEP}s", "input_series": [
                 {"series": 'http_requests_total{job="shop", code="500"}', "values": _values(phases, 1)},
                 {"series": 'http_requests_total{job="shop", code="200"}', "values": _values(ok, 2)}],
                 "promql_expr_test": tests}]}
    path = tmp_path / "calendar.test.yml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    result = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_month_and_week_in_utc(slo, promtool, tmp_path):
    assert datetime.date(1970, 1, 5).weekday() == 0  # the first Monday
    february = _at(1970, 2, 1)
    _run(slo, promtool, tmp_path, "UTC", ["month", "week"], [
        ("month", HOUR, _at(1970, 1, 31, 23)),  # the last hour of January, from the first rate on
        ("month", february, february),  # the first evaluation of February: its reset
        ("month", february, february + 3 * HOUR),
        ("week", _at(1970, 1, 5), _at(1970, 1, 5, 2)),
        ("week", _at(1970, 1, 26), february + 3 * HOUR),  # a week across the month's start
    ])


def test_month_and_quarter_after_daylight_saving_in_berlin(slo, promtool, tmp_path):
    # By the zone's current rule (CET-1CEST,M3.5.0,M10.5.0/3), which the rules follow at every date:
    # summer time from 01:00 UTC on the last Sunday of March, so April (and the second quarter) starts
    # at 22:00 UTC on March 31, and March, in winter time, at 23:00 UTC on February 28.
    last_sunday = max(week[calendar.SUNDAY] for week in calendar.monthcalendar(1970, 3))
    assert last_sunday == 29
    april, march = _at(1970, 3, 31, 22), _at(1970, 2, 28, 23)
    _run(slo, promtool, tmp_path, "Europe/Berlin", ["month", "quarter"], [
        ("month", march, _at(1970, 3, 29, 0)),  # before the change
        ("month", march, _at(1970, 3, 29, 3)),  # after it
        ("month", march, april - HOUR),  # the last hour of March in Berlin
        ("quarter", HOUR, april - HOUR),  # the first quarter, from the first rate on
        ("month", april, april),  # the reset
        ("quarter", april, april),
        ("month", april, april + 2 * HOUR),
        ("quarter", april, april + 2 * HOUR),
    ])


def test_bad_calendar_input_is_one_line_each_at_its_place(slo, tmp_path):
    write_spec(tmp_path / "slos", "shop.yaml", "service: shop\nslos:\n" + SLO.format(window="year"))
    settings = write_spec(tmp_path, "settings.yaml", "calendar_timezone: Europe/Paries\n")
    result = slo("compile", "--slos", tmp_path / "slos", "--out", tmp_path / "out", "--settings", settings)
    assert result.code == 1 and not (tmp_path / "out").exists()
    assert result.err.splitlines() == [
        f"{settings}:1:20: calendar_timezone: unknown time zone 'Europe/Paries'; did you mean Europe/Paris?",
        f"{tmp_path / 'slos' / 'shop.yaml'}:5:13: slos[0].window: must be a duration or one of calendar-month, "
        f"calendar-week, calendar-quarter, got 'calendar-year'"]


def test_explain_says_when_the_period_resets(slo, tmp_path):
    write_spec(tmp_path / "slos", "shop.yaml", "service: shop\nslos:\n" + SLO.format(window="month"))
    settings = write_spec(tmp_path, "settings.yaml", "calendar_timezone: Asia/Tokyo\n")
    before = datetime.datetime.now(datetime.timezone.utc)
    lines = slo("explain", "shop/month", "--slos", tmp_path / "slos", "--settings", settings).out.splitlines()
    # The next first of a month in Tokyo (UTC+9, no daylight saving) is at 15:00 UTC the day before.
    tokyo = before + datetime.timedelta(hours=9)
    first = datetime.datetime(tokyo.year + tokyo.month // 12, tokyo.month % 12 + 1, 1)
    assert lines[0] == "shop/month: 99% over calendar month (Asia/Tokyo), error budget 1% (7h 12m of full outage per 30d)"
    assert lines[1] == (f"period: this calendar month in Asia/Tokyo, which resets next at {first:%Y-%m-%d} 00:00 JST "
                        f"({first - datetime.timedelta(hours=9):%Y-%m-%d} 15:00 UTC); the alert windows are rolling, "
                        f"sized as for 30d")
