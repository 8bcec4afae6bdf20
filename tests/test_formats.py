"""Sloth, Pyrra and OpenSLO specs in slos/: problems at their place, `slo import`, raw SLIs, Sloth's labels."""

import subprocess

import pytest
import yaml

from conftest import ROOT, tree, write_spec

SLOTH = """\
version: prometheus/v1
service: shop
labels: {team: shop, tier: 2}
slos:
  - name: availability
    objective: 99.9
    labels: {category: availability}
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="shop", code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="shop"}[{{ .window }}]))
    alerting:
      name: ShopHighErrorRate
      page_alert: {labels: {severity: pager}}
      ticket_alert: {disable: true}
  - name: satisfaction
    objective: 95
    sli:
      raw:
        error_ratio_query: 1 - avg(avg_over_time(satisfaction_ratio{job="shop"}[{{.window}}]))
    alerting:
      page_alert: {disable: true}
      ticket_alert: {disable: true}
"""
PYRRA = """\
apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata:
  name: shop-latency
  labels: {pyrra.dev/team: shop, prometheus: k8s}
spec:
  target: '99'
  window: 4w
  indicator:
    latency:
      success: {metric: 'http_request_duration_seconds_bucket{job="shop", le="0.5"}'}
      total: {metric: 'http_request_duration_seconds_count{job="shop"}'}
      grouping: [route]
"""


def check(slo, root):
    return slo("check", "--out", root / "output", "--slos", root / "slos", "--settings", root / "slo-settings.yaml")


def compile_(slo, root, *files, settings=""):
    for name, text in files:
        write_spec(root / "slos", name, text)
    settings_file = write_spec(root, "slo-settings.yaml", settings or "# defaults\n")
    return slo("compile", "--slos", root / "slos", "--out", root / "output", "--settings", settings_file)


@pytest.mark.parametrize("alerting, alerts", [("", 1), ("  alerting: {absent: true}\n", 1),
                                              ("  alerting: {absent: false}\n", 0)])
def test_pyrras_absent_alert_is_the_missing_data_ticket(slo, tmp_path, alerting, alerts):
    assert compile_(slo, tmp_path, ("spec.yaml", PYRRA + alerting)).code == 0
    rules = (tmp_path / "output" / "prometheus" / "shop-latency.rules.yml").read_text()
    assert rules.count("DataMissing") == alerts


@pytest.mark.parametrize("name, text, where, message", [
    ("sloth-unknown-key", SLOTH.replace("objective: 95", "objectiv: 95"), "slos/spec.yaml:17:5: slos[1].objectiv:",
     "unknown key; did you mean 'objective'?"),
    ("sloth-bad-promql", SLOTH.replace('sum(rate(http_requests_total{job="shop"}[{{ .window }}]))', "sum(rate(x[{{.window}}])"),
     "slos/spec.yaml:11:22: slos[0].sli.events.total_query:", "invalid PromQL"),
    ("sloth-objective", SLOTH.replace("objective: 99.9", "objective: 100"), "slos/spec.yaml:6:16: slos[0].objective:",
     "must be above 0 and below 100, got 100"),
    ("sloth-crd-camel-case", "apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\nmetadata: {name: x}\n"
     "spec:\n  service: x\n  slos:\n    - name: y\n      objective: 99\n      sli:\n        events:\n"
     "          error_query: a\n          totalQuery: b\n", "slos/spec.yaml:11:11: spec.slos[0].sli.events.error_query:",
     "unknown key; did you mean 'errorQuery'?"),
    ("pyrra-target", PYRRA.replace("'99'", "'high'"), "slos/spec.yaml:7:11: spec.target:", "must be a percentage"),
    ("pyrra-window", PYRRA.replace("window: 4w", "window: 1month"), "slos/spec.yaml:8:11: spec.window:",
     "must be a Prometheus duration"),
    ("unknown-kind", "apiVersion: pyrra.dev/v1alpha1\nkind: Objective\n", "slos/spec.yaml:2:7: kind:",
     "apiVersion 'pyrra.dev/v1alpha1' with kind 'Objective' is not a known spec"),
])
def test_a_foreign_spec_problem_names_its_place_in_that_file(slo, tmp_path, name, text, where, message):
    result = compile_(slo, tmp_path, ("spec.yaml", text))
    assert result.code == 1 and not (tmp_path / "output").exists()
    assert any(line.startswith(f"{tmp_path}/{where}") and message in line for line in result.lines), result.err
    assert "Traceback" not in result.err


