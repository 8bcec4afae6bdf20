"""The compiled rules in a real Prometheus (Debian package), on 127.0.0.1, with backfilled data.

Two hours of traffic at 10x each test SLO's error budget (written out in conftest) are backfilled
with `promtool tsdb create-blocks-from openmetrics`; Prometheus then evaluates our rules every
second. Checked through its HTTP API: every group healthy, every SLO's error ratio the traffic's in
every window, and the tiers below a burn rate of 10 active while those above stay quiet.
"""

import pytest

from compiler import durations
from conftest import ERROR_RATIOS

# Per SLO, the burn rates of its tiers below 10 (SRE Workbook tiers over 30d: 14.4, 6, 3, 1; over
# 28d: 13.44, 5.6, 2.8, 0.933; over 7d with tickets off: 13.44, 5.6).
ACTIVE = {("payments", "api-availability"): {"6", "3", "1"}, ("payments", "api-latency"): {"5.6", "2.8", "0.933"},
          ("platform", "ingress-probe"): {"6", "3", "1"}, ("platform", "queue-delivery"): {"5.6"}}


@pytest.fixture(scope="module")
def prometheus(slo_prometheus):
    server, the_plan, _ = slo_prometheus
    return server, the_plan


def test_every_rule_group_loads_and_evaluates_without_error(prometheus):
    server, the_plan = prometheus
    groups = server.get("/api/v1/rules")["data"]["groups"]
    assert {g["name"] for g in groups} == {f"slo_{service}_{name}" for service, name in ERROR_RATIOS}
    for group in groups:
        for rule in group["rules"]:
            assert rule["health"] == "ok" and not rule.get("lastError"), (group["name"], rule)


def test_error_ratios_match_the_traffic_in_every_window(prometheus):
    server, the_plan = prometheus
    for service in the_plan.services:
        for slo in service.slos:
            expected = ERROR_RATIOS[slo.service, slo.name]
            for window in map(durations.to_text, slo.windows):
                query = f'slo:sli_error:ratio_rate{window}{{slo_service="{slo.service}", slo_name="{slo.name}"}}'
                result = server.query(query)
                assert result, query
                for sample in result:
                    value = float(sample["value"][1])
                    assert abs(value / expected - 1) < 0.02, (query, value)


def test_tiers_below_the_burn_rate_are_active_and_the_others_quiet(prometheus):
    server, _ = prometheus
    alerts = server.get("/api/v1/alerts")["data"]["alerts"]
    active = {}
    for alert in alerts:
        labels = alert["labels"]
        active.setdefault((labels["slo_service"], labels["slo_name"]), set()).add(labels.get("burn_rate"))
    assert active == ACTIVE and all(a["state"] in ("pending", "firing") for a in alerts)
