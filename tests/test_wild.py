"""Specs as users of Sloth, Pyrra and OpenSLO write them (tests/data/wild/, one file per class, written
from each format's docs): each compiles to the exact alert labels its own tool would give, or is refused
with exact lines that name the file as the command was given it."""

import shutil
from pathlib import Path

import pytest
import yaml

WILD = Path(__file__).parent / "data" / "wild"
PER_PAIR = ("long_window", "short_window", "burn_rate")


def compile_one(slo, root: Path, monkeypatch, *files: Path):
    """`slo compile` of these corpus files alone, run in `root` where they are under `slos/`."""
    (root / "slos").mkdir(parents=True, exist_ok=True)
    for source in files:
        shutil.copy(source, root / "slos" / source.name)
    monkeypatch.chdir(root)
    return slo("compile", "--slos", "slos", "--out", "output", "--settings", "absent.yaml")


def rules(output: Path) -> list[dict]:
    return [rule for path in sorted((output / "prometheus").glob("*.rules.yml"))
            for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"]]


def alerts(output: Path) -> dict[tuple[str, str], dict[str, str]]:
    """{(alert name, tier): labels of its rules without the per-pair ones}; all pairs of a tier agree."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for rule in rules(output):
        if "alert" in rule:
            labels = {k: v for k, v in rule["labels"].items() if k not in PER_PAIR}
            assert found.setdefault((rule["alert"], labels["slo_severity"]), labels) == labels
    return found


def defaults(alert: str, **service_labels: str) -> dict[tuple[str, str], dict[str, str]]:
    """The alerts of an SLO that sets no alert labels: the default severity of each tier."""
    return {(f"{alert}BudgetBurn", "page"): {"severity": "critical", "slo_severity": "page"},
            (f"{alert}BudgetBurn", "ticket"): {"severity": "warning", "slo_severity": "ticket"},
            (f"{alert}DataMissing", "ticket"): {"severity": "warning", "slo_severity": "ticket", **service_labels}}


COMPILED = {
    # Labels: defaults < service < SLO < alerting < tier labels.
    "v1-label-precedence.yaml": {
        ("SearchQueriesBudgetBurn", "page"): {"channel": "search-oncall", "severity": "critical",
                                              "slo_severity": "page"},
        ("SearchQueriesBudgetBurn", "ticket"): {"channel": "search-alerts", "severity": "info",
                                                "slo_severity": "ticket"},
        ("SearchQueriesDataMissing", "ticket"): {"channel": "search-alerts", "severity": "info",
                                                 "slo_severity": "ticket", "team": "search-api"}},
    "sloth-severity-info.yaml": {
        ("MyServiceHighErrorRate", "page"): {"category": "availability", "severity": "info",
                                             "routing_key": "myteam", "slo_severity": "page"},
        ("MyServiceHighErrorRate", "ticket"): {"category": "availability", "severity": "info",
                                               "slack_channel": "#alerts-myteam", "slo_severity": "ticket"},
        ("MyServiceHighErrorRateDataMissing", "ticket"): {
            "category": "availability", "severity": "info", "slack_channel": "#alerts-myteam",
            "slo_severity": "ticket", "owner": "myteam", "tier": "2"}},
    # The object's name once in the alert name, though it names both the service and the SLO.
    "pyrra-severity-label.yaml": {
        ("PrometheusHttpErrorsBudgetBurn", "page"): {"severity": "critical", "slo_severity": "page"},
        ("PrometheusHttpErrorsBudgetBurn", "ticket"): {"severity": "info", "slo_severity": "ticket"},
        ("PrometheusHttpErrorsDataMissing", "ticket"): {"severity": "info", "slo_severity": "ticket",
                                                        "team": "observability"}},
    # null is absent: no grouping, no labels, the tiers on.
    "pyrra-generated-nulls.yaml": defaults("ApiErrors"),
    "v1-nulls.yaml": {**defaults("CartCheckout"),
                      ("CartCheckoutBudgetBurn", "ticket"): {"severity": "low", "slo_severity": "ticket"},
                      ("CartCheckoutDataMissing", "ticket"): {"severity": "low", "slo_severity": "ticket"}},
    "pyrra-bare-apiversion.yaml": defaults("GrafanaHttp"),
    "openslo-promql.yaml": defaults("WebWebAvailability"),
    # metadata.labels are the SLO's labels: a list of values joined, a Kubernetes-style name left out.
    "openslo-labels.yaml": defaults("WebWebAvailability", env="prod", team="team-a,team-b", tier="critical"),
    # Sloth generates no burn-rate alerts for OpenSLO specs; the missing-data ticket stays.
    "openslo-v1alpha-no-timewindows.yaml": {("CatalogHttpAvailability0DataMissing", "ticket"): {
        "severity": "warning", "slo_severity": "ticket"}},
    "sloth-window-placeholders.yaml": {**defaults("SearchQueries"), **defaults("SearchSuggest")},
    "sloth-tier-annotations.yaml": defaults("MyserviceRequestsAvailability"),
    "sloth-crd-tier-annotations.yaml": defaults("MyserviceRequestsAvailability"),
    "v1-latency-decimal-thresholds.yaml": {**defaults("MediaUpload"), **defaults("MediaThumbnail"),
                                           **defaults("MediaTranscode")},
}

REFUSED = {
    "v1-wrong-types.yaml": [
        "3:1: labels: must be a mapping of keys, got a list",
        "5:5: slos[0]: must be a mapping of keys, got nothing (null)",
        "7:16: slos[1].objective: must be a number, got '99.9'",
        "12:19: slos[1].sli.ratio.group_by: must be a list, got 'route'",
        "14:13: slos[1].alerting.page: must be a mapping of keys, got 'yes'"],
    "sloth-unknown-placeholder.yaml": [
        "9:22: slos[0].sli.events.error_query: unknown placeholder {{.Service}}: the only one is {{.window}} "
        "(or {{.Window}}), the range of each window"],
    "pyrra-manifest-with-other-objects.yaml": [
        "3:7: kind: ConfigMap 'api-config' (v1) is not an SLO object: files here hold SLO specs only; move it to "
        "a manifest of its own",
        "24:7: kind: Route 'api' (route.openshift.io/v1) is not an SLO object: files here hold SLO specs only; "
        "move it to a manifest of its own"],
    "pyrra-window-1d.yaml": [
        "8:11: spec.window: a 1d period is too short for the page tier 1h/5m (written for 30d): scaled to 1d, its "
        "long window would be 2m, shorter than 4 scrape intervals (4 x 1m = 4m); the shortest period these tiers "
        "allow is 3d; use a longer window or adapt `tiers` in the settings"],
    "v1-latency-bare-300.yaml": [
        "9:20: slos[0].sli.latency.threshold: a number is seconds, and 300 seconds is over a minute: did you "
        "mean 300ms? Write the unit (300ms, 2.5s)"],
}


def test_every_corpus_file_is_tested():
    assert sorted(COMPILED.keys() | REFUSED.keys()) == sorted(p.name for p in WILD.glob("*.yaml"))


@pytest.mark.parametrize("name", sorted(COMPILED))
def test_a_spec_from_the_wild_compiles_to_its_exact_alert_labels(slo, tmp_path, monkeypatch, name):
    result = compile_one(slo, tmp_path, monkeypatch, WILD / name)
    assert (result.code, result.err) == (0, "")
    assert alerts(tmp_path / "output") == COMPILED[name]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_spec_from_the_wild_is_refused_with_exact_lines(slo, tmp_path, monkeypatch, name):
    result = compile_one(slo, tmp_path, monkeypatch, WILD / name)
    assert result.code == 1 and result.out == "" and not (tmp_path / "output").exists()
    assert result.lines == [f"slos/{name}:{line}" for line in REFUSED[name]]


@pytest.mark.parametrize("twin", sorted(p.name for p in (WILD / "twins").glob("*.yaml") if ".v1." not in p.name))
def test_a_spec_in_each_format_gives_the_alert_labels_of_its_v1_twin(slo, tmp_path, monkeypatch, twin):
    foreign, v1 = WILD / "twins" / twin, WILD / "twins" / twin.replace(".yaml", ".v1.yaml")
    assert compile_one(slo, tmp_path / "foreign", monkeypatch, foreign).code == 0
    assert compile_one(slo, tmp_path / "v1", monkeypatch, v1).code == 0
    ours = alerts(tmp_path / "foreign" / "output")
    assert ours and ours == alerts(tmp_path / "v1" / "output")


@pytest.mark.parametrize("name", ["sloth-tier-annotations.yaml", "sloth-crd-tier-annotations.yaml"])
def test_sloths_tier_annotations_are_merged_over_the_slos(slo, tmp_path, monkeypatch, name):
    assert compile_one(slo, tmp_path, monkeypatch, WILD / name).code == 0
    found = {(r["alert"], r["labels"]["slo_severity"], k, v) for r in rules(tmp_path / "output") if "alert" in r
             for k, v in r["annotations"].items() if k in ("summary", "playbook")}
    assert found == {
        ("MyserviceRequestsAvailabilityBudgetBurn", "page", "summary", "myservice is losing requests now"),
        ("MyserviceRequestsAvailabilityBudgetBurn", "ticket", "summary", "High error rate on myservice"),
        ("MyserviceRequestsAvailabilityBudgetBurn", "ticket", "playbook",
         "https://wiki.example.com/myservice/slow-burn"),
        ("MyserviceRequestsAvailabilityDataMissing", "ticket", "summary", "High error rate on myservice")}


def test_every_spelling_of_the_window_placeholder_becomes_each_window(slo, tmp_path, monkeypatch):
    assert compile_one(slo, tmp_path, monkeypatch, WILD / "sloth-window-placeholders.yaml").code == 0
    base = {r["labels"]["slo_name"]: r["expr"] for r in rules(tmp_path / "output")
            if r.get("record") == "slo:sli_errors:rate5m"}
    assert "sum(rate(search_total{code=~\"5..\"}[5m])) + sum(rate(search_timeouts_total[5m]))" in base["queries"]
    assert base["suggest"] == "(1 - avg_over_time(suggest_ok_ratio[5m])) >= 0"


def test_decimal_latency_thresholds_name_the_bucket_of_those_seconds(slo, tmp_path, monkeypatch):
    assert compile_one(slo, tmp_path, monkeypatch, WILD / "v1-latency-decimal-thresholds.yaml").code == 0
    text = "".join(p.read_text() for p in (tmp_path / "output" / "prometheus").glob("*.rules.yml"))
    for name, le in (("upload", 'le=~"2\\\\.50*"'), ("thumbnail", 'le=~"0\\\\.50*"'), ("transcode", 'le=~"90(\\\\.0*)?"')):
        assert f"{name}_duration_seconds_bucket{{job=\"media\", {le}}}" in text, name


def test_an_openslo_v1alpha_slo_without_time_windows_gets_the_default_period(slo, tmp_path, monkeypatch):
    assert compile_one(slo, tmp_path, monkeypatch, WILD / "openslo-v1alpha-no-timewindows.yaml").code == 0
    windows = {r["labels"]["slo_window"] for r in rules(tmp_path / "output") if "slo_window" in r.get("labels", {})}
    assert windows == {"4m", "30d"}  # the base window and the settings' default_window, alerts off
    result = slo("import", "slos/openslo-v1alpha-no-timewindows.yaml")
    assert ("    # no timeWindows: the period is the settings' default_window (30d unless set), as Sloth gives such "
            "an SLO its default period\n    objective: 99") in result.out


def test_import_says_a_pyrra_object_had_no_group_in_its_api_version(slo):
    result = slo("import", WILD / "pyrra-bare-apiversion.yaml")
    assert result.code == 0, result.err
    assert "# apiVersion v1alpha1 has no group: read as pyrra.dev/v1alpha1, as Pyrra's file loader does\n" \
           "service: grafana-http" in result.out


def test_import_and_diff_show_the_severity_of_each_tier(slo):
    result = slo("import", WILD / "sloth-severity-info.yaml")
    assert result.code == 0, result.err
    assert "  # severity: page alerts info, ticket alerts info\n  - name: requests-availability\n" in result.out


@pytest.mark.parametrize("where, slos, shown", [
    ("project", "slos", "slos/bad.yaml"),  # the usual: from the project's root
    ("project/slos", ".", "bad.yaml"),  # from inside the folder of specs
    ("elsewhere", "../project/slos", "../project/slos/bad.yaml"),  # from outside the project
])
def test_problems_name_the_file_as_the_command_was_given_it(slo, tmp_path, monkeypatch, where, slos, shown):
    (tmp_path / "project" / "slos").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    shutil.copy(WILD / "v1-latency-bare-300.yaml", tmp_path / "project" / "slos" / "bad.yaml")
    monkeypatch.chdir(tmp_path / where)
    result = slo("compile", "--slos", slos, "--out", "out", "--settings", "absent.yaml")
    assert result.code == 1 and len(result.lines) == 1 and result.lines[0].startswith(f"{shown}:9:20: ")
    assert Path(shown).is_file()  # it opens from where the user stands
    absolute = tmp_path / "project" / "slos"
    assert slo("compile", "--slos", absolute, "--out", "out", "--settings", "absent.yaml").lines[0] \
        .startswith(f"{absolute / 'bad.yaml'}:9:20: ")