def test_foreign_and_v1_specs_compile_together_and_pass_promtool(slo, tmp_path, promtool):
    v1 = "service: billing\nslos:\n  - name: api\n    objective: 99\n    sli:\n      ratio:\n" \
         "        errors: x_total{code=\"500\"}\n        total: x_total\n"
    result = compile_(slo, tmp_path, ("sloth.yaml", SLOTH), ("pyrra.yaml", PYRRA), ("billing.yaml", v1))
    assert (result.code, result.err) == (0, "")
    assert sorted(p for p in tree(tmp_path / "output") if p.endswith(".rules.yml") and "/tests/" not in p) == [
        "prometheus/billing.rules.yml", "prometheus/shop-latency.rules.yml", "prometheus/shop.rules.yml"]
    text = (tmp_path / "output" / "prometheus" / "shop-latency.rules.yml").read_text()
    assert 'le=~"0\\\\.50*"' in text  # Pyrra's bucket selector became a v1 latency SLI
    groups = yaml.safe_load(text)["groups"]
    assert all(r["labels"]["team"] == "shop" for g in groups for r in g["rules"] if "record" in r)  # pyrra.dev/team
    assert check(slo, tmp_path).code == 0


def test_import_prints_a_v1_spec_that_compiles_to_the_same_rules(slo, tmp_path):
    for name, text in (("sloth.yaml", SLOTH), ("pyrra.yaml", PYRRA)):
        source = write_spec(tmp_path / "in", name, text)
        result = slo("import", source)
        assert result.code == 0, result.err
        assert "# Converted by slo import from" in result.out and "  # from " in result.out
        write_spec(tmp_path / "v1", name, result.out)
        assert "version" not in yaml.safe_load(result.out) and "apiVersion" not in yaml.safe_load(result.out)
    for folder in ("in", "v1"):
        assert slo("compile", "--slos", tmp_path / folder, "--out", tmp_path / f"out-{folder}",
                   "--settings", tmp_path / "none").code == 0
    ours = tree(tmp_path / "out-in")
    again = tree(tmp_path / "out-v1")
    assert ours.keys() == again.keys()
    for path in ours:
        if path.endswith(".rules.yml"):  # the header names the source file; the rules are the same
            assert ours[path].split(b"\n", 1)[1] == again[path].split(b"\n", 1)[1], path


def test_import_says_what_was_mapped_how(slo, tmp_path):
    result = slo("import", write_spec(tmp_path, "sloth.yaml", SLOTH))
    assert "# Sloth raw SLI: windows longer than the base window average its ratio" in result.out
    assert "errors: sum(rate(http_requests_total{job=\"shop\", code=~\"5..\"}[$window]))  # from " \
           "slos[0].sli.events.error_query" in result.out
    assert "ticket: false  # from slos[0].alerting.ticket_alert.disable" in result.out


def test_import_maps_openslo_metadata_labels_and_says_what_it_could_not(slo):
    result = slo("import", ROOT / "tests" / "data" / "wild" / "openslo-labels.yaml")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    item = lines.index("  - name: web-availability  # from metadata.name")
    # The notes of an SLO stand above its dash, at its indentation.
    assert lines[item - 1] == ("  # metadata label 'app.kubernetes.io/name' left out: it is not a valid Prometheus "
                               "label name: 'app.kubernetes.io/name'")
    assert lines[item + 2:item + 7] == [
        "    labels:", "      env: prod  # from metadata.labels.env",
        "      # 2 values joined with ',': a Prometheus label has one",
        "      team: team-a,team-b  # from metadata.labels.team", "      tier: critical  # from metadata.labels.tier"]


