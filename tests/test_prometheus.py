"""The compiled rules in a real Prometheus (Debian package), on 127.0.0.1, with backfilled data.

Two hours of synthetic traffic at 10x each SLO's error budget are backfilled with
`promtool tsdb create-blocks-from openmetrics`; Prometheus then evaluates our rules every second.
Checked through its HTTP API: every group healthy, every SLO's error ratio right, and the tiers
below a burn rate of 10 active while those above stay quiet.
"""

import json
import re
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

from compiler import durations, pipeline, plan as planning, write
from compiler.targets import promtool_tests
from conftest import ROOT, write_spec

BURN = Decimal(10)
HISTORY_MINUTES = 120
_EXPANDING = re.compile(r"(?P<start>[-\d.]+)\+(?P<step>[-\d.]+)x(?P<count>\d+)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(base: str, path: str, **params) -> dict:
    url = f"{base}{path}?{urllib.parse.urlencode(params)}" if params else f"{base}{path}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def _openmetrics(the_plan: planning.Plan, end: int) -> str:
    """Every SLO's synthetic input (the same series its promtool tests use), one sample a minute."""
    lines = []
    for service in the_plan.services:
        for slo in service.slos:
            series, _ = promtool_tests.synthetic(slo, BURN * slo.budget, HISTORY_MINUTES)
            for item in series:
                match = _EXPANDING.fullmatch(item["values"])
                start, step = float(match["start"]), float(match["step"])
                for i in range(HISTORY_MINUTES + 1):
                    ts = end - (HISTORY_MINUTES - i) * 60
                    lines.append(f"{item['series']} {start + step * i} {ts}")
    return "\n".join(sorted(lines, key=lambda line: (line.rsplit(" ", 2)[0], int(line.rsplit(" ", 1)[1])))) \
        + "\n# EOF\n"


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory, promtool):
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is needed: run `make test` (installs it as root) or apt-get install prometheus")
    work = tmp_path_factory.mktemp("prometheus")
    settings = write_spec(work, "slo-settings.yaml", "rule_interval: 1s\n")
    the_plan = pipeline.build_plan(ROOT / "slos", settings)
    write.write(work / "output", pipeline.render(the_plan))

    data = work / "data"
    metrics = write_spec(work, "metrics.om", _openmetrics(the_plan, int(time.time()) - 30))
    subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(metrics), str(data)],
                   check=True, capture_output=True)
    rule_files = sorted(str(p) for p in (work / "output" / "prometheus").glob("*.rules.yml"))
    config = write_spec(work, "prometheus.yml", json.dumps({"rule_files": rule_files}))
    port = _free_port()
    log = (work / "prometheus.log").open("w")
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={data}",
         f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=1d"],
        stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/-/ready", timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"prometheus did not become ready: {(work / 'prometheus.log').read_text()[-2000:]}")
                time.sleep(0.2)
        time.sleep(5)  # a few evaluations of every group at 1s
        yield base, the_plan
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_every_rule_group_loads_and_evaluates_without_error(prometheus):
    base, the_plan = prometheus
    groups = _get(base, "/api/v1/rules")["data"]["groups"]
    expected = {f"slo_{s.name}_{slo.name}" for s in the_plan.services for slo in s.slos}
    assert {g["name"] for g in groups} == expected
    for group in groups:
        for rule in group["rules"]:
            assert rule["health"] == "ok" and not rule.get("lastError"), (group["name"], rule)


def test_error_ratios_match_the_traffic_in_every_window(prometheus):
    base, the_plan = prometheus
    for service in the_plan.services:
        for slo in service.slos:
            for window in map(durations.to_text, slo.windows):
                query = f'slo:sli_error:ratio_rate{window}{{slo_service="{slo.service}", slo_name="{slo.name}"}}'
                result = _get(base, "/api/v1/query", query=query)["data"]["result"]
                assert result, query
                for sample in result:
                    value = float(sample["value"][1])
                    assert abs(value / float(BURN * slo.budget) - 1) < 0.02, (query, value)


def test_tiers_below_the_burn_rate_are_active_and_the_others_quiet(prometheus):
    base, the_plan = prometheus
    alerts = _get(base, "/api/v1/alerts")["data"]["alerts"]
    active = {(a["labels"]["slo_service"], a["labels"]["slo_name"], a["labels"]["long_window"]) for a in alerts}
    expected = {(slo.service, slo.name, pair.long_text) for s in the_plan.services for slo in s.slos
                for pair in slo.pairs if pair.burn_rate < BURN}
    assert active == expected and all(a["state"] in ("pending", "firing") for a in alerts)
