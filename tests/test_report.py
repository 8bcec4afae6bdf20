"""`slo report` against a real Prometheus holding the last two whole months of traffic, and this month's.

Raw counters are written through Prometheus' remote write receiver (promtool's backfill would cut
them into a thousand 2h blocks, a minute of work) one sample every 10 minutes from the first day of the month before last up to now, for two routes of a shop:
- `/a`: 100 requests a minute, 0.02% errors; the month before last, one hour of full outage (day 12);
- `/b`: 10 requests a minute, no errors; last month, two hours at 50% errors (day 20), and one more
  hour at 50% that ends the month before last in UTC, but starts last month in Europe/Berlin.
A `fresh` counter starts on day 11 of last month, and one SLO reads a counter that does not exist.
Prometheus' alerts are not run: their `ALERTS` series are written as the rule evaluations write
them (one sample a minute while firing, pending ones too), so the report's counts can be checked
against the episodes written.

Every expected figure is computed here from the traffic this module writes, never by the report's code.
"""

import json
import shutil
import time
from pathlib import Path
from calendar import timegm
from datetime import datetime, timezone
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from html.parser import HTMLParser
from xml.etree import ElementTree

import pytest
import yaml

import realprom
from compiler import pipeline, report
from compiler.report import Measured, Report, html, period, render
from test_docs import blocks

STEP = 600  # seconds between samples
HOUR = 3600
RETENTION = "200d"
OBJECTIVES = {"availability": 99.9, "loose": 99, "by-route": 99.9, "fresh": 99.9, "nothing": 99.9, "quarterly": 99.9}


def month_start(year: int, month: int) -> int:
    return timegm((year, month, 1, 0, 0, 0))


def months() -> list[tuple[str, int, int]]:
    """(YYYY-MM, start, end) of the month before last, last month and this month, in UTC."""
    now = datetime.now(timezone.utc)
    found = []
    for back in (2, 1, 0):
        index = now.year * 12 + now.month - 1 - back
        year, month = divmod(index, 12)
        after_year, after_month = divmod(index + 1, 12)
        found.append((f"{year}-{month + 1:02d}", month_start(year, month + 1), month_start(after_year, after_month + 1)))
    return found


BEFORE_LAST, LAST, THIS = months()
OUTAGE = (BEFORE_LAST[1] + 11 * 86400 + 9 * HOUR, HOUR)  # (start, seconds): day 12, 09:00, full outage of /a
INCIDENT = (LAST[1] + 19 * 86400 + 14 * HOUR, 2 * HOUR)  # day 20, 14:00, 50% errors on /b
EDGE = (LAST[1] - HOUR, HOUR)  # the last hour of the month before last in UTC, 50% errors on /b: last month in Berlin
FRESH_FROM = LAST[1] + 10 * 86400  # day 11


def per_minute(route: str, t: int) -> tuple[float, float]:
    """(requests, errors) a minute on a route during the 10 minutes that end at `t`."""
    if route == "/a":
        start, length = OUTAGE
        return (100, 100) if start < t <= start + length else (100, 0.02)
    return (10, 5) if any(start < t <= start + length for start, length in (INCIDENT, EDGE)) else (10, 0)


Series = dict[tuple[tuple[str, str], ...], list[tuple[int, float]]]  # {labels: [(ms, value)]}


def counter(series: Series, labels: dict[str, str], t: int, value: float) -> None:
    series.setdefault(tuple(sorted(labels.items())), []).append((t * 1000, value))


