"""Dashboards as Grafana 11.4 reads them: valid against its own JSON Schemas, queried at the rule
interval, with the budget burn-down, the budget as time, the worst group and the SLO's alerts."""

import copy
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

import grafana_schema
from compiler import names
from conftest import ROOT, SLOS, SHARED, write_spec
from test_dashboards import dashboards, panels, with_all

DATA = ROOT / "tests" / "data"


def example_folders() -> list[Path]:
    """Every folder of specs the project ships or tests with."""
    found = [SLOS, DATA / "dashboards"]
    return found + ([SHARED / "examples"] if (SHARED / "examples").is_dir() else [])


@pytest.fixture(scope="module")
def examples(tmp_path_factory) -> dict[str, dict]:
    """Every dashboard compiled from every example folder, by folder and file."""
    from compiler.cli import main
    out = {}
    for folder in example_folders():
        target = tmp_path_factory.mktemp(folder.name)
        assert main(["compile", "--slos", str(folder), "--out", str(target / "out"), "--settings",
                     str(target / "none")]) == 0
        out.update({f"{folder.name}/{name}": d for name, d in dashboards(target / "out").items()})
    return out


def test_every_dashboard_of_every_example_validates_against_grafana_11_4(examples):
    grafana_schema.require()
    if SHARED.is_dir():
        assert any(key.startswith("examples/") for key in examples)
    assert len(examples) >= 7
    found = {name: grafana_schema.findings(d) for name, d in examples.items()}
    assert found == {name: [] for name in examples}


@pytest.mark.parametrize("mutate, finding", [
    (lambda d: d["panels"][2]["fieldConfig"]["defaults"].update(unit="x"), "'x' is no Grafana unit id"),
    (lambda d: d["panels"][2].pop("pluginVersion"), "no pluginVersion"),
    (lambda d: d["panels"][2]["targets"][0].update(step=10), "'step' was unexpected"),
    (lambda d: d["panels"][2].update(span=4), "'span' was unexpected"),
    (lambda d: d.update(rows=[]), "'rows' was unexpected"),
    (lambda d: d["panels"][2]["fieldConfig"]["defaults"].update(decimals=None), "None is not of type 'number'"),
    (lambda d: d["panels"][2]["fieldConfig"]["defaults"]["thresholds"]["steps"][0].update(value=None),
     "None is not of type 'number'"),
    (lambda d: d["panels"][2]["options"].update(colorMode="rainbow"), "'rainbow' is not one of"),
    (lambda d: d["panels"][2]["options"].pop("wideLayout"), "'wideLayout' is a required property"),
    (lambda d: d["panels"][2]["links"].append({"title": "t", "url": "/d/x"}), "'type' is a required property"),
])
def test_the_schema_check_finds_what_grafana_would_not_read(compiled, mutate, finding):
    grafana_schema.require()
    dashboard = copy.deepcopy(dashboards(compiled)["platform"])
    assert dashboard["panels"][2]["type"] == "stat" and grafana_schema.findings(dashboard) == []
    mutate(dashboard)
    assert any(finding in line for line in grafana_schema.findings(dashboard)), grafana_schema.findings(dashboard)


def test_the_schema_check_reads_override_values_and_table_cells_by_what_they_set(compiled):
    grafana_schema.require()
    overview = copy.deepcopy(dashboards(compiled)["slo-overview"])
    overrides = overview["panels"][0]["fieldConfig"]["overrides"]
    overrides[0]["properties"][0]["value"] = "percent-ish"
    overrides[2]["properties"][2]["value"] = {"type": "color-text"}  # fits two cell schemas: which one is meant
    overrides[3]["properties"][1]["value"]["steps"].append({"color": "red"})
    found = grafana_schema.findings(overview)
    assert len(found) == 3 and "'percent-ish' is no Grafana unit id" in found[0], found
    assert "is valid under each of" in found[1] and "'value' is a required property" in found[2]


def time_series(dashboard: dict) -> list[dict]:
    return [p for p in panels(dashboard) if p["type"] == "timeseries"]


