"""End to end on the real VictoriaMetrics and vmalert: the rules compiled for `engine: victoriametrics`
over a day of history and live traffic, beside a real Prometheus running their Prometheus form on the
same samples.

The test writes every sample itself, by remote write to both servers: a day of counters whose error
ratio changes every hour, then one sample per scrape interval, written a few seconds before its
timestamp so that every evaluation of either engine sees the same samples. vmalert's replay fills
the day of recorded base rates that the 6h and 1d windows read (the recipe of
docs/victoriametrics.md). Then: the recorded ratios against the exact ratios of the written counters,
no NaN, a full outage paging within one evaluation of the time `slo explain` predicts on both engines,
and the missing-data ticket of an SLI without series.
"""

import json
import math
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

import realprom
from compiler import durations, names, pipeline, plan, write
from conftest import DATA
from harness import victoriametrics as vm

SLOS, SETTINGS = DATA / "victoriametrics" / "slos", DATA / "victoriametrics" / "slo-settings.yaml"
STEP = 10  # seconds: the settings' rule and scrape interval
RATE = 10.0  # requests a second
HISTORY = 25 * 3600
AHEAD = 3  # seconds before its timestamp that a sample is written
HOURLY_ERRORS = (0.00005, 0.0002, 0.0001, 0.00015)  # by hour: all below every tier of 99.99%
JOB = {"__name__": "http_requests_total", "job": "shop"}


