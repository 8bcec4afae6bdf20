"""Alerts end to end: a real Prometheus evaluates the compiled rules over backfilled traffic and sends
to a real Alertmanager (Debian package `prometheus-alertmanager`) configured with the compiled route
subtree and inhibit rules (`slo alertmanager merge`), which delivers to webhook receivers in this
test. Both run on free ports of 127.0.0.1 and are always stopped.

Two hours of traffic: route /outage failing every request, route /pay at 10x the error budget,
route /browse without errors, and an SLO whose series were never exported. Tiers are written without
`for` so that alerts fire at the first evaluation; the timing of `for` is what the generated
promtool tests check.
"""

import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import yaml

import realprom
from compiler import alertmanager
from conftest import write_spec

SPEC = """\
service: shop
owner: team-shop
labels: {team: shop}
slos:
  - name: availability
    objective: 99.9
    sli:
      ratio:
        errors: http_requests_total{job="shop", code="500"}
        total: http_requests_total{job="shop"}
        group_by: [route]
  - name: jobs
    objective: 99
    sli:
      ratio:
        errors: jobs_failed_total{job="worker"}
        total: jobs_total{job="worker"}
"""
SETTINGS = """\
rule_interval: 1s
runbook_base_url: https://runbooks.example.com/slo
grafana_url: https://grafana.example.com
missing_data_for: 2s
tiers:
  - {severity: page, budget_spent: 2, long: 1h, short: 5m}
  - {severity: page, budget_spent: 5, long: 6h, short: 30m}
  - {severity: ticket, budget_spent: 10, long: 1d, short: 2h}
  - {severity: ticket, budget_spent: 10, long: 3d, short: 6h}
alertmanager:
  page: {receiver: page, group_wait: 2s, group_interval: 1s, repeat_interval: 1h}
  ticket: {receiver: ticket, group_wait: 4s, group_interval: 1s, repeat_interval: 1h}
  teams:
    team-shop: {page: shop-pager}
"""
MINUTES = 120
# Requests and errors per minute by route: /pay at 1% errors, 10x a 99.9% SLO's budget.
ROUTES = {"/outage": (1000, 1000), "/pay": (1000, 10), "/browse": (1000, 0)}


def openmetrics(end: int) -> str:
    lines = []
    for route, (requests, errors) in ROUTES.items():
        for code, per_minute in (("200", requests - errors), ("500", errors)):
            if per_minute:
                lines += [f'http_requests_total{{job="shop",route="{route}",code="{code}"}} {per_minute * m} '
                          f'{end - (MINUTES - m) * 60}' for m in range(MINUTES + 1)]
    return "\n".join(sorted(lines, key=lambda line: (line.rsplit(" ", 2)[0], int(line.rsplit(" ", 1)[1])))) \
        + "\n# EOF\n"


class Webhook:
    """Collects what Alertmanager posts: each notification, and its alerts by receiver path."""

    def __init__(self):
        self.received: dict[str, list[dict]] = {}
        self.notifications: list[tuple[str, dict]] = []
        received, notifications = self.received, self.notifications

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                notifications.append((self.path, body))
                received.setdefault(self.path, []).extend(body["alerts"])
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts(self, path: str) -> list[dict]:
        return list(self.received.get(path, []))


def alertmanager_config(webhook: Webhook) -> dict:
    """The team's own configuration, before the SLO routes are merged in: a receiver per webhook path,
    and a route by severity that SLO alerts must no longer take."""
    receivers = [{"name": name, "webhook_configs": [{"url": f"{webhook.url}/{name}", "send_resolved": False}]}
                 for name in ("default", "page", "ticket", "shop-pager")]
    return {"route": {"receiver": "default", "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h",
                      "routes": [{"receiver": "default", "matchers": ['severity="critical"']}]},
            "receivers": receivers}


@pytest.fixture(scope="module")
def delivered(tmp_path_factory, promtool):
    from compiler.cli import main
    work = tmp_path_factory.mktemp("alertmanager")
    write_spec(work / "slos", "shop.yaml", SPEC)
    settings = write_spec(work, "slo-settings.yaml", SETTINGS)
    assert main(["compile", "--slos", str(work / "slos"), "--out", str(work / "out"), "--settings", str(settings)]) == 0
    realprom.backfill(promtool, openmetrics(int(time.time()) - 30), work / "data")
    webhook = Webhook()
    (work / "team.yml").write_text(yaml.safe_dump(alertmanager_config(webhook)))
    (work / "alertmanager.yml").write_bytes(alertmanager.merged_text(work / "team.yml", work / "out"))
    with realprom.alertmanager(work, work / "alertmanager.yml") as base:
        try:
            target = base.removeprefix("http://")
            alerting = {"alerting": {"alertmanagers": [{"static_configs": [{"targets": [target]}]}]}}
            # Alerts of the first evaluations go nowhere until the Alertmanager is discovered: resend them soon.
            # Not sooner than 6s: Prometheus sends an alert as valid for 4 resend delays, and a pause of the
            # machine longer than that ends a page in the Alertmanager and releases its muted tickets (at
            # 3s, a 12s pause did so on a machine running two promtool processes per core).
            with realprom.running(work, [work / "out" / "prometheus" / "shop.rules.yml"], work / "data",
                                  alerting, ("--rules.alert.resend-delay=6s",)) as server:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and not (
                        any(a["labels"]["alertname"] == "ShopJobsDataMissing" for a in webhook.alerts("/ticket"))
                        and len(webhook.alerts("/shop-pager")) >= 2):
                    time.sleep(0.5)
                # Long enough for tickets that were not muted to pass their group_wait.
                time.sleep(5)
                yield server, webhook, base
        finally:
            webhook.server.shutdown()