def history(end: int) -> Series:
    series: Series = {}
    first = BEFORE_LAST[1]
    for route in ("/a", "/b"):
        good = bad = 0.0
        for t in range(first, end + 1, STEP):
            if t > first:
                requests, errors = per_minute(route, t)
                good, bad = good + (requests - errors) * 10, bad + errors * 10
            for code, value in (("200", good), ("500", bad)):
                counter(series, {"__name__": "http_requests_total", "code": code, "job": "shop", "route": route}, t,
                        value)
    for t in range(FRESH_FROM, end + 1, STEP):
        counter(series, {"__name__": "fresh_requests_total", "code": "200"}, t, (t - FRESH_FROM) // 60 * 10)
    alerts(series)
    return series


# Firing episodes (first minute, minutes) of the availability SLO's alerts, and one pending and one
# of another SLO that the report must leave out.
PAGE = "ShopAvailabilityBudgetBurn"
FIRINGS = {("critical", OUTAGE[0] + 120, 48), ("critical", OUTAGE[0] + 5 * HOUR, 10),
           ("warning", OUTAGE[0] + 600, 300)}


def alerts(series: Series) -> None:
    episodes = [(PAGE, "availability", "firing", severity, first, minutes) for severity, first, minutes in FIRINGS]
    episodes += [(PAGE, "availability", "pending", "critical", OUTAGE[0] + 60, 2),
                 ("ShopLooseBudgetBurn", "loose", "firing", "critical", OUTAGE[0] + 300, 30)]
    for number, (name, slo, state, severity, first, minutes) in enumerate(sorted(episodes)):
        labels = {"__name__": "ALERTS", "alertname": name, "alertstate": state, "pair": str(number),
                  "severity": severity, "slo_name": slo, "slo_service": "shop"}
        for m in range(minutes):
            counter(series, labels, first + m * 60, 1)


DESCRIPTION = "Shop <b>requests</b> | answered & not *failed*"  # user text, shown as written


def spec() -> dict:
    def ratio(name: str, metric: str = "http_requests_total", by: list | None = None, selector: str = 'job="shop"'):
        sli = {"errors": f'{metric}{{{selector}, code="500"}}', "total": f"{metric}{{{selector}}}"}
        return {"name": name, "objective": OBJECTIVES[name], "sli": {"ratio": {**sli, **({"group_by": by} if by else {})}}}
    shown = {**ratio("availability"), "description": DESCRIPTION}
    return {"service": "shop", "slos": [shown, ratio("loose"), ratio("by-route", by=["route"]),
                                        ratio("fresh", "fresh_requests_total", selector='code=~".+"'),
                                        ratio("nothing", "absent_requests_total"),
                                        {**ratio("quarterly"), "window": "calendar-quarter"}]}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("report")
    (work / "slos").mkdir()
    (work / "slos" / "shop.yaml").write_text(yaml.safe_dump(spec(), sort_keys=False))
    with realprom.running(work, [], work / "data", retention=RETENTION,
                          extra_args=realprom.REMOTE_WRITE_ARGS) as prometheus:
        realprom.remote_write(prometheus.base, history(int(time.time()) // STEP * STEP - STEP))
        yield prometheus, work


def events(routes: tuple[str, ...], start: int, end: int) -> tuple[Decimal, Decimal]:
    """(errors, requests) on the routes from `start` to `end`, summed from the traffic written."""
    errors = requests = Decimal(0)
    for route in routes:
        for t in range(start + STEP, end + 1, STEP):
            r, e = per_minute(route, t)
            requests, errors = requests + Decimal(str(r)) * 10, errors + Decimal(str(e)) * 10
    return errors, requests


def attained(errors: Decimal, requests: Decimal) -> Decimal:
    return ((1 - errors / requests) * 100).quantize(Decimal("0.001"), ROUND_DOWN).normalize()


def used(errors: Decimal, requests: Decimal, objective: float) -> Decimal:
    budget = 1 - Decimal(str(objective)) / 100
    return (errors / requests / budget * 100).quantize(Decimal("0.1"), ROUND_CEILING).normalize()


def run(slo, server, *args: str):
    prometheus, work = server
    return slo("report", "--prometheus", prometheus.base, "--slos", work / "slos", "--settings", work / "none", *args)


def figures(slo, server, *args: str) -> dict:
    result = run(slo, server, "--format", "json", *args)
    assert result.code == 0, result.err
    return {s["slo"]: s for s in json.loads(result.out)["slos"]} | {"": json.loads(result.out)}


@pytest.mark.parametrize("month", [BEFORE_LAST, LAST], ids=["month-before-last", "last-month"])
def test_each_month_attains_the_ratio_of_its_own_events(slo, server, month):
    label, start, end = month
    found = figures(slo, server, "--period", label)
    assert found[""]["state"] == "complete" and found[""]["period"] == label
    for name, routes in (("availability", ("/a", "/b")), ("loose", ("/a", "/b"))):
        errors, requests = events(routes, start, end)
        s = found[name]
        assert Decimal(s["attained"]) == attained(errors, requests), name
        assert Decimal(s["budget_used"]) == used(errors, requests, OBJECTIVES[name]), name
        met = errors / requests <= 1 - Decimal(str(OBJECTIVES[name])) / 100
        assert s["verdict"] == ("met" if met else "missed")
        assert s["data_minutes"] == (end - start) // 60 and s["notes"] == []
    # By hand: the outage misses 99.9% the month before last, the incident's /b share does not.
    assert found["availability"]["verdict"] == ("missed" if month is BEFORE_LAST else "met")
    assert found["loose"]["verdict"] == "met"


def test_a_grouped_slo_is_as_good_as_its_worst_group(slo, server):
    for (label, start, end), worst in ((BEFORE_LAST, "/a"), (LAST, "/b")):
        s = figures(slo, server, "--period", label)["by-route"]
        expected = {route: attained(*events((route,), start, end)) for route in ("/a", "/b")}
        assert [w["group"] for w in s["worst"]] == [f'route="{worst}"', f'route="{({"/a", "/b"} - {worst}).pop()}"']
        assert {w["group"]: Decimal(w["attained"]) for w in s["worst"]} == {f'route="{r}"': v
                                                                            for r, v in expected.items()}
        assert Decimal(s["attained"]) == expected[worst] and s["verdict"] == "missed"
        assert (s["groups"], s["groups_missed"]) == (2, 1)


def test_the_alerts_that_fired_are_counted_from_alerts(slo, server):
    s = figures(slo, server, "--period", BEFORE_LAST[0])
    alerts = {(a["alert"], a["severity"]): a for a in s["availability"]["alerts"]}
    stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
    for severity in ("critical", "warning"):
        mine = sorted((first, minutes) for sev, first, minutes in FIRINGS if sev == severity)
        assert alerts[PAGE, severity] == {
            "alert": PAGE, "severity": severity, "fired": len(mine), "first": stamp(mine[0][0]),
            "last": stamp(mine[-1][0] + (mine[-1][1] - 1) * 60), "minutes": sum(m for _, m in mine)}
    assert len(alerts) == 2  # the pending one is left out, the other SLO's is its own
    assert [a["minutes"] for a in s["loose"]["alerts"]] == [30]
    assert figures(slo, server, "--period", LAST[0])["availability"]["alerts"] == []


def test_no_data_and_partial_data_are_said(slo, server):
    found = figures(slo, server, "--period", LAST[0])
    nothing, fresh = found["nothing"], found["fresh"]
    assert nothing["verdict"] == "no data" and nothing["attained"] is None and nothing["budget_used"] is None
    assert fresh["verdict"] == "met" and fresh["data_from"] == time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                             time.gmtime(FRESH_FROM))
    assert fresh["data_minutes"] == (LAST[2] - FRESH_FROM) // 60
    days, of = (LAST[2] - FRESH_FROM) // 86400, (LAST[2] - LAST[1]) // 86400
    assert len(fresh["notes"]) == 1 and fresh["notes"][0].startswith(f"data for {days}d of the {of}d measured (")
    assert figures(slo, server, "--period", BEFORE_LAST[0])["fresh"]["verdict"] == "no data"


def test_this_month_is_reported_to_date_and_a_later_one_not_at_all(slo, server):
    found = figures(slo, server, "--period", THIS[0])
    assert found[""]["state"] == "to date" and found["loose"]["verdict"] == "on track"
    year, month = map(int, THIS[0].split("-"))
    later = f"{year + 1}-{month:02d}"
    found = figures(slo, server, "--period", later)
    assert found[""]["state"] == "future" and {found[n]["verdict"] for n in OBJECTIVES} == {"not started"}


def test_the_markdown_starts_with_the_summary(slo, server):
    result = run(slo, server, "--period", BEFORE_LAST[0])
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == f"# SLO report {BEFORE_LAST[0]}"
    table = lines[lines.index("| SLO | objective | attained | verdict | budget used | errors as full outage | "
                              "alerts fired |") + 2:]
    errors, requests = events(("/a", "/b"), BEFORE_LAST[1], BEFORE_LAST[2])
    minutes = (BEFORE_LAST[2] - BEFORE_LAST[1]) // 60
    outage = (errors / requests * minutes).quantize(Decimal("0.1"), ROUND_CEILING).normalize()
    budget = (Decimal(minutes) / 1000).quantize(Decimal("0.1"), ROUND_DOWN).normalize()  # never more than allowed
    assert table[0] == (f"| `shop/availability` | 99.9% | {attained(errors, requests)}% | ❌ missed | "
                        f"{used(errors, requests, 99.9)}% | {outage} of {budget} min | 3 |")
    assert [line.split(" | ")[0] for line in table[:len(OBJECTIVES)]] == [f"| `shop/{n}`" for n in sorted(OBJECTIVES)]
    assert result.err.count("slo: report shop/") == len(OBJECTIVES)


def test_bad_input_is_one_line_and_writes_nothing(slo, server, tmp_path):
    out = tmp_path / "report.md"
    for args, code, message in (
            (("--period", "2026-13"), 2, "argument --period: must be a month YYYY-MM (2026-11), a quarter YYYY-Qn "
                                        "(2026-Q4) or an ISO week YYYY-Www (2026-W48, from Monday), got '2026-13'"),
            (("--period", "2027-W53"), 2, "argument --period: 2027-W53: 2027 has no ISO week 53"),
            (("--from", "2026-11-05", "--to", "2026-11-01"), 2, "--from 2026-11-05 is after --to 2026-11-01"),
            (("--from", "2026-11-05"), 2, "--from and --to go together"),
            (("--period", "2026-11", "--from", "2026-11-01", "--to", "2026-11-02"), 2, "exclude each other")):
        result = run(slo, server, *args, "--out", out)
        assert result.code == code and result.lines[-1].startswith("slo report: error: ") and message in result.lines[-1]
    prometheus, work = server
    result = slo("report", "--prometheus", "http://127.0.0.1:1", "--slos", work / "slos", "--settings", work / "none",
                 "--period", LAST[0], "--out", out)
    assert result.code == 1 and result.lines == [
        "slo: report: cannot query Prometheus at http://127.0.0.1:1: [Errno 111] Connection refused"]
    assert not out.exists()


def test_service_and_slo_filters_report_only_those(slo, server, tmp_path):
    prometheus, work = server
    slos = tmp_path / "slos"
    shutil.copytree(work / "slos", slos)
    route_b = {"errors": 'http_requests_total{route="/b", code="500"}', "total": 'http_requests_total{route="/b"}'}
    (slos / "web.yaml").write_text(yaml.safe_dump({"service": "web", "slos": [
        {"name": "b-only", "objective": 99.9, "sli": {"ratio": route_b}}]}))

    def chosen(*args: str) -> tuple[list[tuple[str, str]], dict, str]:
        result = slo("report", "--prometheus", prometheus.base, "--slos", slos, "--settings", work / "none",
                     "--period", LAST[0], "--format", "json", *args)
        assert result.code == 0, result.err
        found = json.loads(result.out)["slos"]
        return [(s["service"], s["slo"]) for s in found], {s["slo"]: s for s in found}, result.err
    ids, found, err = chosen("--service", "web")
    assert ids == [("web", "b-only")] and [line.split(":")[1] for line in err.splitlines()] == [" report web/b-only"]
    # By hand: last month's /b events alone, its incident and the Berlin edge hour not in UTC's month.
    assert found["b-only"]["attained"] == str(attained(*events(("/b",), LAST[1], LAST[2])))
    assert chosen("--service", "shop")[0] == [("shop", name) for name in sorted(OBJECTIVES)]
    assert chosen("--slo", "web/b-only", "--slo", "shop/loose")[0] == [("shop", "loose"), ("web", "b-only")]
    assert chosen("--service", "web", "--slo", "shop/loose", "--slo", "web/b-only")[0] == [("shop", "loose"),
                                                                                          ("web", "b-only")]


def test_an_unknown_service_or_slo_is_one_line_with_the_closest_name(slo, server, tmp_path):
    out = tmp_path / "report.md"
    prometheus, work = server
    result = run(slo, server, "--period", LAST[0], "--service", "shpo", "--slo", "shop/availabilty",
                 "--slo", "shop/loose", "--out", out)
    assert result.code == 2 and not out.exists()
    assert result.lines[-1] == (
        f"slo report: error: --service 'shpo': no such service under {work / 'slos'}; did you mean 'shop'? "
        f"services: shop | --slo 'shop/availabilty': no such SLO under {work / 'slos'}; did you mean "
        f"'shop/availability'? SLOs: {', '.join(f'shop/{n}' for n in sorted(OBJECTIVES))} (write SERVICE/SLO)")
    result = run(slo, server, "--period", LAST[0], "--slo", "loose")
    assert result.code == 2 and result.lines[-1].startswith(
        f"slo report: error: --slo 'loose': no such SLO under {work / 'slos'}; did you mean 'shop/loose'? ")


def test_months_are_those_of_the_calendar_timezone(slo, server, tmp_path):
    settings = tmp_path / "slo-settings.yaml"
    settings.write_text("calendar_timezone: Europe/Berlin\n")
    prometheus, work = server
    result = slo("report", "--prometheus", prometheus.base, "--slos", work / "slos", "--settings", settings,
                 "--period", LAST[0], "--format", "json")
    assert result.code == 0, result.err
    berlin = json.loads(result.out)
    start = datetime.fromisoformat(berlin["start"])
    assert (start.hour, start.day, start.utcoffset().total_seconds() in (3600, 7200)) == (0, 1, True)
    first, end = int(start.timestamp()), int(datetime.fromisoformat(berlin["end"]).timestamp())
    assert first <= LAST[1] - HOUR  # the edge hour falls into this month in Berlin
    by_route = {s["slo"]: s for s in berlin["slos"]}["by-route"]
    shown = {w["group"]: w["attained"] for w in by_route["worst"]}
    assert shown['route="/b"'] == str(attained(*events(("/b",), first, end)))
    assert shown['route="/b"'] != figures(slo, server, "--period", LAST[0])["by-route"]["worst"][0]["attained"]


def test_a_calendar_slo_is_reported_over_its_own_period(slo, server):
    month = figures(slo, server, "--period", LAST[0])["quarterly"]
    year, number = map(int, LAST[0].split("-"))
    quarter = f"{year}-Q{(number - 1) // 3 + 1}"
    assert month["window"] == "calendar quarter (UTC)" and month["notes"] == [
        f"its objective holds per calendar quarter (UTC), and {LAST[0]} is not one: --period {quarter} reports the "
        "quarter it starts in"]
    own = figures(slo, server, "--period", quarter)["quarterly"]["notes"]
    assert not any(note.startswith("its objective holds") for note in own)


def test_without_a_period_the_last_whole_one_of_the_slos_own_calendar(tmp_path):
    def slos(*windows: str):
        folder = tmp_path / "-".join(windows)
        (folder / "slos").mkdir(parents=True)
        (folder / "slos" / "x.yaml").write_text(yaml.safe_dump({"service": "x", "slos": [
            {"name": f"s{i}", "objective": 99, **({"window": w} if w else {}),
             "sli": {"bool": {"metric": "up"}}} for i, w in enumerate(windows)]}))
        return [s for service in pipeline.build_plan(folder / "slos", folder / "none").services for s in service.slos]
    assert report.default_window(slos("calendar-week", "calendar-week")) == "calendar-week"
    assert report.default_window(slos("calendar-week", "calendar-quarter")) == "calendar-month"
    assert report.default_window(slos("calendar-quarter", "")) == "calendar-month"
    monday = timegm((2026, 12, 7, 8, 0, 0))
    assert [period.last(w, monday, "UTC").label for w in ("calendar-week", "calendar-month", "calendar-quarter")] == [
        "2026-W49", "2026-11", "2026-Q3"]
    assert period.last("calendar-month", timegm((2027, 1, 1, 0, 30, 0)), "Europe/Berlin").label == "2026-12"


def test_the_last_whole_month_is_the_default(slo, server):
    default, last = run(slo, server, "--format", "json"), run(slo, server, "--format", "json", "--period", LAST[0])
    assert default.code == 0 and default.out == last.out


def test_days_are_a_period_too(slo, server):
    label, start, _ = LAST
    first, last = f"{label}-20", f"{label}-20"
    found = figures(slo, server, "--from", first, "--to", last)
    errors, requests = events(("/b",), start + 19 * 86400, start + 20 * 86400)
    assert found["by-route"]["attained"] == str(attained(errors, requests))
    assert found[""]["period"] == f"{first} to {last}"


# --- alerts replayed from the raw series: a server that never ran the rules ---

DAY = 86400
RECENT_DAYS = 5  # of one sample a minute, up to now


@pytest.fixture(scope="module")
def outage_day(tmp_path_factory):
    """(server, the day of the outage as YYYY-MM-DD, its first minute in s, slos folder): 1000 requests a
    minute at 0.05% errors since the start of the day five days ago, and a 20-minute full outage at noon of
    the day three days later (two days ago), one sample a minute; no rules, so no ALERTS."""
    work = tmp_path_factory.mktemp("replay")
    now = int(time.time()) // 60 * 60
    first = now // DAY * DAY - RECENT_DAYS * DAY
    outage = first + 3 * DAY + 12 * HOUR
    good = bad = 0.0
    series: dict = {}
    for t in range(first, now + 1, 60):
        for code, value in (("200", good), ("500", bad)):
            counter(series, {"__name__": "http_requests_total", "code": code, "job": "shop"}, t, value)
        errors = 1000.0 if outage <= t < outage + 20 * 60 else 0.5
        good, bad = good + 1000 - errors, bad + errors
    slos = work / "slos"
    slos.mkdir()
    ratio = {"errors": 'http_requests_total{job="shop", code="500"}', "total": 'http_requests_total{job="shop"}'}
    (slos / "shop.yaml").write_text(yaml.safe_dump({"service": "shop", "slos": [
        {"name": "api", "objective": 99, "sli": {"ratio": ratio}}]}))
    with realprom.running(work, [], work / "data", extra_args=realprom.REMOTE_WRITE_ARGS) as prometheus:
        realprom.remote_write(prometheus.base, series)
        yield prometheus, time.strftime("%Y-%m-%d", time.gmtime(outage)), outage, slos


def test_replayed_alerts_are_those_the_rules_would_have_fired(slo, outage_day, tmp_path):
    """By hand, as in the backtest's tests: under 99% the outage's 1h window passes 14.4% once it holds 9
    minutes of it, and the 1h/5m page fires 2 minutes later (its `for`), at 11 minutes; its 5m window is
    clean 5 minutes after the outage, at 25, so it fires at 14 evaluations. No ticket: the 6h window holds
    at most 5.6% errors (not 6x the budget), the 1d 1.4% (not 3x) and the 3d window, with three days of
    traffic before, about 0.5% (not 1x)."""
    prometheus, day, outage, slos = outage_day

    def reported(*args: str) -> tuple[str, dict]:
        """The Markdown and the JSON report of the day."""
        found = [slo("report", "--prometheus", prometheus.base, "--slos", slos, "--settings", tmp_path / "none",
                     "--from", day, "--to", day, "--format", form, *args) for form in ("markdown", "json")]
        assert [r.code for r in found] == [0, 0], found[0].err
        return found[0].out, json.loads(found[1].out)
    stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
    markdown, found = reported("--replay-alerts")
    assert found["alerts_from"] == "backtest" and found["slos"][0]["alerts"] == [
        {"alert": "ShopApiBudgetBurn", "severity": "critical", "fired": 1, "first": stamp(outage + 11 * 60),
         "last": stamp(outage + 24 * 60), "minutes": 14}]
    assert "Alerts are replayed from the raw series through the compiled rules" in markdown
    # From ALERTS: this server never ran the rules.
    markdown, found = reported()
    assert found["alerts_from"] == "ALERTS" and found["slos"][0]["alerts"] == []
    assert "No alert of this SLO fired in the period." in markdown and "replayed" not in markdown


# --- the example of docs/report.md, from fixture figures (no server): the page cannot drift ---

DOCS = Path(__file__).resolve().parent.parent / "docs" / "report.md"
NOVEMBER = timegm((2026, 11, 1, 0, 0, 0)) * 1000
H = 3_600_000


def hourly(values: dict[int, float], default: float | None, hours: int = 720) -> list[float | None]:
    """One value per hour of November: `values` at the hours given (since the 1st, 00:00), else `default`."""
    return [values.get(i, default) for i in range(hours)]


def fixture(slo) -> Measured:
    """What a server would have answered for November, per SLO of the example spec."""
    firing = {"availability": {("CheckoutAvailabilityBudgetBurn", "critical"): (11 * 24 + 10, 30),
                               ("CheckoutAvailabilityBudgetBurn", "warning"): (11 * 24 + 10, 180)}}
    if slo.name == "availability":
        series = {(): (hourly({11 * 24 + 10: 20.0, 11 * 24 + 11: 20.0}, 0.01), hourly({}, 50.0))}
    elif slo.name == "latency":
        series = {(("route", "/cart"),): (hourly({}, 0.05), hourly({}, 20.0)),
                  (("route", "/pay"),): (hourly({19 * 24 + h: 1.0 for h in range(6)}, 0.08), hourly({}, 10.0))}
    else:  # a probe deployed on the 15th
        series = {(): (hourly({}, None) [:14 * 24] + [0.0] * 16 * 24, hourly({}, None)[:14 * 24] + [60.0] * 16 * 24)}
    ratios = {g: Decimal(str(sum(e or 0 for e in errors) / sum(t or 0 for t in total)))
              for g, (errors, total) in series.items()}
    alerts = {}
    for key, (minute, minutes) in firing.get(slo.name, {}).items():
        alerts[key] = [1.0 if minute * 60 + 8 <= m < minute * 60 + 8 + minutes else None for m in range(720 * 60)]
    return Measured(ratios, {g: e for g, (e, _) in series.items()}, {g: t for g, (_, t) in series.items()},
                    NOVEMBER + H, H, 720, alerts, NOVEMBER + 60_000, 60_000)


def example(folder: Path) -> Report:
    """The report of the docs' example spec over November 2026, seen on December 6th."""
    spec_text = next(content for _, language, _, content in blocks(DOCS) if language == "yaml")
    (folder / "slos").mkdir()
    (folder / "slos" / "checkout.yaml").write_text(spec_text)
    slos = [s for service in pipeline.build_plan(folder / "slos", folder / "none").services for s in service.slos]
    return report.report(period.calendar("2026-11", "UTC"), timegm((2026, 12, 6, 9, 0, 0)) * 1000,
                         [(s, fixture(s)) for s in slos])


def test_the_example_of_the_docs_is_what_the_report_writes(tmp_path):
    written = render.markdown_report(example(tmp_path))
    shown = [content for _, language, _, content in blocks(DOCS) if language == "markdown"]
    assert shown[0] == written, "docs/report.md's example differs from what slo report writes for its figures"


class Page(HTMLParser):
    """What a mail reader would load or run besides the file: scripts, styles, images, frames, links
    to other files; and the text, the headings and the sparklines."""

    def __init__(self):
        super().__init__()
        self.tags, self.outside, self.text, self.open = [], [], [], []

    VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr"}

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in self.VOID:
            self.open.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and not (value or "").startswith("#") or tag in ("script", "link", "iframe"):
                self.outside.append((tag, name, value))

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        self.open.pop()

    def handle_data(self, data):
        self.text.append(data)


def test_the_html_is_one_file_with_every_slo_and_a_sparkline_each(slo, server, tmp_path):
    out = tmp_path / "report.html"
    result = run(slo, server, "--period", BEFORE_LAST[0], "--format", "html", "--out", out)
    assert result.code == 0 and result.out == "", result.err
    page = Page()
    page.feed(out.read_text())
    page.close()
    assert page.open == [] and page.outside == [], page.outside
    text = " ".join(page.text)
    assert all(f"shop/{name}" in text for name in OBJECTIVES)
    errors, requests = events(("/a", "/b"), BEFORE_LAST[1], BEFORE_LAST[2])
    assert f"{attained(errors, requests)}%" in text and "❌ missed" in text
    assert DESCRIPTION in page.text and "b" not in page.tags  # escaped, not markup
    # A sparkline for each SLO with data: availability, by-route, loose, quarterly (fresh and nothing have none).
    assert page.tags.count("svg") == 4 and page.tags.count("polyline") == 4


def test_a_sparkline_follows_the_budget_left(tmp_path):
    found = {s.slo: s for s in example(tmp_path).slos}["availability"]
    page = Page()
    page.feed(str(html.sparkline(found.budget_left)))
    # By hand: 11 days at 0.02% errors are 3.168 minutes of full outage, 7.33% of the month's 43.2; the
    # 12th's two hours at 40% bring the ratio of the 12 days to 42.86 / 14400 (51.43 minutes, 119.05%).
    # Budget left is rounded down, below zero too.
    assert [str(v) for v in found.budget_left[10:12]] == ["92.6", "-19.1"]
    assert page.text == ["budget left per day: 99.3% to -31.1%"]  # 100 less the 131.1% used
    svg = ElementTree.fromstring(str(html.sparkline(found.budget_left)))
    ns = "{http://www.w3.org/2000/svg}"
    points = [tuple(map(float, p.split(","))) for p in svg.find(f"{ns}polyline").get("points").split()]
    zero = float(svg.find(f"{ns}line").get("y1"))  # the dashed 0% line, drawn as the budget went below
    assert len(points) == 30 and [y < zero for _, y in points] == [True] * 11 + [False] * 19
    assert [x for x, _ in points] == sorted(x for x, _ in points) and points[0][0] < points[-1][0]


def test_a_month_is_its_calendar_month_in_the_timezone():
    october = period.calendar("2026-10", "Europe/Berlin")  # summer time ends on the 25th: 31 days and an hour
    assert (october.start.isoformat(), october.end.isoformat()) == ("2026-10-01T00:00:00+02:00",
                                                                    "2026-11-01T00:00:00+01:00")
    assert october.end_ms - october.start_ms == (31 * 24 + 1) * HOUR * 1000 and october.step == HOUR * 1000
    assert len(october.midnights) == 31 and october.midnights[-1] == october.end_ms
    assert period.calendar("2026-12", "UTC").end.isoformat() == "2027-01-01T00:00:00+00:00"
    assert [(p.start.date().isoformat(), p.end.date().isoformat()) for p in (
        period.calendar("2026-Q4", "UTC"), period.calendar("2027-Q1", "UTC"), period.calendar("2026-W01", "UTC"),
        period.calendar("2026-W53", "UTC"))] == [("2026-10-01", "2027-01-01"), ("2027-01-01", "2027-04-01"),
                                                 ("2025-12-29", "2026-01-05"), ("2026-12-28", "2027-01-04")]
    # India's midnight is at a half hour of UTC: the series are read every quarter hour.
    assert period.calendar("2026-11", "Asia/Kolkata").step == 15 * 60 * 1000
    assert period.days(period.day("2024-02-28"), period.day("2024-03-01"), "UTC").end_ms - \
        period.calendar("2024-02", "UTC").start_ms == 30 * 86400 * 1000  # a leap year's February, and a day
