"""`slo diff --backtest`: a month of traffic with known incidents, in a real Prometheus.

33 days of request counters are backfilled (`promtool tsdb create-blocks-from openmetrics`), one
sample a minute, 1000 requests a minute at 0.05% errors, with three incidents in the last 30 days:
a 20-minute full outage (day 8), a 6-hour slow burn at 3% errors, three times the old budget (day 15),
and a quiet day of 10 requests a minute at 5% errors (day 23). The change tightens the objective from
99% to 99.9%.

By hand, per tier (episodes: overlapping pairs count once):
- 99%: the outage pages (1h/5m above 14.4%); nothing else reaches a burn rate. 1 page, 0 tickets.
- 99.9%: every incident pages. The outage opens two tickets: 1d/2h resolves 2h20m after it starts,
  before 3d/6h has held its 3h `for`. The slow burn and the quiet day open one each (the quiet day's 1d
  ratio passes 0.3% after 20h12m of it; its 3d ratio never passes 0.1%). 3 pages, 4 tickets.

The firings themselves are checked against the compiled alert expressions evaluated by that
Prometheus over the same data at every minute (with the recorded base rates backfilled as the rules
would have written them), with `for` applied as Prometheus applies it.
"""

import calendar
import itertools
import json
import re
import subprocess
import time
from pathlib import Path

import pytest
import yaml

import realprom
from bench import evaluation
from compiler import durations, names
from compiler.cli import main
from gitrepo import Repo

DAYS = 33
MINUTE = 60
OUTAGE, SLOW, QUIET = (8 * 1440 + 600, 20), (15 * 1440 + 120, 360), (23 * 1440, 1440)  # (first minute, minutes)
JOB = "shop"
ERRORS = f'http_requests_total{{job="{JOB}", code="500"}}'
TOTAL = f'http_requests_total{{job="{JOB}"}}'


def traffic(minute: int) -> tuple[float, float]:
    """(requests, errors) in one minute since the start of the data."""
    for (first, length), (requests, errors) in ((OUTAGE, (1000, 1000)), (SLOW, (1000, 30)), (QUIET, (10, 0.5))):
        if first <= minute < first + length:
            return requests, errors
    return 1000, 0.5


def spec(objective: float, name: str = "api") -> dict:
    return {"service": JOB, "slos": [{"name": name, "objective": objective,
                                      "sli": {"ratio": {"errors": ERRORS, "total": TOTAL}}}]}


def openmetrics(start: int, minutes: int, records: dict[str, dict]) -> str:
    """Raw counters from `start` (s), and the base rates the recording rules write from them (on
    Prometheus 2, rate(x[5m]) at a whole minute reads the six samples of the last 5 minutes, exactly)
    with their hourly counts."""
    good, bad = [0.0], [0.0]
    for m in range(minutes):
        requests, errors = traffic(m)
        good.append(good[-1] + requests - errors)
        bad.append(bad[-1] + errors)
    lines = []
    for code, counter in (("200", good), ("500", bad)):
        lines += [f'http_requests_total{{code="{code}",job="{JOB}"}} {v} {start + i * MINUTE}'
                  for i, v in enumerate(counter)]
    rates = {names.errors_rate("5m"): bad, names.total_rate("5m"): [g + b for g, b in zip(good, bad)]}
    for record, labels in sorted(records.items()):
        text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        values = [(start + i * MINUTE, (rates[record][i] - rates[record][i - 5]) / 300) for i in range(5, minutes + 1)]
        lines += [f"{record}{{{text}}} {v} {t}" for t, v in values]
        # The hourly counts the rules keep of those rates, which the 1d and 3d windows read.
        lines += [f"{count}{{{text}}} {v} {t}" for count, points in evaluation.hour_counts(record, values).items()
                  for t, v in points]
    return "\n".join(lines) + "\n# EOF\n"


