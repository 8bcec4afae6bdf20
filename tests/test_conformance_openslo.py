"""OpenSLO v1: the SDK examples and the schema test cases give the outcome their PROVENANCE lists.

Valid objects are accepted; an SLO among them compiles where the compiler can measure it and is
otherwise refused with lines that say what is not supported. Invalid objects are refused with a
line that says what is wrong (not merely "not supported").
"""

import re
from pathlib import Path

import pytest

from compiler import load
from compiler.problems import InputError
from conftest import SHARED, shared, write_spec

# The corpus tests need ../shared; the inline OpenSLO tests below do not.
OPENSLO = SHARED / "conformance" / "openslo"
CASES = OPENSLO / "schema-test-v1"

# PROVENANCE.md: the files that MUST FAIL validation, relative to schema-test-v1/v1/.
MUST_FAIL = {"invalid-apiversion.yaml", "alert-condition/alert-condition-no-condition.yaml",
             "alert-condition/alert-condition-no-sev.yaml",
             "alert-notification-target/alert-notification-target-no-target.yaml",
             "alert-policy/alert-policy-malformed-cond.yaml", "alert-policy/alert-policy-malformed-targetref.yaml",
             "alert-policy/alert-policy-many-cond.yaml", "alert-policy/alert-policy-no-cond.yaml",
             "alert-policy/alert-policy-no-notification.yaml", "service/service-long-description.yaml",
             # Not in the schema test table; both set good and bad, which the spec forbids.
             "sli/sli-ratio-good-and-bad.yaml", "sli/sli-description-ratio-inline-metricsource.yaml"}
LINE = re.compile(r"^\S+:\d+:\d+: \S*:? ?.+")


def outcome(path: Path) -> list[str]:
    """The problems of one file, as `slo compile` prints them; empty when it is accepted."""
    try:
        load.spec_documents(path.name, path.read_text())
    except InputError as exc:
        return [str(p) for p in exc.problems]
    return []


def schema_cases() -> list[Path]:
    """The schema test cases; without the corpus one case that skips, saying where it should be."""
    return sorted((CASES / "v1").rglob("*.yaml")) or [CASES / "v1"]


@pytest.mark.parametrize("path", schema_cases(), ids=lambda p: str(p.relative_to(CASES / "v1")))
def test_schema_test_case_gives_the_listed_outcome(path):
    shared("conformance", "openslo", "schema-test-v1", "v1")
    problems = outcome(path)
    assert all(LINE.match(p) for p in problems), problems
    if str(path.relative_to(CASES / "v1")) in MUST_FAIL:
        assert problems and any("not supported" not in p for p in problems), problems
    else:
        # Valid: accepted, or (an SLO the compiler cannot measure) refused only for what it does not support.
        assert all("is not supported" in p for p in problems), problems
        assert not problems or "/slo/" in str(path)


def test_the_top_level_invalid_apiversion_is_refused():
    assert outcome(shared("conformance", "openslo", "schema-test-v1", "invalid-apiversion.yaml")) == [
        "invalid-apiversion.yaml:1:13: apiVersion: apiVersion 'foo' with kind 'Service' is not a known spec; known: "
        "sloth.slok.dev/v1 PrometheusServiceLevel, pyrra.dev/v1alpha1 ServiceLevelObjective, openslo/v1 SLO, "
        "openslo/v1 SLI, openslo/v1 Service, openslo/v1 DataSource, openslo/v1 AlertPolicy, openslo/v1 AlertCondition, "
        "openslo/v1 AlertNotificationTarget, openslo/v1alpha SLO, openslo/v1alpha Service, version: prometheus/v1"]


def test_sdk_examples_are_valid_and_their_slos_refused_for_what_is_not_supported():
    files = sorted(shared("conformance", "openslo", "sdk-v1-examples").glob("*.yaml"))
    assert len(files) == 7
    for path in files:
        problems = outcome(path)
        assert all("is not supported" in p for p in problems), problems
    # Its calendar window (1w, isRolling: false) is a calendar week here: not among the refusals.
    refused = outcome(OPENSLO / "sdk-v1-examples" / "slos.yaml")
    assert refused and not any("timeWindow" in p for p in refused), refused