class Traffic:
    """The counters the test writes: RATE requests a second, a share of them errors that changes every
    clock hour, and all of them from `outage` on."""

    def __init__(self, origin: int):
        self.origin = origin
        self.outage = math.inf

    def _error_share(self, start: float, end: float) -> float:
        """Errors among the requests of (start, end], one clock hour at most."""
        if start >= self.outage:
            return 1.0
        return HOURLY_ERRORS[int(start // 3600) % len(HOURLY_ERRORS)]

    def errors(self, t: float) -> float:
        """Error requests since the origin, exactly: the integral over each hour (and the outage)."""
        total, at = 0.0, float(self.origin)
        while at < t:
            end = min(t, (at // 3600 + 1) * 3600, self.outage if at < self.outage else math.inf)
            total += RATE * (end - at) * self._error_share(at, end)
            at = end
        return total

    def ratio(self, start: float, end: float) -> float:
        return (self.errors(end) - self.errors(start)) / (RATE * (end - start))

    def samples(self, times) -> dict:
        errors = [(int(t * 1000), self.errors(t)) for t in times]
        ok = [(ms, RATE * (ms / 1000 - self.origin) - e) for ms, e in errors]
        return {tuple(sorted({**JOB, "code": "500"}.items())): errors,
                tuple(sorted({**JOB, "code": "200"}.items())): ok}


class Writer(threading.Thread):
    """Writes the sample of each scrape step to every server, AHEAD seconds before its timestamp."""

    def __init__(self, traffic: Traffic, bases: list[str], after: int):
        super().__init__(daemon=True)
        self.traffic, self.bases, self.next, self.stopped = traffic, bases, after + STEP, threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(max(0.0, self.next - AHEAD - time.time())):
            for base in self.bases:
                realprom.remote_write(base, self.traffic.samples([self.next]))
            self.next += STEP


def _base_rates(rule_file: Path, slo: plan.SLOPlan, into: Path) -> Path:
    """The rule file with the base rate records alone: what replay can fill (see the docs)."""
    keep = {names.errors_rate(slo.base_text), names.total_rate(slo.base_text)}
    groups = [{**g, "rules": [r for r in g["rules"] if r.get("record") in keep]} for g in
              yaml.safe_load(rule_file.read_text())["groups"]]
    into.write_text(yaml.safe_dump({"groups": groups}))
    return into


@pytest.fixture(scope="module")
def engines(tmp_path_factory, vmalert, promtool):
    work = tmp_path_factory.mktemp("victoriametrics")
    the_plan = pipeline.build_plan(SLOS, SETTINGS)
    write.write(work / "output", pipeline.render(the_plan))
    slo = the_plan.slo("shop", "availability")
    end = int(time.time()) // STEP * STEP
    traffic = Traffic(end - HISTORY)
    history = traffic.samples(range(end - HISTORY, end + 1, STEP))
    vmalert_rules = work / "output" / names.output_path(names.VMALERT_RULES, service="shop")
    prometheus_rules = [work / "output" / names.slo_rules_path("shop", s.name) for s in the_plan.services[0].slos]
    with vm.victoria_metrics(work) as victoria, \
            realprom.running(work, prometheus_rules, work / "prom-data", extra_args=realprom.REMOTE_WRITE_ARGS) as prom:
        for base in (victoria.base, prom.base):
            realprom.remote_write(base, history)
        vm.replay(work, [_base_rates(vmalert_rules, slo, work / "base-rates.yml")], victoria.base,
                  end - HISTORY + slo.base // 1000, end, f"{STEP}s")
        writer = Writer(traffic, [victoria.base, prom.base], end)
        writer.start()
        try:
            with vm.vmalert(work, [vmalert_rules], victoria.base) as alerts:
                yield the_plan, traffic, victoria, prom, alerts, work / "output"
        finally:
            writer.stopped.set()
            writer.join()


def _latest(server, selector: str, timeout: float = 60) -> tuple[float, float]:
    """The newest sample of the one series of `selector` in the last minute. vmalert stores its results
    by remote write, seconds after an evaluation, so a record deeper in the chain may arrive a little later."""
    deadline = time.monotonic() + timeout
    while not (found := list(vm.series(server, selector, "1m").values())) and time.monotonic() < deadline:
        time.sleep(1)
    (samples,) = found
    return samples[-1]


def test_recorded_ratios_match_the_written_counters(engines):
    the_plan, traffic, victoria, _, alerts, _ = engines
    realprom.wait_evaluated(alerts, 3, 60)
    for window in ("1h", "6h", "1d"):
        at, value = _latest(victoria, f'{names.error_ratio(window)}{{{names.SLO}="availability"}}')
        exact = traffic.ratio(at - durations.parse(window) // 1000, at)
        assert value == pytest.approx(exact, rel=0.02), (window, at, value, exact)


def _first_firing(server, alert: str, since: float, **labels: str) -> float | None:
    matchers = ", ".join(f'{k}="{v}"' for k, v in {"alertname": alert, "alertstate": "firing", **labels}.items())
    found = vm.series(server, f"ALERTS{{{matchers}}}", "10m")
    times = [t for samples in found.values() for t, _ in samples if t >= since]
    return min(times) if times else None


def test_a_full_outage_pages_when_explain_says_on_vmalert_and_prometheus_alike(engines):
    the_plan, traffic, victoria, prom, _, _ = engines
    slo = the_plan.slo("shop", "availability")
    page = next(p for p in slo.pairs if p.long_text == "1h")
    settings = the_plan.settings
    predicted = plan.time_to_fire(slo, page, Decimal(1), settings.rule_interval, settings.scrape_interval) / 1000
    start = math.ceil(time.time() / STEP) * STEP  # no sample after it is written yet
    traffic.outage = start
    fired = {}
    deadline = time.time() + AHEAD + predicted + 6 * STEP
    while len(fired) < 2 and time.time() < deadline:
        time.sleep(2)
        for name, server in (("vmalert", victoria), ("prometheus", prom)):
            at = _first_firing(server, slo.alert, start, long_window="1h")
            if at is not None:
                fired[name] = at - start
    assert set(fired) == {"vmalert", "prometheus"}, (fired, predicted)
    # Each within the evaluation in which the model says it fires.
    for name, after in fired.items():
        assert predicted <= after < predicted + STEP, (name, after, predicted)


def test_an_sli_without_series_tickets_as_missing_data(engines):
    the_plan, _, victoria, prom, alerts, _ = engines
    slo = the_plan.slo("shop", "gone")
    deadline = time.time() + slo.missing_data.for_ / 1000 + 6 * STEP
    while time.time() < deadline:
        firing = [a for a in alerts.get("/api/v1/alerts")["data"]["alerts"]
                  if a["name"] == slo.missing_data.alert and a["state"] == "firing"]
        if firing and _first_firing(prom, slo.missing_data.alert, 0):
            break
        time.sleep(2)
    else:
        pytest.fail(f"{slo.missing_data.alert} did not fire on both engines")
    assert json.loads(json.dumps(firing[0]["labels"]))[names.TIER] == names.TICKET


def test_every_recorded_series_has_values_and_none_is_nan(engines):
    """After the outage, and the evaluations it took: the budget left is the fifth level of reads (base
    rates, hourly counts, period ratio, period burn rate), each an evaluation after the one below."""
    _, _, victoria, _, alerts, out = engines
    realprom.wait_evaluated(alerts, 2, 60)
    groups = yaml.safe_load((out / names.output_path(names.VMALERT_RULES, service="shop")).read_text())["groups"]
    records = {r["record"] for g in groups if g["name"] == names.group("shop", "availability")
               for r in g["rules"] if "record" in r}
    once_an_hour = {names.errors_count(names.LAST_HOUR), names.total_count(names.LAST_HOUR)}
    assert len(records - once_an_hour) > 10
    for record in sorted(records):
        found = vm.series(victoria, f'{record}{{{names.SLO}="availability"}}', "1m")
        values = [v for samples in found.values() for _, v in samples]
        assert values or record in once_an_hour, record
        assert all(math.isfinite(v) for v in values), (record, found)


def test_push_writes_the_rule_folder_of_vmalert_reloads_it_and_sees_every_group(engines, slo, tmp_path):
    the_plan, _, victoria, _, _, out = engines
    rules = tmp_path / "rules"
    rules.mkdir()
    with vm.vmalert(tmp_path, [rules / "*.rules.yml"], victoria.base) as server:
        def push():
            return slo("push", "rules", "--prometheus-dir", rules, "--reload-url", f"{server.base}/-/reload",
                       "--out", out, "--wait", "30")
        result = push()
        assert result.code == 0, result.err
        assert result.out.splitlines()[0] == "created rule file shop.rules.yml"
        assert (rules / "shop.rules.yml").read_bytes() == (out / "vmalert" / "shop.rules.yml").read_bytes()
        listed = {g["name"]: g for g in server.get("/api/v1/rules")["data"]["groups"]}
        assert set(listed) == {names.group("shop", s.name) for s in the_plan.services[0].slos}
        assert all(r["health"] == "ok" for g in listed.values() for r in g["rules"])
        again = push()
        assert again.code == 0 and again.out.splitlines() == [
            "vmalert: 0 created, 0 updated, 0 deleted, 1 unchanged, 0 failed"], again.out