@pytest.fixture(scope="module")
def month(tmp_path_factory, promtool):
    """(server, data start in s, compiled rule groups of 99% and 99.9%) over 33 days of traffic."""
    work = tmp_path_factory.mktemp("backtest")
    groups = {}
    for objective in (99, 99.9):
        folder = work / f"slos-{objective}"
        folder.mkdir()
        (folder / "shop.yaml").write_text(yaml.safe_dump(spec(objective)))
        assert main(["compile", "--slos", str(folder), "--out", str(work / f"out-{objective}"),
                     "--settings", str(work / "none")]) == 0
        rules = yaml.safe_load((work / f"out-{objective}" / "prometheus" / "shop.rules.yml").read_text())
        groups[objective] = rules["groups"][0]
    records = {r["record"]: r["labels"] for r in groups[99]["rules"]
               if r.get("record") in (names.errors_rate("5m"), names.total_rate("5m"))}
    # The data runs a few minutes past now, so every backtest of this module ends inside it.
    minutes = DAYS * 1440
    start = (int(time.time()) // MINUTE + 10) * MINUTE - minutes * MINUTE
    realprom.backfill(promtool, openmetrics(start, minutes, records), work / "data", days_per_run=4)
    with realprom.running(work, [], work / "data", retention="60d") as server:
        yield server, start, groups


@pytest.fixture
def shop(tmp_path, slo) -> Repo:
    r = Repo(tmp_path / "repo", slo)
    r.write(spec(99))
    r.commit("base")
    return r


def backtest(repo: Repo, server, span: str = "30d", *args: str) -> tuple[dict, str]:
    result = repo.diff("--prometheus", server.base, "--backtest", span, "--format", "json", *args)
    assert result.code == 0, result.err
    return json.loads(result.out), result.err


def stamp(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def seconds(text: str) -> int:
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def inline(alert: dict, group: dict) -> str:
    """The alert's condition with each recorded window ratio replaced by its recording rule, labelled
    as the rule labels what it records."""
    expr = alert["expr"]
    for rule in group["rules"]:
        if rule.get("record", "").startswith("slo:sli_error:ratio_rate"):
            recorded = f"({rule['expr']})"
            for name, value in sorted(rule["labels"].items()):
                recorded = f'label_replace({recorded}, "{name}", "{value}", "", "")'
            expr = re.sub(re.escape(rule["record"]) + r"\{[^}]*\}", lambda _: recorded, expr)
    return expr


def prometheus_firings(server, group: dict, periods: list[tuple[int, int]]) -> set[tuple]:
    """(long/short, firing, resolved) of every pair: each compiled condition evaluated by Prometheus
    every minute of each period, then Prometheus' `for`. Each period starts where no condition holds."""
    found = set()
    for alert in (r for r in group["rules"] if "alert" in r and "long_window" in r["labels"]):
        hold = durations.parse(alert.get("for", "0s")) // 1000
        for first, last in periods:
            body = server.get("/api/v1/query_range", query=inline(alert, group), start=first, end=last, step=MINUTE)
            true = {int(float(ts)) for series in body["data"]["result"] for ts, _ in series["values"]}
            assert first not in true
            active = firing = None
            for t in range(first, last + MINUTE, MINUTE):
                if t in true and t <= last:
                    active = t if active is None else active
                    firing = t if firing is None and t - active >= hold else firing
                else:
                    if firing is not None:
                        found.add((f"{alert['labels']['long_window']}/{alert['labels']['short_window']}",
                                   stamp(firing), stamp(t) if t <= last else None))
                    active = firing = None
    return found


def ours(side: dict) -> set[tuple]:
    return {(f"{f['long_window']}/{f['short_window']}", f["start"], f["end"]) for f in side["firings"]}


def budget_by_hand(objective: float, data_start: int, start: int, end: int) -> tuple[float, float]:
    """(left at the end, lowest) in percent: the events of the period up to each minute of the span."""
    budget = 1 - objective / 100
    requests = [0, *itertools.accumulate(traffic(m)[0] for m in range(DAYS * 1440))]
    errors = [0, *itertools.accumulate(traffic(m)[1] for m in range(DAYS * 1440))]
    lowest, left = None, None
    for t in range(start, end + 1, MINUTE):
        last = (t - data_start) // MINUTE
        first = max(last - 30 * 1440, 0)
        ratio = (errors[last] - errors[first]) / (requests[last] - requests[first])
        left = (1 - ratio / budget) * 100
        lowest = left if lowest is None else min(lowest, left)
    return left, lowest


def test_a_tightened_objective_pages_as_the_rules_would_have(shop, month):
    server, data_start, groups = month
    change = spec(99.9)
    change["slos"].append(spec(99, "api-loose")["slos"][0])  # added: no old side
    shop.write(change)
    data, err = backtest(shop, server)
    added = data["backtest"]["shop/api-loose"]
    assert added["old"] is None and (added["new"]["pages"], added["new"]["tickets"]) == (1, 0)
    found = data["backtest"]["shop/api"]
    old, new = found["old"], found["new"]
    # By hand (see the module's docs).
    assert (old["pages"], old["tickets"], new["pages"], new["tickets"]) == (1, 0, 3, 4)
    start, end = seconds(found["start"]), seconds(found["end"])
    assert found["span"] == "30d" and end - start == 30 * 86400
    # The compiled rules, evaluated by Prometheus over each incident (from an hour before it to 13 hours
    # after it ends, beyond its last firing): the same firings, to the minute.
    incidents = [(data_start + (a - 60) * MINUTE, data_start + (a + n + 13 * 60) * MINUTE)
                 for a, n in (OUTAGE, SLOW, QUIET)]
    assert all(any(a < seconds(f["start"]) and seconds(f["end"]) < b for a, b in incidents)
               for f in old["firings"] + new["firings"])
    assert ours(old) == prometheus_firings(server, groups[99], incidents)
    assert ours(new) == prometheus_firings(server, groups[99.9], incidents)
    assert {f["long_window"] for f in old["firings"]} == {"1h"}
    assert {f["long_window"] for f in new["firings"]} == {"1h", "6h", "1d", "3d"}
    # Budget: the period's events, counted from the traffic, within a tenth of a percent of the budget
    # (the sums of 5m rates cut the period's edges a little differently).
    for side, objective in ((old, 99), (new, 99.9)):
        left, lowest = budget_by_hand(objective, data_start, start, end)
        assert abs(side["budget_left"] - left) <= 0.1 and abs(side["budget_min"] - lowest) <= 0.1
    assert round(new["budget_left"]) == -25 and old["exhausted_at"] is None
    # 0.1% of the events of the eight days before it are 5.8 minutes of the outage; the 5m rates spread it.
    outage = data_start + OUTAGE[0] * MINUTE
    assert outage + 5 * MINUTE <= seconds(new["exhausted_at"]) <= outage + 10 * MINUTE
    # Under 99% the outage's 1h window passes 14.4% once it holds 9 minutes of it (9025.5 of 60000 events),
    # which pages 2 minutes later; its 5m window is clean 5 minutes after it ends.
    outage_page = {"tier": "page", "alert": "ShopApiBudgetBurn", "long_window": "1h", "short_window": "5m", "group": "",
                   "start": stamp(outage + 11 * MINUTE), "end": stamp(outage + 25 * MINUTE)}
    assert old["firings"] == [outage_page] and old["firing_minutes"] == 14
    # Base rates over 60 days (9 queries each), the 1h raw window over 30 days and 3 hours (5 each); the
    # other side and the added SLO with the same SLI share them.
    lines = err.splitlines()
    assert lines[0] == lines[2].replace("api-loose", "api") == "slo: backtest shop/api: 28 range queries over 30d at 1m"
    assert err.splitlines()[1].startswith("slo: backtest shop/api: 28 asked (the rest were shared) in ")
    assert err.splitlines()[3].startswith("slo: backtest shop/api-loose: 0 asked (the rest were shared) in ")


def test_the_markdown_shows_old_and_new_side_by_side_and_warns(shop, month):
    server, _, _ = month
    shop.write(spec(99.9))
    result = shop.diff("--prometheus", server.base, "--backtest", "30d")
    assert result.code == 0, result.err
    md = result.out.splitlines()
    assert "| pages | 1 | 3 |" in md and "| tickets | 0 | 4 |" in md
    warnings = [line for line in md if line.startswith("- ⚠️ `shop/api`: over the last 30d")]
    assert len(warnings) == 2 and "would have paged 3 times instead of once" in warnings[1]
    assert "would have exhausted its error budget" in warnings[0] and "left at the end: −25" in warnings[0]
    assert md[md.index("First firings (old):") + 2].endswith(": page 1h/5m")


def test_a_removed_slo_is_not_backtested(shop, month):
    server, _, _ = month
    both = spec(99)
    both["slos"].append(spec(99.9, "api-strict")["slos"][0])
    shop.write(both)
    shop.commit("two")
    shop.write(spec(99))
    data, err = backtest(shop, server)
    assert [c["status"] for c in data["slos"]] == ["removed"] and data["backtest"] == {} and err == ""


def test_a_server_with_less_history_backtests_what_it_holds(shop, month):
    server, data_start, _ = month
    shop.write(spec(99.9))
    data, err = backtest(shop, server, "60d")
    found = data["backtest"]["shop/api"]
    start, end = seconds(found["start"]), seconds(found["end"])
    # The first base rate is recorded once a sample lies a minute behind.
    assert start == data_start + MINUTE and found["span"] == durations.to_text((end - start) * 1000)
    assert found["note"].startswith(f"the server holds {found['span']} of history for it (from {found['start']}), "
                                    f"not the 60d asked")
    assert f"backtest shop/api: {found['note']}" in err
    # The incidents all lie in it: the same alerts as over 30 days.
    assert (found["old"]["pages"], found["new"]["pages"], found["new"]["tickets"]) == (1, 3, 4)


def test_a_server_that_errors_is_one_line_and_exit_1(shop, month):
    server, _, _ = month
    shop.write(spec(99.9))
    # Prometheus answers 404 under a path it does not serve (a Mimir prefix sent to a Prometheus).
    result = shop.diff("--prometheus", server.base + "/prometheus", "--backtest", "30d")
    assert result.code == 1 and result.out == "" and len(result.lines) == 1
    assert result.lines[0].startswith(f"slo: diff: Prometheus at {server.base}/prometheus refused ") \
        and result.lines[0].endswith("(404 Not Found)")


def test_a_query_slower_than_the_timeout_is_one_line_and_exit_1(shop, month):
    server, _, _ = month
    shop.write(spec(99.9))
    result = shop.diff("--prometheus", server.base, "--backtest", "30d", "--timeout", "0.001")
    assert result.code == 1 and result.out == "" and len(result.lines) == 1
    assert result.lines[0].startswith(f"slo: diff: cannot query Prometheus at {server.base}: ")
    assert "timed out" in result.lines[0]


def test_backtest_needs_a_prometheus(shop):
    result = shop.diff("--backtest", "30d")
    assert result.code == 2 and "--backtest needs --prometheus URL" in result.err


def test_an_alert_fires_after_its_for_and_resolves_at_the_first_evaluation_that_fails(tmp_path):
    """Evaluation alone, on rates written here: the 1h/5m page of a 99% SLO (above 14.4%, for 2m)."""
    from compiler import backtest, pipeline
    folder = tmp_path / "slos"
    folder.mkdir()
    (folder / "shop.yaml").write_text(yaml.safe_dump(spec(99)))
    slo = pipeline.build_plan(folder, tmp_path / "none").slo("shop", "api")
    minutes = 300
    # All errors for three evaluations from minute 100, and for one at minute 200; the 1h window reads half.
    bad = {100, 101, 102, 200}
    base = ([1000.0 if m in bad else 0.0 for m in range(minutes)], [1000.0] * minutes)
    hour = ([500.0 if m in bad else 0.0 for m in range(minutes)], [1000.0] * minutes)
    history = backtest.History(0, MINUTE * 1000, {(): {slo.base: base, durations.parse("1h"): hour}})
    outcome = backtest.evaluate(slo, history, 0, (minutes - 1) * MINUTE * 1000)
    # Pending at 100, firing at 102, resolved at 103; the single evaluation at 200 never fires. The 3d/6h
    # ticket (above 1%, for 3h) reads only these 5 hours: at 100 its mean rate over 101 evaluations
    # (1000 / 101 errors a second for 3d less the 2m lag) plus the latest for the 2m lag is 1.03%.
    assert [(f.long_window, f.start, f.end) for f in outcome.firings] == [
        ("1h", stamp(102 * MINUTE), stamp(103 * MINUTE)), ("3d", stamp(280 * MINUTE), None)]
    assert (outcome.pages, outcome.tickets, outcome.firing_minutes) == (1, 1, 1 + 19)
    # 2000 errors of 102000 events by minute 101: more than 1%.
    assert outcome.exhausted_at == stamp(101 * MINUTE)
    assert outcome.budget_left == round((1 - 4000 / 300000 / 0.01) * 100, 1)


def test_the_low_traffic_guard_keeps_a_pair_from_firing_as_the_rules_do(tmp_path):
    """Evaluation alone: the same incident as above (all errors at minutes 100-102) with
    `alerting.min_events: 1000`, in three groups whose ratios are the same but whose traffic is not.
    The guard counts a 1h window as the mean of its last 60 recorded base total rates times 3600 s."""
    from compiler import backtest, pipeline
    folder = tmp_path / "slos"
    folder.mkdir()
    document = spec(99)
    document["slos"][0]["alerting"] = {"min_events": 1000}
    (folder / "shop.yaml").write_text(yaml.safe_dump(document))
    slo = pipeline.build_plan(folder, tmp_path / "none").slo("shop", "api")
    minutes, bad = 300, {100, 101, 102, 200}

    def rates(per_second: list[float]) -> dict:
        base = ([r if m in bad else 0.0 for m, r in enumerate(per_second)], per_second)
        hour = ([r / 2 if m in bad else 0.0 for m, r in enumerate(per_second)], per_second)
        return {slo.base: base, durations.parse("1h"): hour}
    # busy: 3600 events an hour; quiet: 360, under the guard for 1h but 25920 over 3d; rising: 0.1 a second
    # until minute 89, then 1, so that at minute 100 its last 60 rates count 48 x 6 + 12 x 60 = 1008 events.
    groups = {"busy": [1.0] * minutes, "quiet": [0.1] * minutes,
              "rising": [0.1 if m < 89 else 1.0 for m in range(minutes)]}
    history = backtest.History(0, MINUTE * 1000, {(("route", g),): rates(r) for g, r in groups.items()})
    outcome = backtest.evaluate(slo, history, 0, (minutes - 1) * MINUTE * 1000)
    # The 1h/5m page only: the rising group's longer windows see other ratios than the busy one's.
    pages = [(f.group, f.start, f.end) for f in outcome.firings if f.long_window == "1h"]
    assert pages == [('route="busy"', stamp(102 * MINUTE), stamp(103 * MINUTE)),
                     ('route="rising"', stamp(102 * MINUTE), stamp(103 * MINUTE))]
    tickets = {f.group: f.start for f in outcome.firings if f.long_window == "3d"}
    assert tickets['route="quiet"'] == tickets['route="busy"'] == stamp(280 * MINUTE)
    # Rising a minute later, it counts 954 events at minute 100: pending from 101, its 1h page would
    # fire at 103, when the incident is over.
    groups["rising"] = [0.1 if m < 90 else 1.0 for m in range(minutes)]
    history = backtest.History(0, MINUTE * 1000, {(("route", "rising"),): rates(groups["rising"])})
    outcome = backtest.evaluate(slo, history, 0, (minutes - 1) * MINUTE * 1000)
    assert [f for f in outcome.firings if f.long_window == "1h"] == []


def test_the_docs_examples_run(shop, month):
    """Each command of docs/backtest.md, against this repository and server."""
    server, _, _ = month
    shop.write(spec(99.9))
    text = (Path(__file__).resolve().parent.parent / "docs" / "backtest.md").read_text()
    commands = [line.split() for block in re.findall(r"```sh\n(.*?)```", text, re.S) for line in block.splitlines()]
    assert len(commands) == 2
    for words in commands:
        assert words[:3] == ["slo", "diff", "origin/main"]
        url = words.index("--prometheus") + 1
        words[url] = server.base
        result = shop.diff(*words[3:])
        assert result.code == 0 and "shop/api" in result.out, result.err
    example = json.loads(re.search(r"```json\n(.*?)```", text, re.S).group(1))
    assert set(example["backtest"]["shop/api"]) == set(json.loads(result.out)["backtest"]["shop/api"])


# --- the missing-data ticket: gaps in the raw series, replayed against promtool running the compiled rules ---

GAPS = ((60, 30), (120, 10))  # (first minute without a sample, minutes): longer and shorter than the 15m `for`
RECENT = 180  # minutes of data up to now


def counters(minute: int) -> tuple[float, float] | None:
    """(total, errors) counters at a minute of the recent data, None in a gap (no sample scraped); the
    counters keep counting through a gap, as an exporter that was not scraped does."""
    if any(first <= minute < first + length for first, length in GAPS):
        return None
    return 1000.0 * minute, 0.5 * minute


@pytest.fixture
def gaps(tmp_path):
    """(server, data start in s) with the recent counters written by remote write, one sample a minute."""
    start = (int(time.time()) // MINUTE - RECENT + 1) * MINUTE
    series: dict = {}
    for m in range(RECENT):
        if counters(m) is not None:
            total, errors = counters(m)
            for code, value in (("200", total - errors), ("500", errors)):
                labels = (("__name__", "http_requests_total"), ("code", code), ("job", JOB))
                series.setdefault(labels, []).append(((start + m * MINUTE) * 1000, value))
    with realprom.running(tmp_path, [], tmp_path / "data", extra_args=realprom.REMOTE_WRITE_ARGS) as server:
        realprom.remote_write(server.base, series)
        yield server, start


def promtool_firing(promtool: str, folder: Path, rules: Path, alert: str, minutes: list[int]) -> list[bool]:
    """Whether promtool, running the compiled rules over the same counters from time 0, has the alert
    firing at each of these minutes: each minute a promtool test of its own that expects it firing, so
    that the one that passes says which."""
    samples = [counters(m) for m in range(RECENT)]
    values = {"200": " ".join("_" if c is None else f"{c[0] - c[1]:g}" for c in samples),
              "500": " ".join("_" if c is None else f"{c[1]:g}" for c in samples)}
    firing = f'count(ALERTS{{alertname="{alert}", alertstate="firing"}})'
    found = []
    for minute in minutes:
        test = folder / f"at-{minute}.test.yml"
        test.write_text(yaml.safe_dump({"rule_files": [str(rules)], "evaluation_interval": "1m", "tests": [{
            "interval": "1m",
            "input_series": [{"series": f'http_requests_total{{code="{code}", job="{JOB}"}}', "values": v}
                             for code, v in values.items()],
            "promql_expr_test": [{"expr": firing, "eval_time": f"{minute}m",
                                  "exp_samples": [{"labels": "{}", "value": 1}]}]}]}))
        done = subprocess.run([promtool, "test", "rules", str(test)], capture_output=True, text=True)
        assert done.returncode == 0 or "exp:" in done.stdout + done.stderr, done.stdout + done.stderr
        found.append(done.returncode == 0)
    return found


def test_a_gap_longer_than_the_for_opens_the_missing_data_ticket_as_the_rule_does(shop, gaps, promtool, tmp_path):
    """By hand, on Prometheus 2 (a 5m range holds the samples of both its ends): the 5m total rate needs two
    samples, so after the last sample before a gap at minute G it is recorded up to G + 3 and absent from
    G + 4 until the second sample after the gap. The 30-minute gap at 60: absent from 64 to 90, firing
    after 15m at 79, resolved at 91. The 10-minute gap at 120 is absent from 124 to 130: never 15m."""
    server, start = gaps
    shop.write(spec(99.5))
    data, _ = backtest(shop, server, "3h")
    found = data["backtest"]["shop/api"]
    # The span starts a minute or two (as a minute passed since the data was written) before the first rate:
    # absent there too, but firing only before the span.
    assert start - MINUTE <= seconds(found["start"]) <= start and found["note"] == ""
    ticket = {"tier": "ticket", "alert": "ShopApiDataMissing", "long_window": "", "short_window": "", "group": "",
              "start": stamp(start + 79 * MINUTE), "end": stamp(start + 91 * MINUTE)}
    for side in (found["old"], found["new"]):
        assert side["firings"] == [ticket]
        assert (side["pages"], side["tickets"], side["firing_minutes"]) == (0, 1, 12)
    # The compiled rule in promtool: firing exactly from the backtest's start to the evaluation before its
    # end, and not in the short gap.
    out = tmp_path / "out"
    assert main(["compile", "--slos", str(shop.slos), "--out", str(out), "--settings", str(tmp_path / "none")]) == 0
    first, resolved = ((seconds(found["new"]["firings"][0][k]) - start) // MINUTE for k in ("start", "end"))
    minutes = [first - 1, first, resolved - 1, resolved, 130]
    assert promtool_firing(promtool, tmp_path, out / "prometheus" / "shop.rules.yml", ticket["alert"], minutes) == [
        False, True, True, False, False]
    result = shop.diff("--prometheus", server.base, "--backtest", "3h")
    at = [time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(start + m * MINUTE)) for m in (79, 91)]
    assert result.code == 0
    assert f"- {at[0]} → {at[1]}: ticket `ShopApiDataMissing` (no SLI data)" in result.out.splitlines()