def test_schema_case_slos_name_each_unsupported_feature_at_its_place():
    problems = outcome(shared("conformance", "openslo", "schema-test-v1", "v1", "slo",
                              "slo-no-indicatorref-rolling-alerts.yaml"))
    assert [p.split(": ", 2)[:2] for p in problems] == [
        ["slo-no-indicatorref-rolling-alerts.yaml:17:11", "spec.indicator.spec.ratioMetric.good.metricSource"],
        ["slo-no-indicatorref-rolling-alerts.yaml:23:11", "spec.indicator.spec.ratioMetric.total.metricSource"],
        ["slo-no-indicatorref-rolling-alerts.yaml:29:17", "spec.timeWindow[0].duration"],
        ["slo-no-indicatorref-rolling-alerts.yaml:35:3", "spec.alertPolicies"]]
    assert "metric source 'Datadog' is not supported" in problems[0]
    assert "time window duration '1M' is not supported" in problems[2]


OPENSLO_V1 = """\
apiVersion: openslo/v1
kind: Service
metadata: {name: checkout}
spec: {description: Checkout API}
---
apiVersion: openslo/v1
kind: DataSource
metadata: {name: prom}
spec: {type: Prometheus, connectionDetails: {url: "http://prometheus:9090"}}
---
apiVersion: openslo/v1
kind: SLI
metadata: {name: checkout-errors}
spec:
  ratioMetric:
    counter: true
    bad:
      metricSource: {metricSourceRef: prom, spec: {query: 'http_requests_total{job="checkout", code=~"5.."}'}}
    total:
      metricSource: {metricSourceRef: prom, spec: {query: 'http_requests_total{job="checkout"}'}}
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: availability}
spec:
  service: checkout
  indicatorRef: checkout-errors
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{displayName: Good, targetPercent: 99.5}]
"""


def test_a_supported_openslo_v1_slo_compiles_and_passes_promtool(tmp_path, slo, promtool):
    write_spec(tmp_path / "slos", "checkout.yaml", OPENSLO_V1)
    out = tmp_path / "out"
    result = slo("compile", "--slos", tmp_path / "slos", "--out", out, "--settings", tmp_path / "none")
    assert (result.code, result.err) == (0, "")
    rules = (out / "prometheus" / "checkout.rules.yml").read_text()
    assert 'sum(rate(http_requests_total{job="checkout", code=~"5.."}[5m]))' in rules
    assert "slo:sli_error:ratio_rate28d" in rules and "vector(0.995)" in rules
    assert slo("check", "--out", out, "--slos", tmp_path / "slos", "--settings", tmp_path / "none").code == 0


def test_openslo_v1_problems_point_into_the_file(tmp_path, slo):
    bad = OPENSLO_V1.replace("targetPercent: 99.5", "targetPercent: 100").replace("Occurrences", "Timeslices")
    write_spec(tmp_path / "slos", "checkout.yaml", bad)
    result = slo("compile", "--slos", tmp_path / "slos", "--out", tmp_path / "out", "--settings", tmp_path / "none")
    assert result.lines == [f"{tmp_path}/slos/checkout.yaml:29:20: spec.budgetingMethod: budgeting method "
                            "Timeslices is not supported: only Occurrences (good events / all events) is measured"]
    write_spec(tmp_path / "slos", "checkout.yaml", OPENSLO_V1.replace("targetPercent: 99.5", "targetPercent: 100"))
    result = slo("compile", "--slos", tmp_path / "slos", "--out", tmp_path / "out", "--settings", tmp_path / "none")
    assert result.lines == [f"{tmp_path}/slos/checkout.yaml:30:51: spec.objectives[0].targetPercent: must be "
                            "above 0 and below 100, got 100"]


def test_a_problem_in_a_referenced_sli_points_at_the_sli_object(tmp_path, slo):
    two_slos = OPENSLO_V1 + "---\n" + OPENSLO_V1.split("---\n")[-1].replace("name: availability", "name: second")
    bad = two_slos.replace("query: 'http_requests_total{job=\"checkout\"}'", "query: 'http_requests_total{'")
    write_spec(tmp_path / "slos", "checkout.yaml", bad)
    result = slo("compile", "--slos", tmp_path / "slos", "--out", tmp_path / "out", "--settings", tmp_path / "none")
    # Both SLOs read the SLI; its total query is on line 20 of the file.
    assert result.code == 1 and result.lines and all(
        line.startswith(f"{tmp_path}/slos/checkout.yaml:20:") and "invalid PromQL" in line for line in result.lines), result.err