def test_every_rule_group_is_healthy(delivered):
    server, _, _ = delivered
    groups = server.get("/api/v1/rules")["data"]["groups"]
    assert {g["name"] for g in groups} == {"slo_shop_availability", "slo_shop_jobs"}
    for group in groups:
        for rule in group["rules"]:
            assert rule["health"] == "ok" and not rule.get("lastError"), (group["name"], rule)


def test_only_the_burning_groups_alert_and_no_series_is_nan(delivered):
    server, _, _ = delivered
    firing = {(a["labels"].get("route"), a["labels"]["long_window"]) for a in server.get("/api/v1/alerts")["data"]["alerts"]
              if a["labels"]["alertname"] == "ShopAvailabilityBudgetBurn" and a["state"] == "firing"}
    # 10x the budget is above the burn rates 6, 3 and 1, below 14.4; the outage above all.
    assert firing == {("/pay", "6h"), ("/pay", "1d"), ("/pay", "3d"),
                      ("/outage", "1h"), ("/outage", "6h"), ("/outage", "1d"), ("/outage", "3d")}
    values = [float(s["value"][1]) for s in server.query('{__name__=~"slo:.+"}')]
    assert values and all(v == v and abs(v) != float("inf") for v in values)


def test_a_full_outage_delivers_one_page_to_the_teams_pager_and_no_ticket(delivered):
    _, webhook, _ = delivered
    outage = [(path, body) for path, body in webhook.notifications if body["groupLabels"].get("route") == "/outage"]
    assert [path for path, _ in outage] == ["/shop-pager"]
    assert [(a["labels"]["slo_severity"], a["labels"]["long_window"]) for a in outage[0][1]["alerts"]] == [("page", "1h")]
    assert outage[0][1]["groupLabels"] == {"slo_service": "shop", "slo_name": "availability", "route": "/outage"}


def test_the_slower_alerts_of_the_outage_are_muted_in_alertmanager(delivered):
    _, _, base = delivered
    with urllib.request.urlopen(f"{base}/api/v2/alerts?filter=route%3D%22%2Foutage%22") as response:
        states = {a["labels"]["long_window"]: a["status"]["state"] for a in json.load(response)}
    assert states == {"1h": "active", "6h": "suppressed", "1d": "suppressed", "3d": "suppressed"}


def test_a_page_reaches_the_teams_pager_with_its_links(delivered):
    _, webhook, _ = delivered
    assert not webhook.alerts("/page") and not webhook.alerts("/default")
    pages = webhook.alerts("/shop-pager")
    assert pages and {a["labels"]["slo_severity"] for a in pages} == {"page"}
    page = next(a for a in pages if a["labels"]["route"] == "/pay")
    assert page["labels"]["long_window"] == "6h"
    assert page["labels"]["severity"] == "critical" and page["labels"]["route"] == "/pay"
    assert page["annotations"]["runbook_url"] == \
        "https://runbooks.example.com/slo/runbooks/shop/shop-availability-budget-burn-page.md"
    assert page["annotations"]["dashboard_url"].startswith("https://grafana.example.com/d/slo-shop")


def test_the_missing_data_ticket_reaches_the_ticket_receiver_and_burn_tickets_are_muted(delivered):
    _, webhook, _ = delivered
    tickets = webhook.alerts("/ticket")
    assert {a["labels"]["slo_severity"] for a in tickets} == {"ticket"}
    assert {a["labels"]["severity"] for a in tickets} == {"warning"}
    assert {a["labels"]["alertname"] for a in tickets} == {"ShopJobsDataMissing"}
    missing = [a for a in tickets if a["labels"]["alertname"] == "ShopJobsDataMissing"]
    assert missing and missing[0]["labels"]["slo_name"] == "jobs" and missing[0]["labels"]["team"] == "shop"
    assert missing[0]["annotations"]["runbook_url"].startswith("https://runbooks.example.com/slo/runbooks/shop/")
    assert not [a for a in tickets if a["labels"]["alertname"] == "ShopAvailabilityDataMissing"]
