"""The compiled Alertmanager route subtree and inhibit rules: merged into a configuration that amtool
accepts, routing that `amtool config routes test` confirms, settings refused at their place, and a
real Alertmanager (Debian package `prometheus-alertmanager`, on a free port of 127.0.0.1) muting the
tickets of a paging SLO and nothing else."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

import realprom
from compiler import durations, load, pipeline, write, yamlpos
from compiler.spec import Settings
from conftest import ROOT, SLOS, shared, write_spec

BASE = """\
route:
  receiver: default
  routes:
    - matchers: ['severity="critical"']
      receiver: oncall
receivers:
  - name: default
  - name: oncall
  - name: slo-pages
  - name: slo-tickets
  - name: payments-pager
inhibit_rules:
  - source_matchers: ['alertname="NodeDown"']
    target_matchers: ['alertname="DiskFull"']
    equal: [instance]
"""
SETTINGS = """\
alertmanager:
  page: {receiver: slo-pages}
  ticket: {receiver: slo-tickets}
  teams:
    team-payments: {page: payments-pager}
"""


def amtool() -> str:
    path = shutil.which("amtool")
    if path is None:
        pytest.fail("amtool is needed: run `make test` (installs it as root) or apt-get install prometheus-alertmanager")
    return path


def compiled(tmp_path: Path, slos: Path, settings_text: str = SETTINGS) -> Path:
    settings = write_spec(tmp_path, "slo-settings.yaml", settings_text)
    out = tmp_path / "out"
    write.write(out, pipeline.render(pipeline.build_plan(slos, settings)))
    return out


def merged(slo, tmp_path: Path, out: Path, base: str = BASE) -> dict:
    config = write_spec(tmp_path, "alertmanager.yml", base)
    result = slo("alertmanager", "merge", "--config", config, "--out", out)
    assert result.code == 0, result.err
    (tmp_path / "merged.yml").write_text(result.out)
    return yaml.safe_load(result.out)


@pytest.mark.parametrize("folder", [("slos",), ("shared", "examples")], ids=("slos", "shared-examples"))
def test_amtool_accepts_the_merged_configuration_of_every_example(slo, tmp_path, folder):
    slos = SLOS if folder == ("slos",) else shared(*folder[1:])
    config = merged(slo, tmp_path, compiled(tmp_path, slos))
    result = subprocess.run([amtool(), "check-config", str(tmp_path / "merged.yml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    plan = pipeline.build_plan(slos, tmp_path / "slo-settings.yaml")
    slos_with_pages = [s for sp in plan.services for s in sp.slos if "page" in s.tiers]
    # Page mutes tickets, and the faster pair the slower in both tiers, for every SLO with both tiers.
    assert len(config["inhibit_rules"]) >= 1 + len(slos_with_pages)
    assert f"- {len(config['inhibit_rules'])} inhibit rules" in result.stdout


def routes_test(config: Path, receiver: str, *labels: str) -> subprocess.CompletedProcess:
    return subprocess.run([amtool(), "config", "routes", "test", f"--config.file={config}",
                           f"--verify.receivers={receiver}", *labels], capture_output=True, text=True)


def test_a_teams_page_reaches_its_pager_and_tickets_the_ticket_receiver(slo, tmp_path):
    merged(slo, tmp_path, compiled(tmp_path, SLOS))
    config = tmp_path / "merged.yml"
    payments = ("slo_service=payments", "slo_name=api-availability", "team=payments")
    cases = [
        ("payments-pager", (*payments, "slo_severity=page", "severity=critical", "long_window=1h")),
        ("slo-tickets", (*payments, "slo_severity=ticket", "severity=warning", "long_window=1d")),
        # A team without a receiver of its own: the default page receiver, not the user's severity route.
        ("slo-pages", ("slo_service=platform", "slo_name=ingress-probe", "slo_severity=page", "severity=critical")),
        # Not ours: the configuration's own routes are untouched.
        ("oncall", ("alertname=NodeDown", "severity=critical")),
        ("default", ("alertname=DiskFull",)),
    ]
    for receiver, labels in cases:
        result = routes_test(config, receiver, *labels)
        assert result.returncode == 0, (receiver, labels, result.stdout + result.stderr)
    # The check can fail: the page is not delivered to the ticket receiver.
    assert routes_test(config, "slo-tickets", *cases[0][1]).returncode != 0


def test_teams_by_an_alert_label(slo, tmp_path):
    settings = SETTINGS.replace("  teams:\n    team-payments:", "  team_label: team\n  teams:\n    payments:")
    merged(slo, tmp_path, compiled(tmp_path, SLOS, settings))
    labels = ("slo_service=payments", "slo_name=api-availability", "slo_severity=page")
    assert routes_test(tmp_path / "merged.yml", "payments-pager", *labels, "team=payments").returncode == 0
    assert routes_test(tmp_path / "merged.yml", "slo-pages", *labels, "team=search").returncode == 0


def test_merging_again_replaces_what_was_merged_and_keeps_the_rest(slo, tmp_path):
    out = compiled(tmp_path, SLOS)
    first = merged(slo, tmp_path, out)
    again = slo("alertmanager", "merge", "--config", tmp_path / "merged.yml", "--out", out)
    assert again.code == 0 and again.out == (tmp_path / "merged.yml").read_text()
    # After a settings change the earlier subtree is replaced, not kept next to the new one.
    out = compiled(tmp_path / "changed", SLOS, SETTINGS.replace("slo-tickets", "default"))
    changed = yaml.safe_load(slo("alertmanager", "merge", "--config", tmp_path / "merged.yml", "--out", out).out)
    routes = changed["route"]["routes"]
    assert len(routes) == 2 and routes[1] == {"matchers": ['severity="critical"'], "receiver": "oncall"}
    assert routes[0]["routes"][1]["receiver"] == "default"
    assert changed["inhibit_rules"][0]["source_matchers"] == ['alertname="NodeDown"']
    assert changed["inhibit_rules"] == first["inhibit_rules"]


def test_a_configuration_lacking_a_receiver_or_the_root_route_is_refused_at_its_place(slo, tmp_path):
    out = compiled(tmp_path, SLOS)
    config = write_spec(tmp_path, "am.yml", "route:\n  receiver: default\nreceivers:\n  - name: default\n")
    result = slo("alertmanager", "merge", "--config", config, "--out", out)
    assert result.code == 1 and result.out == ""
    assert result.lines == [
        f"{config}:3:1: receivers: has no receiver {name!r}, which the SLO routes name (settings: alertmanager); "
        f"define it here" for name in ("payments-pager", "slo-pages", "slo-tickets")]
    write_spec(tmp_path, "am.yml", "receivers: []\n")
    assert slo("alertmanager", "merge", "--config", config, "--out", out).lines == [
        f"{config}:1:1: route: needs the root route (a mapping): the SLO routes go under it"]


def test_settings_are_checked_at_their_place(slo, tmp_path):
    settings = write_spec(tmp_path, "slo-settings.yaml", """\
