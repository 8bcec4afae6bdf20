"""The compiled rules in a real Prometheus (Debian package), on 127.0.0.1, with backfilled data.

Two hours of synthetic traffic at 10x each SLO's error budget are backfilled with
`promtool tsdb create-blocks-from openmetrics`; Prometheus then evaluates our rules every second.
Checked through its HTTP API: every group healthy, every SLO's error ratio right, and the tiers
below a burn rate of 10 active while those above stay quiet.
"""

import pytest

from compiler import durations
from realprom import BURN


@pytest.fixture(scope="module")
def prometheus(slo_prometheus):
    server, the_plan, _ = slo_prometheus
    return server, the_plan


def test_every_rule_group_loads_and_evaluates_without_error(prometheus):
    server, the_plan = prometheus
    groups = server.get("/api/v1/rules")["data"]["groups"]
    expected = {f"slo_{s.name}_{slo.name}" for s in the_plan.services for slo in s.slos}
    assert {g["name"] for g in groups} == expected
    for group in groups:
        for rule in group["rules"]:
            assert rule["health"] == "ok" and not rule.get("lastError"), (group["name"], rule)


def test_error_ratios_match_the_traffic_in_every_window(prometheus):
    server, the_plan = prometheus
    for service in the_plan.services:
        for slo in service.slos:
            for window in map(durations.to_text, slo.windows):
                query = f'slo:sli_error:ratio_rate{window}{{slo_service="{slo.service}", slo_name="{slo.name}"}}'
                result = server.query(query)
                assert result, query
                for sample in result:
                    value = float(sample["value"][1])
                    assert abs(value / float(BURN * slo.budget) - 1) < 0.02, (query, value)


def test_tiers_below_the_burn_rate_are_active_and_the_others_quiet(prometheus):
    server, the_plan = prometheus
    alerts = server.get("/api/v1/alerts")["data"]["alerts"]
    active = {(a["labels"]["slo_service"], a["labels"]["slo_name"], a["labels"]["long_window"]) for a in alerts}
    expected = {(slo.service, slo.name, pair.long_text) for s in the_plan.services for slo in s.slos
                for pair in slo.pairs if pair.burn_rate < BURN}
    assert active == expected and all(a["state"] in ("pending", "firing") for a in alerts)