@pytest.mark.parametrize("rule_interval", ["1m", "30s"])
def test_time_series_query_at_the_rule_interval_at_any_zoom(tmp_path, slo, rule_interval):
    settings = write_spec(tmp_path, "slo-settings.yaml", f"rule_interval: {rule_interval}\n")
    assert slo("compile", "--slos", SLOS, "--out", tmp_path / "out", "--settings", settings).code == 0
    found = [p for d in dashboards(tmp_path / "out").values() for p in time_series(d)]
    assert len(found) == 4 * 3  # four SLOs, each with a burn-down, a burn-rate and a rate panel
    for panel in found:
        # No cap that raises the step: Prometheus' own limit of 11,000 points per series.
        assert panel["maxDataPoints"] == 11000, panel["title"]
        for target in panel["targets"]:
            assert (target["interval"], target["intervalFactor"]) == (rule_interval, 1), panel["title"]


def test_the_burn_down_spans_the_whole_period_and_the_burn_rate_panel_shows_the_slo_s_alerts(compiled):
    payments = dashboards(compiled)["payments"]
    burn_down = {p["title"]: p for p in time_series(payments) if p["title"].startswith("Error budget burn-down")}
    assert set(burn_down) == {"Error budget burn-down over 30d", "Error budget burn-down over 28d"}
    for period, panel in ((t.split()[-1], p) for t, p in burn_down.items()):
        assert panel["timeFrom"] == period
        custom = panel["fieldConfig"]["defaults"]["custom"]
        assert (custom["axisSoftMin"], custom["axisSoftMax"]) == (0, 1)
    annotations = {a["name"]: a for a in payments["annotations"]["list"]}
    assert set(annotations) == {"api-availability alerts", "api-latency alerts"}
    burn_rate = {p["id"]: p for p in panels(payments) if p["title"] == "Burn rate per alert window"}
    for name, annotation in annotations.items():
        [panel_id] = annotation["filter"]["ids"]
        assert not annotation["filter"]["exclude"] and panel_id in burn_rate
        slo = name.removesuffix(" alerts")
        assert f'slo_name="{slo}"' in annotation["expr"] and 'alertstate="firing"' in annotation["expr"]
        assert all(f'slo_name="{slo}"' in t["expr"] for t in burn_rate[panel_id]["targets"])
        assert annotation["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def stat(dashboard: dict, title: str) -> str:
    """The query of the first stat of that title (the first SLO's, by position)."""
    panel = next(p for p in panels(dashboard) if p["type"] == "stat" and p["title"] == title)
    [target] = panel["targets"]
    return with_all(target["expr"])


def evaluate(promtool: str, tmp_path: Path, series: dict[str, str], expr: str, expected: list[tuple[str, float]]):
    """promtool evaluates `expr` over `series` (one value each) and compares with `expected`."""
    test = {"evaluation_interval": "1m", "tests": [{"interval": "1m", "input_series": [
        {"series": s, "values": f"{v}x3"} for s, v in series.items()], "promql_expr_test": [
        {"expr": expr, "eval_time": "2m", "exp_samples": [{"labels": labels, "value": value}
                                                          for labels, value in expected]}]}]}
    path = tmp_path / "stat.test.yml"
    path.write_text(yaml.safe_dump(test))
    result = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_budget_left_as_time_is_the_share_left_of_the_full_outage_the_period_allows(compiled, tmp_path,
                                                                                          promtool):
    platform = dashboards(compiled)["platform"]
    expr = stat(platform, "Budget left as full outage")  # the first row: ingress-probe, 99.95% over 30d
    remaining = 'slo:period_error_budget_remaining:ratio{slo_service="platform", slo_name="ingress-probe"}'
    # 0.05% of 30d is 21m 36s, 1296 s of full outage; a quarter of it left is 324 s.
    labels = '{slo_name="ingress-probe", slo_service="platform"}'
    evaluate(promtool, tmp_path, {remaining: "0.25"}, expr, [(labels, 324)])
    # An overspent budget leaves no time, not a negative one.
    evaluate(promtool, tmp_path, {remaining: "-0.5"}, expr, [(labels, 0)])


def test_with_every_group_selected_the_stats_show_the_worst_group(compiled, tmp_path, promtool):
    payments = dashboards(compiled)["payments"]
    labels = 'slo_service="payments", slo_name="api-latency"'
    series = {}
    for route, remaining, burn, error in (("/pay", "0.8", "0.5", "0.0005"), ("/refund", "0.3", "4", "0.007")):
        series[f'slo:period_error_budget_remaining:ratio{{{labels}, route="{route}"}}'] = remaining
        series[f'slo:current_burn_rate:ratio{{{labels}, route="{route}"}}'] = burn
        series[f'slo:sli_error:ratio_rate28d{{{labels}, route="{route}", slo_window="28d"}}'] = error
    evaluate(promtool, tmp_path, series, stat(payments, "Error budget left (worst route)"), [("{}", 0.3)])
    evaluate(promtool, tmp_path, series, stat(payments, "Burn rate over 5m (worst route)"), [("{}", 4)])
    evaluate(promtool, tmp_path, series, stat(payments, "SLI over 28d (worst route)"), [("{}", 0.993)])


def test_stats_show_no_data_as_grafana_does_and_the_objective_with_its_own_decimals(compiled):
    payments = dashboards(compiled)["payments"]
    stats = [p for p in panels(payments) if p["type"] == "stat"]
    assert stats and all("noValue" not in p["fieldConfig"]["defaults"] for p in stats)
    decimals = {p["title"]: p["fieldConfig"]["defaults"].get("decimals") for p in stats if p["id"] < 200}
    # 99.9% shows as 99.9%, the SLI one digit finer (99.95%), never 99.900%.
    assert (decimals["Objective"], decimals["SLI over 30d"]) == (1, 2)
    units = {p["fieldConfig"]["defaults"]["unit"] for d in dashboards(compiled).values() for p in panels(d)
             if "fieldConfig" in p and "unit" in p["fieldConfig"]["defaults"]}
    assert "x" not in units and "suffix:x" in units
    assert all("displayMode" not in p["fieldConfig"]["defaults"].get("custom", {})
               for d in dashboards(compiled).values() for p in panels(d) if p["type"] == "table")


def test_every_panel_names_the_plugin_version_of_grafana_11_4_so_none_migrates(compiled):
    found = [p for d in dashboards(compiled).values() for p in panels(d) if p["type"] != "row"]
    assert found and {p["pluginVersion"] for p in found} == {"11.4.0"}
    assert {d["schemaVersion"] for d in dashboards(compiled).values()} == {40}
    text = json.dumps(dashboards(compiled))
    assert "null" not in text.replace('"null"', "")
    assert names.MANAGED_BY in text


def test_the_settings_example_of_the_dashboard_docs_links_every_alert_and_runbook(tmp_path, slo):
    [example] = re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / "dashboards.md").read_text(), re.S)
    settings = write_spec(tmp_path, "slo-settings.yaml", example)
    out = tmp_path / "out"
    assert slo("compile", "--slos", SLOS, "--out", out, "--settings", settings).code == 0
    assert [line.split(": ")[1] for line in slo("lint", "--slos", SLOS, "--settings", settings).lines
            if "no-grafana-url" in line or "no-runbook-url" in line] == []
    rules = [r for p in sorted((out / "prometheus").glob("*.rules.yml"))
             for g in yaml.safe_load(p.read_text())["groups"] for r in g["rules"] if "alert" in r]
    assert rules
    for rule in rules:
        path = rule["annotations"]["runbook_url"].removeprefix("https://github.com/acme/slos/blob/main/output/")
        assert (out / path).is_file() and "runbook_path" not in rule["annotations"]
        assert rule["annotations"]["dashboard_url"].startswith("https://grafana.acme.com/d/slo-")
    payments = dashboards(out)["payments"]
    assert {link["url"] for p in panels(payments) for link in p.get("links", [])} == {
        f"https://github.com/acme/slos/blob/main/output/runbooks/payments/{name}-budget-burn-{tier}.md"
        for name in ("payments-availability", "payments-api-latency") for tier in ("page", "ticket")}
