"""Long windows are cheap and still exact: recorded ratios against the exact ratio of the raw series.

Four days of raw counters are backfilled into a real Prometheus (`promtool tsdb create-blocks-from
openmetrics`), then the base-window rates as production would have recorded them
(`create-blocks-from rules`, at the rules' 1m interval), and the hourly counts of them that the 1d
and 3d windows read (replayed, since they read their own earlier values). Each `slo:sli_error:ratio_rate<W>` rule is
then evaluated where a base rate was recorded, as the ruler evaluates the group there, and compared
with `sum(rate(errors[W])) / sum(rate(total[W]))` over the raw series at that instant, under steady
traffic and under busy hours at 0.1% errors alternating with quiet hours at 5%, where an average of
5m ratios is off by more than a factor of ten.

Windows are compared in the middle of a phase and right after the traffic swings: the base window
and the 1h page window read the raw series and are exact at every instant; longer ones count events
from the recorded rates, exact once traffic has been steady for one base window, and within their
bounds right after a hundredfold swing too. The 30m short window is left out: it only sets how fast
the 6h page resets, and for the 5 minutes after such a swing it still follows it.
"""

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

import realprom
from bench import evaluation
from compiler import durations, names
from conftest import write_spec

DAYS = 4
# Seconds before the end (mid-phase) where windows are compared: there, one and two minutes after a
# swing of traffic, and one minute before one.
INSTANTS = (0, 28 * 60, 29 * 60, 31 * 60)
# Requests and errors per minute, by the hour of day: steady traffic, and busy hours at 0.1% errors
# alternating with quiet hours at 5%.
TRAFFIC = {"steady": lambda hour: (1000, 2), "uneven": lambda hour: (6000, 6) if hour % 2 else (60, 3)}
SPEC = "service: shop\nslos:\n" + "".join(f"""\
  - name: {job}
    objective: 99.9
    sli:
      ratio:
        errors: http_requests_total{{job="{job}", code="500"}}
        total: http_requests_total{{job="{job}"}}
""" for job in TRAFFIC)


def tolerance(window: int) -> float:
    if window >= durations.parse("1d"):
        return 0.02
    return 0.05 if window >= durations.parse("6h") else 0.10


def openmetrics(end: int) -> str:
    """Per job, a good and an error counter, one sample a minute for DAYS days up to `end` (seconds)."""
    minutes = DAYS * 24 * 60
    lines = []
    for job, traffic in TRAFFIC.items():
        for code in ("200", "500"):
            value = 0
            for minute in range(minutes + 1):
                ts = end - (minutes - minute) * 60
                lines.append(f'http_requests_total{{job="{job}",code="{code}"}} {value} {ts}')
                requests, errors = traffic(ts // 3600)
                value += errors if code == "500" else requests - errors
    return "\n".join(lines) + "\n# EOF\n"


def backfill_rules(promtool: str, server: realprom.Prometheus, groups: list[dict], start: int, end: int,
                   work: Path, data: Path) -> None:
    """Record `groups` over [start, end] from what `server` holds, into new blocks under `data`."""
    rules = work / "backfill.rules.yml"
    rules.write_text(yaml.safe_dump({"groups": groups}))
    out = work / "backfill-blocks"
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([promtool, "tsdb", "create-blocks-from", "rules", f"--url={server.base}", f"--start={start}",
                    f"--end={end}", f"--output-dir={out}", "--quiet", str(rules)], check=True, capture_output=True)
    for block in out.iterdir():
        block.rename(data / block.name)


def only(groups: list[dict], keep) -> list[dict]:
    return [{**g, "interval": "1m", "rules": [r for r in g["rules"] if keep(r.get("record", ""))]} for g in groups]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, promtool):
    """Prometheus over the raw history and the recorded base rates; the end time; the rules."""
    from compiler.cli import main
    work = tmp_path_factory.mktemp("accuracy")
    write_spec(work / "slos", "shop.yaml", SPEC)
    assert main(["compile", "--slos", str(work / "slos"), "--out", str(work / "out"),
                 "--settings", str(work / "none")]) == 0
    groups = yaml.safe_load((work / "out" / "prometheus" / "shop.rules.yml").read_text())["groups"]
    end = int(time.time()) // 3600 * 3600 - 1800  # mid-hour, so each window ends inside a phase
    start = end - DAYS * 86400
    data = work / "data"
    realprom.backfill(promtool, openmetrics(end), data)
    base = {names.errors_rate("5m"), names.total_rate("5m")}
    with realprom.running(work, [], data) as server:
        backfill_rules(promtool, server, only(groups, base.__contains__), start, end, work, data)
    with realprom.running(work, [], data) as server:
        counts = hour_counts(server, base, end)
    realprom.backfill(promtool, counts, data)
    with realprom.running(work, [], data) as server:
        yield server, end, {r["labels"][names.SLO] + r["record"]: r["expr"] for g in groups for r in g["rules"]
                            if r.get("record", "").startswith("slo:sli_error:ratio_rate")}


def hour_counts(server: realprom.Prometheus, rates: set[str], end: int) -> str:
    """OpenMetrics of the hourly counts the rules would have recorded from the recorded base rates
    (they read their own earlier values, which `create-blocks-from rules` cannot backfill), replayed
    as the benchmark replays them (`bench.evaluation.hour_counts`, checked against promtool)."""
    lines = []
    for rate in sorted(rates):
        for series in server.query(f"{rate}[{DAYS + 1}d]", time=end):
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(series["metric"].items()) if k != "__name__")
            lines += [f"{record}{{{labels}}} {v} {t}" for record, values in evaluation.hour_counts(rate, series["values"]).items()
                      for t, v in values]
    return "\n".join(lines) + "\n# EOF\n"


def value(server: realprom.Prometheus, expr: str, at: float) -> float:
    result = server.query(expr, time=at)
    assert len(result) == 1, (expr, json.dumps(result))
    return float(result[0]["value"][1])


def exact(job: str, window: str) -> str:
    return (f'sum(rate(http_requests_total{{job="{job}", code="500"}}[{window}])) / '
            f'sum(rate(http_requests_total{{job="{job}"}}[{window}]))')


@pytest.mark.parametrize("job", sorted(TRAFFIC))
@pytest.mark.parametrize("window", ["5m", "1h", "2h", "6h", "1d", "3d"])
def test_recorded_ratio_is_the_exact_ratio_of_the_raw_series(recorded, job, window):
    server, end, rules = recorded
    for before in INSTANTS:
        # The backfill evaluates at its own phase within the minute: the instant of a recorded rate.
        at = value(server, f'timestamp({names.total_rate("5m")}{{slo_name="{job}"}})', end - before)
        ours = value(server, rules[job + names.error_ratio(window)], at)
        truth = value(server, exact(job, window), at)
        assert abs(ours / truth - 1) <= tolerance(durations.parse(window)), (before, ours, truth)


def test_an_average_of_5m_ratios_would_be_off_by_more_than_ten_times(recorded):
    server, end, rules = recorded
    at = value(server, f'timestamp({names.total_rate("5m")}{{slo_name="uneven"}})', end)
    average = value(server, f'avg_over_time(({exact("uneven", "5m")})[1d:5m])', at)
    truth = value(server, exact("uneven", "1d"), at)
    ours = value(server, rules["uneven" + names.error_ratio("1d")], at)
    assert average / truth > 10 and abs(ours / truth - 1) <= 0.02, (average, ours, truth)
