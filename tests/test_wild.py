"""Specs as users of Sloth, Pyrra and OpenSLO write them (tests/data/wild/): each compiles to the exact
alert labels its own tool would give, or is refused with one exact line."""

import shutil
from pathlib import Path

import pytest
import yaml

WILD = Path(__file__).parent / "data" / "wild"
PER_PAIR = ("long_window", "short_window", "burn_rate")


def compile_one(slo, tmp_path, monkeypatch, *files: Path):
    """`slo compile` of these corpus files alone, run where `slos/` is, with default settings."""
    for source in files:
        (tmp_path / "slos").mkdir(parents=True, exist_ok=True)
        shutil.copy(source, tmp_path / "slos" / source.name)
    monkeypatch.chdir(tmp_path)
    return slo("compile", "--slos", "slos", "--out", "output", "--settings", "absent.yaml")


def alerts(output: Path) -> dict[tuple[str, str], dict[str, str]]:
    """{(alert name, tier): labels of its rules without the per-pair ones}; all pairs of a tier agree."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for path in sorted((output / "prometheus").glob("*.rules.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    labels = {k: v for k, v in rule["labels"].items() if k not in PER_PAIR}
                    assert found.setdefault((rule["alert"], labels["slo_severity"]), labels) == labels
    return found


@pytest.mark.parametrize("name, expected", [
    ("v1-label-precedence.yaml", {
        ("SearchQueriesBudgetBurn", "page"): {"channel": "search-oncall", "severity": "critical",
                                              "slo_severity": "page"},
        ("SearchQueriesBudgetBurn", "ticket"): {"channel": "search-alerts", "severity": "info",
                                                "slo_severity": "ticket"},
        ("SearchQueriesDataMissing", "ticket"): {"channel": "search-alerts", "severity": "info",
                                                 "slo_severity": "ticket", "team": "search-api"}}),
    ("sloth-severity-info.yaml", {
        ("MyServiceHighErrorRate", "page"): {"category": "availability", "severity": "info",
                                             "routing_key": "myteam", "slo_severity": "page"},
        ("MyServiceHighErrorRate", "ticket"): {"category": "availability", "severity": "info",
                                               "slack_channel": "#alerts-myteam", "slo_severity": "ticket"},
        ("MyServiceHighErrorRateDataMissing", "ticket"): {
            "category": "availability", "severity": "info", "slack_channel": "#alerts-myteam",
            "slo_severity": "ticket", "owner": "myteam", "tier": "2"}}),
    ("pyrra-severity-label.yaml", {
        ("PrometheusHttpErrorsBudgetBurn", "page"): {"severity": "critical", "slo_severity": "page"},
        ("PrometheusHttpErrorsBudgetBurn", "ticket"): {"severity": "info", "slo_severity": "ticket"},
        ("PrometheusHttpErrorsDataMissing", "ticket"): {
            "severity": "info", "slo_severity": "ticket", "team": "observability"}}),
])
def test_the_labels_a_spec_sets_reach_every_alert(slo, tmp_path, monkeypatch, name, expected):
    result = compile_one(slo, tmp_path, monkeypatch, WILD / name)
    assert (result.code, result.err) == (0, "")
    assert alerts(tmp_path / "output") == expected


@pytest.mark.parametrize("twin", sorted(p.name for p in (WILD / "twins").glob("*.yaml") if ".v1." not in p.name))
def test_a_spec_in_each_format_gives_the_alert_labels_of_its_v1_twin(slo, tmp_path, monkeypatch, twin):
    foreign, v1 = WILD / "twins" / twin, WILD / "twins" / twin.replace(".yaml", ".v1.yaml")
    assert compile_one(slo, tmp_path / "foreign", monkeypatch, foreign).code == 0
    assert compile_one(slo, tmp_path / "v1", monkeypatch, v1).code == 0
    ours = alerts(tmp_path / "foreign" / "output")
    assert ours and ours == alerts(tmp_path / "v1" / "output")


def test_import_and_diff_show_the_severity_of_each_tier(slo, tmp_path):
    result = slo("import", WILD / "sloth-severity-info.yaml")
    assert result.code == 0, result.err
    assert "  # severity: page alerts info, ticket alerts info\n  - name: requests-availability\n" in result.out