alertmanager:
  page: {group_interval: 1h, repeat_interval: 30m}
  ticket: {receiver: ""}
  teams:
    team-payments: {}
  team_lable: team
""")
    result = slo("compile", "--slos", SLOS, "--out", tmp_path / "out", "--settings", settings)
    assert result.code == 1 and not (tmp_path / "out").exists()
    assert [line.removeprefix(f"{tmp_path}/") for line in result.lines] == [
        "slo-settings.yaml:2:47: alertmanager.page.repeat_interval: repeat_interval (30m) is shorter than "
        "group_interval (1h): Alertmanager repeats only at a group interval",
        "slo-settings.yaml:3:22: alertmanager.ticket.receiver: string should have at least 1 character, got ''",
        "slo-settings.yaml:5:5: alertmanager.teams.team-payments: names no receiver: set page, ticket or both",
        "slo-settings.yaml:6:3: alertmanager.team_lable: unknown key; did you mean 'team_label'?",
    ]


def test_slo_check_runs_amtool_on_the_configured_merge(slo, tmp_path, monkeypatch):
    from compiler import check
    # The rules are checked elsewhere; this is amtool's part.
    monkeypatch.setattr(check, "run", lambda *args: check.Summary(0, 0, (), 0.0))
    out = compiled(tmp_path, SLOS, SETTINGS + "  config: alertmanager.yml\n")
    write_spec(tmp_path, "alertmanager.yml", BASE)
    args = ("check", "--out", out, "--slos", SLOS, "--settings", tmp_path / "slo-settings.yaml")
    assert slo(*args).code == 0
    write_spec(tmp_path, "alertmanager.yml", BASE.replace("receiver: oncall", "receiver: nobody"))
    result = slo(*args)
    assert result.code == 1
    assert any("amtool check-config" in line and 'undefined receiver "nobody"' in line for line in result.lines), \
        result.err


# A real Alertmanager muting tickets while a page of the same SLO and group fires.

def _labels(rules: dict, long_window: str | None, **labels: str) -> dict:
    """The labels an alert of the compiled rules reaches Alertmanager with: the rule's own and those of
    its series (identity, group, service labels)."""
    rule = next(r for g in rules["groups"] for r in g["rules"] if "alert" in r and g["name"] == "slo_payments_api-latency"
                and r["labels"].get("long_window") == long_window)
    return {**rule["labels"], **labels, "alertname": rule["alert"], "tier": "1"}


def _post(base: str, alerts: list[dict]) -> None:
    request = urllib.request.Request(f"{base}/api/v2/alerts", json.dumps(alerts).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except urllib.error.HTTPError as exc:
        raise AssertionError(exc.read()) from None


def _states(base: str) -> dict[tuple, tuple[str, list]]:
    """(fingerprint, the fingerprints of the alerts that mute it) of each alert, by SLO, route and long window."""
    with urllib.request.urlopen(f"{base}/api/v2/alerts", timeout=10) as response:
        alerts = json.load(response)
    return {(a["labels"]["slo_name"], a["labels"].get("route"), a["labels"].get("long_window")):
            (a["fingerprint"], sorted(a["status"]["inhibitedBy"])) for a in alerts}


def test_a_page_mutes_the_tickets_of_its_slo_and_group_only(slo, tmp_path):
    out = compiled(tmp_path, SLOS)
    merged(slo, tmp_path, out)
    rules = yaml.safe_load((out / "prometheus" / "payments.rules.yml").read_text())
    identity = {"slo_service": "payments", "slo_name": "api-latency"}
    other_slo = {**_labels(rules, "1d", **identity, route="/pay"), "slo_name": "api-availability"}
    started = (datetime.now(timezone.utc) - timedelta(minutes=10)).isoformat()
    firing = {"startsAt": started, "endsAt": (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()}
    alerts = [_labels(rules, w, **identity, route="/pay") for w in ("1h", "6h", "1d", "3d")]
    alerts += [_labels(rules, "1d", **identity, route="/browse"), other_slo]
    with realprom.alertmanager(tmp_path, tmp_path / "merged.yml") as base:
        _post(base, [{"labels": a, **firing} for a in alerts])
        states = _states(base)
        active = {key for key, (_, by) in states.items() if not by}
        assert active == {("api-latency", "/pay", "1h"), ("api-latency", "/browse", "1d"),
                          ("api-availability", "/pay", "1d")}, states
        assert len(states) == 6
        pages = sorted(states[("api-latency", "/pay", w)][0] for w in ("1h", "6h"))
        assert states[("api-latency", "/pay", "6h")][1] == [states[("api-latency", "/pay", "1h")][0]]
        assert all(states[("api-latency", "/pay", w)][1][0] in pages for w in ("1d", "3d"))
        # Ending both pages: the 1d ticket is delivered, and mutes the slower 3d one.
        ended = {"startsAt": started, "endsAt": (datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat()}
        _post(base, [{"labels": a, **ended} for a in alerts[:2]])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(_states(base)) != 4:
            time.sleep(0.1)
        states = _states(base)
        assert {key for key, (_, by) in states.items() if not by} == {
            ("api-latency", "/pay", "1d"), ("api-latency", "/browse", "1d"), ("api-availability", "/pay", "1d")}, states
        assert states[("api-latency", "/pay", "3d")][1] == [states[("api-latency", "/pay", "1d")][0]]


DOC = ROOT / "docs" / "alertmanager.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), re.S)


def test_the_documented_settings_are_valid_and_their_defaults_are_the_defaults():
    documented = yaml.safe_load(_blocks("yaml")[0])["alertmanager"]
    settings = load.validate(yamlpos.load("doc", _blocks("yaml")[0]), Settings).alertmanager
    assert settings.teams["team-platform"].page == "platform-pager"
    defaults = Settings().alertmanager
    for tier in ("page", "ticket"):
        for key in ("group_wait", "group_interval", "repeat_interval"):
            assert durations.parse(documented[tier][key]) == getattr(getattr(defaults, tier), key), (tier, key)
    assert defaults.page.receiver is None and defaults.team_label is None and defaults.config == ""


def test_the_documented_commands_merge_a_configuration_that_amtool_accepts(tmp_path):
    write_spec(tmp_path, "slo-settings.yaml", _blocks("yaml")[0])
    write_spec(tmp_path, "alertmanager.yml", next(b for b in _blocks("yaml") if b.startswith("# alertmanager.yml")))
    shutil.copytree(SLOS, tmp_path / "slos")
    commands = _blocks("sh")[0]
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", commands], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
    assert result.returncode == 0, result.stdout + result.stderr
    merged_config = yaml.safe_load((tmp_path / "merged.yml").read_text())
    assert merged_config["route"]["routes"][0]["routes"][0]["routes"] == [
        {"matchers": ['slo_service="payments"'], "receiver": "payments-pager"},
        {"matchers": ['slo_service="platform"'], "receiver": "platform-pager"}]
