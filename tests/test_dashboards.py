"""Grafana dashboards: modern panels only, stable uids, valid PromQL that returns data in a real
Prometheus, and every link from an alert or a row resolving to a generated panel or file."""

import json
import re
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import promql_parser
import pytest
import yaml

from compiler import names
from conftest import SLOS, shared, tree, write_spec

MODERN = {"row", "timeseries", "stat", "gauge", "bargauge", "table", "text"}
VARIABLE = re.compile(r"\$\{?(\w+)\}?")
LABEL_VALUES = re.compile(r"^label_values\((?P<selector>.*), (?P<label>\w+)\)$", re.S)


def dashboards(out: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted((out / "grafana" / "dashboards").glob("*.json"))}


def panels(dashboard: dict) -> list[dict]:
    return [p for top in dashboard["panels"] for p in [top, *top.get("panels", [])]]


def with_all(expr: str) -> str:
    """A query as Grafana sends it with every variable at All, whose value is `.*`."""
    return VARIABLE.sub(".*", expr)


def queries(dashboard: dict) -> list[tuple[dict, str]]:
    """(target, expression with variables at All) of every panel query, then every variable's
    selector (`label_values(selector, label)`)."""
    found = [(t, with_all(t["expr"])) for p in panels(dashboard) for t in p.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            found.append((variable, LABEL_VALUES.match(variable["query"])["selector"]))
    return found


def overlaps(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]


def test_one_dashboard_per_service_plus_the_overview_and_a_provisioning_file(compiled):
    services = {yaml.safe_load(p.read_text())["service"] for p in SLOS.glob("*.yaml")}
    assert set(dashboards(compiled)) == services | {"slo-overview"}
    provisioning = yaml.safe_load((compiled / "grafana" / "provisioning" / "dashboards.yml").read_text())
    [provider] = provisioning["providers"]
    assert provisioning["apiVersion"] == 1 and provider["type"] == "file"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards/slo"


def test_every_dashboard_has_a_stable_uid_a_title_and_the_managed_tag(compiled, tmp_path, slo):
    found = dashboards(compiled)
    uids = [d["uid"] for d in found.values()]
    assert len(set(uids)) == len(uids)
    for name, dashboard in found.items():
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", dashboard["uid"]) and dashboard["title"]
        assert names.MANAGED_BY in dashboard["tags"]
        assert dashboard["schemaVersion"] == 40
    assert found["payments"]["uid"] == "slo-payments" and found["slo-overview"]["uid"] == "slo_overview"
    # A service name near the limit gets a uid that still fits, derived from the name alone.
    long_name = "a-service-name-that-is-much-longer-than-grafana-allows"
    write_spec(tmp_path / "slos", "long.yaml", f"service: {long_name}\nslos:\n  - name: probe\n    objective: 99\n"
                                               f"    sli: {{bool: {{metric: up}}}}\n")
    assert slo("compile", "--slos", tmp_path / "slos", "--out", tmp_path / "out", "--settings", tmp_path / "x").code == 0
    uid = dashboards(tmp_path / "out")[long_name]["uid"]
    assert len(uid) <= 40 and uid == names.dashboard_uid(long_name) != names.dashboard_uid(long_name + "x")


def test_only_modern_panels_laid_out_on_the_grid_without_overlap(compiled):
    for dashboard in dashboards(compiled).values():
        found = panels(dashboard)
        assert {p["type"] for p in found} <= MODERN, {p["type"] for p in found}
        ids = [p["id"] for p in found]
        assert len(set(ids)) == len(ids)
        for i, a in enumerate(found):
            assert 0 <= a["gridPos"]["x"] and a["gridPos"]["x"] + a["gridPos"]["w"] <= 24
            assert not [b["id"] for b in found[i + 1:] if overlaps(a["gridPos"], b["gridPos"])], a["id"]


def test_every_query_is_valid_promql_on_the_selected_data_source(compiled):
    count = 0
    for dashboard in dashboards(compiled).values():
        for holder, expr in queries(dashboard):
            promql_parser.parse(expr)
            assert holder["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            count += 1
        [source] = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
        assert (source["name"], source["query"]) == ("datasource", "prometheus")
    assert count > 40


def test_a_service_dashboard_has_a_row_per_slo_with_what_the_issue_asks(compiled):
    payments = dashboards(compiled)["payments"]
    rows = [p for p in payments["panels"] if p["type"] == "row"]
    assert [r["title"] for r in rows] == ["api-availability: 99.9% over 30d", "api-latency: 99% over 28d"]
    block = [p for p in payments["panels"] if 200 <= p["id"] < 300]  # api-latency's block of ids
    titles = {p["title"]: p for p in block}
    assert {"Objective", "SLI over 28d (worst route)", "Error budget left (worst route)",
            "Budget left as full outage (worst route)", "Error budget burn-down over 28d",
            "Burn rate per alert window", "Events and errors (rate over 5m)",
            "Active alerts (pending and firing)"} <= set(titles)
    about = titles["About"]["options"]["content"]
    assert "Payment requests served within 500 milliseconds, per route." in about and "team-payments" in about
    # One series per alert window, against a threshold step at every tier's burn rate.
    burn = titles["Burn rate per alert window"]
    assert [t["legendFormat"] for t in burn["targets"]] == [f"{w} route={{{{route}}}}" for w in
                                                           ("5m", "30m", "1h", "2h", "6h", "1d", "3d")]
    steps = burn["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [(s["color"], s["value"]) for s in steps[1:]] == [("orange", 0.933), ("orange", 2.8), ("red", 5.6),
                                                             ("red", 13.44)]
    # Grafana reads the first step as the base whatever its value; written below every value.
    assert steps[0]["color"] == "green" and steps[0]["value"] < -1e300
    assert 'route=~"$route"' in burn["targets"][0]["expr"]
    alerts = titles["Active alerts (pending and firing)"]["targets"][0]["expr"]
    assert alerts.startswith('ALERTS{slo_service="payments", slo_name="api-latency"')  # burn-rate and missing-data alerts


def test_a_variable_per_group_by_label(compiled):
    found = dashboards(compiled)
    variables = {name: [v["name"] for v in d["templating"]["list"]] for name, d in found.items()}
    assert variables == {"payments": ["datasource", "route"], "platform": ["datasource"],
                         "slo-overview": ["datasource"]}
    [route] = [v for v in found["payments"]["templating"]["list"] if v["name"] == "route"]
    assert route["includeAll"] and route["multi"] and route["allValue"] == ".*"


def test_the_overview_lists_every_slo_sorted_by_budget_left_and_links_each_to_its_dashboard(compiled):
    [table] = dashboards(compiled)["slo-overview"]["panels"]
    assert table["type"] == "table"
    assert table["options"]["sortBy"] == [{"desc": False, "displayName": "Budget remaining"}]
    organize = table["transformations"][1]["options"]
    order = sorted(organize["indexByName"], key=organize["indexByName"].get)
    assert [organize["renameByName"][field] for field in order] == [
        "Service", "SLO", "Objective", "SLI over the period", "SLI − objective", "Budget remaining", "Burn rate now",
        "Firing alerts"]
    # The service's dashboard, or the SLO's panel there, over the same time range and on the same data source.
    assert {c: [(link["title"], link["url"]) for link in found] for c, found in overview_links(table).items()} == {
        "Service": [("Service dashboard", "/d/${__data.fields.dashboard}?${__url_time_range}&${datasource:queryparam}")],
        "SLO": [("This SLO on its service dashboard", "/d/${__data.fields.dashboard}?viewPanel=${__data.fields.panel}"
                                                      "&${__url_time_range}&${datasource:queryparam}")]}
    hidden = {o["matcher"]["options"] for o in table["fieldConfig"]["overrides"]
              if o["properties"] == [{"id": "custom.hidden", "value": True}]}
    assert hidden == {"dashboard", "panel"}


def overview_links(table: dict) -> dict[str, list[dict]]:
    """The links of each column of the overview's table."""
    return {o["matcher"]["options"]: o["properties"][0]["value"] for o in table["fieldConfig"]["overrides"]
            if o["properties"][0]["id"] == "links"}


DATA_FIELD = re.compile(r"\$\{__data\.fields\.(\w+)\}")


def follow(url: str, row: dict[str, str]) -> str:
    """A data link as Grafana opens it from a table row (`row`: the row's fields), on the last 6 hours
    with the data source `prom`."""
    url = DATA_FIELD.sub(lambda m: row.get(m[1], ""), url)  # a field the row has no value in is empty
    url = url.replace("${__url_time_range}", "from=now-6h&to=now").replace("${datasource:queryparam}",
                                                                           "var-datasource=prom")
    assert "$" not in url, url
    return url


def test_the_overview_names_each_row_s_dashboard_uid_even_for_long_service_names(compiled, tmp_path, promtool):
    # promtool evaluates the overview's first query over two services, one with a digest uid.
    long_name = "a-service-name-that-is-much-longer-than-grafana-allows"
    spec = "service: {}\nslos:\n  - name: probe\n    objective: 99\n    sli: {{bool: {{metric: up}}}}\n"
    for service in ("shop", long_name):
        write_spec(tmp_path / "slos", f"{service}.yaml", spec.format(service))
    from compiler.cli import main
    assert main(["compile", "--slos", str(tmp_path / "slos"), "--out", str(tmp_path / "out"),
                 "--settings", str(tmp_path / "none")]) == 0
    [table] = dashboards(tmp_path / "out")["slo-overview"]["panels"]
    expr = table["targets"][0]["expr"]
    test = {"evaluation_interval": "1m", "tests": [{"interval": "1m", "input_series": [
        {"series": f'slo:objective:ratio{{slo_service="{s}", slo_name="probe"}}', "values": "0.99x5"}
        for s in ("shop", long_name)], "promql_expr_test": [{"expr": expr, "eval_time": "2m", "exp_samples": [
            {"labels": f'{{dashboard="{names.dashboard_uid(s)}", panel="105", slo_name="probe", slo_service="{s}"}}',
             "value": 0.99} for s in ("shop", long_name)]}]}]}
    path = tmp_path / "overview.test.yml"
    path.write_text(yaml.safe_dump(test))
    result = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert names.dashboard_uid(long_name) in tree(tmp_path / "out")[f"grafana/dashboards/{long_name}.json"].decode()


def alert_annotations(out: Path) -> list[dict]:
    """The annotations of every alert rule, with the name of the SLO it belongs to."""
    found = [r["annotations"] | {"slo": g["name"].split("_")[-1]} for p in sorted((out / "prometheus").glob("*.rules.yml"))
             for g in yaml.safe_load(p.read_text())["groups"] for r in g["rules"] if "alert" in r]
    assert found
    return found


def resolve_dashboard_link(out: Path, url: str, grafana: str) -> dict:
    """The panel a `dashboard_url` points at, or fail."""
    assert url.startswith(grafana + "/d/"), url
    parts = urlsplit(url.removeprefix(grafana))
    uid = parts.path.removeprefix("/d/")
    [dashboard] = [d for d in dashboards(out).values() if d["uid"] == uid]
    [panel_id] = parse_qs(parts.query)["viewPanel"]
    [panel] = [p for p in panels(dashboard) if p["id"] == int(panel_id)]
    return panel


URLS = "runbook_base_url: https://git.example.com/slos/blob/main/output/\ngrafana_url: https://grafana.example.com/\n"


@pytest.mark.parametrize("settings", ["", URLS])
def test_every_alert_link_resolves_to_a_generated_runbook_and_the_slo_burn_rate_panel(tmp_path, slo, settings):
    settings_file = write_spec(tmp_path, "slo-settings.yaml", settings)
    out = tmp_path / "output"
    assert slo("compile", "--slos", SLOS, "--out", out, "--settings", settings_file).code == 0
    grafana = "https://grafana.example.com" if settings else ""
    files = tree(out)
    for annotation in alert_annotations(out):
        if settings:
            path = annotation["runbook_url"].removeprefix("https://git.example.com/slos/blob/main/output/")
            assert "runbook_path" not in annotation
        else:
            # No address to link: the alert names the runbook's file in the repository instead.
            assert "runbook_url" not in annotation
            path = annotation["runbook_path"].removeprefix("output/")
        assert path.startswith("runbooks/") and path in files, annotation
        # Rooted on Grafana's own address without grafana_url, so it never resolves against another page.
        panel = resolve_dashboard_link(out, annotation["dashboard_url"], grafana)
        assert panel["title"] == "Burn rate per alert window"
        assert all(f'slo_name="{annotation["slo"]}"' in t["expr"] for t in panel["targets"])


def links(dashboard: dict) -> list[str]:
    """Every address in a dashboard: its links, its panels' and fields' links, and Markdown links in text."""
    found = [link["url"] for link in dashboard["links"]]
    for panel in panels(dashboard):
        found += [link["url"] for link in panel.get("links", [])]
        found += [link["url"] for o in panel.get("fieldConfig", {}).get("overrides", []) for prop in o["properties"]
                  if prop["id"] == "links" for link in prop["value"]]
        found += re.findall(r"\]\(([^)]*)\)", panel.get("options", {}).get("content", ""))
    return found


@pytest.mark.parametrize("settings", ["", URLS])
def test_every_dashboard_link_is_absolute_or_rooted_and_runbook_links_open_generated_runbooks(tmp_path, slo,
                                                                                              settings):
    settings_file = write_spec(tmp_path, "slo-settings.yaml", settings)
    out = tmp_path / "output"
    assert slo("compile", "--slos", SLOS, "--out", out, "--settings", settings_file).code == 0
    files = tree(out)
    runbooks = {p for p in files if p.startswith("runbooks/")}
    linked = set()
    for name, dashboard in dashboards(out).items():
        found = links(dashboard)
        assert found
        for url in found:
            # A relative address would resolve against /d/<uid>/ and open a page of Grafana's choosing.
            assert url.startswith(("https://", "/d/")), (name, url)
            linked.add(url.removeprefix("https://git.example.com/slos/blob/main/output/"))
        if name != "slo-overview" and not settings:
            # The runbooks are named, as the files they are, where there is no address to link them.
            texts = "".join(p["options"]["content"] for p in panels(dashboard) if p["type"] == "text")
            named = set(re.findall(r"`output/(runbooks/[^`]+)`", texts))
            assert named and named <= runbooks
    assert (linked & runbooks) == (runbooks if settings else set())


def test_a_service_cannot_take_the_overview_s_name(tmp_path, slo):
    write_spec(tmp_path / "slos", "x.yaml", "service: slo-overview\nslos:\n  - name: probe\n    objective: 99\n"
                                            "    sli: {bool: {metric: up}}\n")
    result = slo("compile", "--slos", tmp_path / "slos", "--out", tmp_path / "out", "--settings", tmp_path / "x")
    assert result.code == 1 and not (tmp_path / "out").exists()
    assert result.lines == [f"{tmp_path}/slos/x.yaml:1:10: service: service name 'slo-overview' is reserved for the overview "
                            "dashboard; choose another"]


def test_shared_examples_get_dashboards_and_runbooks(tmp_path, slo):
    examples, out = shared("examples"), tmp_path / "output"
    assert slo("compile", "--slos", examples, "--out", out, "--settings", tmp_path / "none").code == 0
    services = {yaml.safe_load(p.read_text())["service"] for p in examples.glob("*.yaml")}
    assert set(dashboards(out)) == services | {"slo-overview"}
    assert {p.split("/")[1] for p in tree(out) if p.startswith("runbooks/")} == services
    for dashboard in dashboards(out).values():
        for _, expr in queries(dashboard):
            promql_parser.parse(expr)


def test_every_dashboard_query_returns_data_from_a_real_prometheus(slo_prometheus):
    server, _, out = slo_prometheus
    end = time.time()
    checked = set()
    for name, dashboard in dashboards(out).items():
        for holder, expr in queries(dashboard):
            result = server.query(expr)
            assert result, (name, expr)
            if holder.get("format") == "time_series" and not holder.get("instant"):
                body = server.get("/api/v1/query_range", query=expr, start=end - 60, end=end, step=5)
                assert body["status"] == "success" and body["data"]["result"], (name, expr)
            if holder.get("type") == "query":  # a variable: its label has values
                assert any(holder["name"] in s["metric"] for s in result), (name, expr)
            checked.add(expr)
    assert len(checked) > 40


def test_overview_rows_link_to_their_slo_s_panel_and_judge_the_sli_against_its_objective(slo_prometheus):
    server, the_plan, out = slo_prometheus
    uids = {d["uid"] for d in dashboards(out).values()}
    [table] = dashboards(out)["slo-overview"]["panels"]
    [slo_link] = overview_links(table)["SLO"]
    for target in table["targets"]:
        found = server.query(target["expr"])
        rows = {(s["metric"]["slo_service"], s["metric"]["slo_name"], s["metric"]["dashboard"]) for s in found}
        assert rows == {(slo.service, slo.name, names.dashboard_uid(slo.service)) for s in the_plan.services
                        for slo in s.slos}, target["expr"]
        assert {uid for *_, uid in rows} <= uids
        for series in found:
            panel = resolve_dashboard_link(out, follow(slo_link["url"], series["metric"]), "")
            assert panel["title"] == "Burn rate per alert window"
            identity = f'slo_service="{series["metric"]["slo_service"]}", slo_name="{series["metric"]["slo_name"]}"'
            assert all(identity in t["expr"] for t in panel["targets"])
    # Every test SLO runs at 10 times its budget (conftest): its SLI is below its objective, in
    # percentage points 99 - 99.9, 90 - 99, 95 - 99.5 and 99.5 - 99.95.
    [margin] = [t["expr"] for t in table["targets"] if t["refId"] == column_ref(table, "SLI − objective")]
    values = {(s["metric"]["slo_service"], s["metric"]["slo_name"]): float(s["value"][1]) for s in server.query(margin)}
    assert values == {("payments", "api-availability"): pytest.approx(-0.9), ("payments", "api-latency"): pytest.approx(-9),
                      ("platform", "queue-delivery"): pytest.approx(-4.5),
                      ("platform", "ingress-probe"): pytest.approx(-0.45)}


def column_ref(table: dict, title: str) -> str:
    """The refId of the query behind a column of the overview."""
    renames = table["transformations"][1]["options"]["renameByName"]
    [ref] = [field.removeprefix("Value #") for field, name in renames.items() if name == title]
    return ref


def test_the_data_source_setting_preselects_the_variable(tmp_path, slo):
    settings = write_spec(tmp_path, "slo-settings.yaml", "grafana_datasource: prom-main\n")
    assert slo("compile", "--slos", SLOS, "--out", tmp_path / "out", "--settings", settings).code == 0
    for dashboard in dashboards(tmp_path / "out").values():
        [source] = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
        assert (source["current"]["text"], source["current"]["value"]) == ("prom-main", "prom-main")