def test_import_of_a_bad_or_missing_file_is_refused_in_one_line(slo, tmp_path):
    result = slo("import", write_spec(tmp_path, "bad.yaml", "version: prometheus/v2\n"))
    assert result.code == 1 and len(result.lines) == 1 and "unknown spec version" in result.err
    result = slo("import", tmp_path / "missing.yaml")
    assert result.code == 1 and len(result.lines) == 1 and "cannot read" in result.err
    assert slo("import").code == 2


def test_a_raw_sli_records_its_ratio_once_and_averages_it_over_longer_windows(slo, tmp_path, promtool):
    assert compile_(slo, tmp_path, ("spec.yaml", SLOTH)).code == 0
    rules = yaml.safe_load((tmp_path / "output" / "prometheus" / "shop.rules.yml").read_text())
    raw = next(g for g in rules["groups"] if g["name"] == "slo_shop_satisfaction")["rules"]
    exprs = {r["record"]: r["expr"] for r in raw if "record" in r}
    assert exprs["slo:sli_errors:rate4m"] == "(1 - avg(avg_over_time(satisfaction_ratio{job=\"shop\"}[4m]))) >= 0"
    assert exprs["slo:sli_total:rate4m"] == "0 * ((1 - avg(avg_over_time(satisfaction_ratio{job=\"shop\"}[4m]))) >= 0) + 1"
    assert "(60 * slo:sli_errors:rate4m{" in exprs["slo:sli_errors:count_this_hour"]  # the 30d period's
    test = {"rule_files": ["../shop.rules.yml"], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        # Satisfaction 0.9 for an hour, then 0.7 for an hour, then no samples at all.
        "input_series": [{"series": 'satisfaction_ratio{job="shop"}', "values": "0.9x59 0.7x60"}],
        "promql_expr_test": [
            {"expr": "count(slo:sli_error:ratio_rate4m{slo_window=\"4m\"} > 0.2999 < 0.3001)", "eval_time": "100m",
             "exp_samples": [{"value": 1}]},
            # The average of the recorded ratios: about 0.1 for the first hour, 0.3 for the second.
            {"expr": "count(slo:sli_error:ratio_rate30d{slo_window=\"30d\"} > 0.19 < 0.21)", "eval_time": "119m",
             "exp_samples": [{"value": 1}]},
            {"expr": "slo:sli_error:ratio_rate4m", "eval_time": "140m", "exp_samples": []},
        ]}]}
    (tmp_path / "output" / "prometheus" / "tests" / "raw.test.yml").write_text(yaml.safe_dump(test))
    result = subprocess.run([promtool, "test", "rules", str(tmp_path / "output" / "prometheus" / "tests" / "raw.test.yml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sloth_labels_setting_adds_sloths_labels_and_alerts_still_pair_their_windows(slo, tmp_path, promtool):
    result = compile_(slo, tmp_path, ("spec.yaml", SLOTH), settings="sloth_labels: true\n")
    assert result.code == 0, result.err
    groups = yaml.safe_load((tmp_path / "output" / "prometheus" / "shop.rules.yml").read_text())["groups"]
    rules = [r for g in groups for r in g["rules"]]
    ratio = next(r for r in rules if r.get("record") == "slo:sli_error:ratio_rate1h")
    assert {k: ratio["labels"][k] for k in ("sloth_id", "sloth_service", "sloth_slo", "sloth_window", "category")} == \
        {"sloth_id": "shop-availability", "sloth_service": "shop", "sloth_slo": "availability", "sloth_window": "1h",
         "category": "availability"}
    alerts = [r for r in rules if "alert" in r and "long_window" in r["labels"]]
    assert alerts and all(a["labels"]["sloth_severity"] == a["labels"]["slo_severity"] == "page" for a in alerts)
    missing = [r for r in rules if r.get("alert", "").endswith("DataMissing")]
    assert missing and all(a["labels"]["sloth_severity"] == "ticket" for a in missing)
    assert all("ignoring (slo_window, sloth_window)" in a["expr"] for a in alerts)
    # The generated tests expect the Sloth labels too, and fire: the windows still pair up.
    assert check(slo, tmp_path).code == 0
    plain = compile_(slo, tmp_path / "plain", ("spec.yaml", SLOTH))
    assert plain.code == 0 and b"sloth_id" not in (tmp_path / "plain" / "output" / "prometheus" / "shop.rules.yml").read_bytes()
