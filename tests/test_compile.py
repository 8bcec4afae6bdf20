"""`slo compile` end to end: golden output, determinism, promtool, and the rule contracts."""

import hashlib
import json
from pathlib import Path

import jsonschema
import promql_parser
import pytest
import yaml

from compiler import durations, names
from conftest import DATA, ROOT, SETTINGS, SLOS, shared, tree, write_spec

MAX_RAW_RANGE = durations.parse("6h")


def rule_files(out: Path) -> list[Path]:
    return sorted((out / "prometheus").glob("*.rules.yml"))


def all_rules(out: Path) -> list[dict]:
    return [r for f in rule_files(out) for g in yaml.safe_load(f.read_text())["groups"] for r in g["rules"]]


def test_the_committed_output_is_what_the_committed_slos_compile_to(tmp_path, slo):
    # output/ is committed so that a pull request shows what an SLO change does to the rules. The one
    # test that reads the repository's own slos/ and output/ (user data); the others use tests/data.
    out = tmp_path / "output"
    assert slo("compile", "--slos", ROOT / "slos", "--out", out, "--settings", ROOT / "slo-settings.yaml").code == 0
    assert tree(out) == tree(ROOT / "output"), "output/ is stale: run `make compile` and commit it"


def test_same_input_gives_byte_identical_output(compiled, tmp_path, slo):
    assert slo("compile", "--slos", SLOS, "--out", tmp_path / "again", "--settings", SETTINGS).code == 0
    assert tree(tmp_path / "again") == tree(compiled)


def test_manifest_lists_every_artifact_with_its_hash_and_source(compiled):
    manifest = json.loads((compiled / "manifest.json").read_text())
    files = {p: data for p, data in tree(compiled).items() if p != "manifest.json"}
    assert sorted(a["path"] for a in manifest["artifacts"]) == sorted(files)
    for artifact in manifest["artifacts"]:
        assert artifact["sha256"] == hashlib.sha256(files[artifact["path"]]).hexdigest()
        # Artifacts drawn from every spec (the overview) list them all.
        assert all((DATA / source).is_file() for source in artifact["source"].split(", "))


def test_stale_files_are_removed_and_nothing_else_is_left(tmp_path, slo):
    slos = tmp_path / "slos"
    for name in ("payments.yaml", "platform.yaml"):
        write_spec(slos, name, (SLOS / name).read_text())
    out = tmp_path / "output"
    assert slo("compile", "--slos", slos, "--out", out, "--settings", tmp_path / "none").code == 0
    assert "prometheus/platform.rules.yml" in tree(out)
    (slos / "platform.yaml").unlink()
    assert slo("compile", "--slos", slos, "--out", out, "--settings", tmp_path / "none").code == 0
    assert not [p for p in tree(out) if "platform" in p]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output", "slos"]  # no temporary folders left


def _ranges(node) -> list[tuple[str, int]]:
    """(metric, range in ms) of every range selector in a parsed expression."""
    found = []
    if isinstance(node, promql_parser.MatrixSelector):
        found.append((node.vector_selector.name or "", int(node.range.total_seconds() * 1000)))
    for attr in ("expr", "lhs", "rhs", "param"):
        child = getattr(node, attr, None)
        if isinstance(child, promql_parser.Expr):
            found += _ranges(child)
    for arg in getattr(node, "args", None) or []:
        found += _ranges(arg)
    return found


def test_no_rule_applies_a_range_longer_than_6h_to_raw_series(compiled):
    ranges = [r for rule in all_rules(compiled) for r in _ranges(promql_parser.parse(rule["expr"]))]
    assert any(length >= durations.parse("28d") for _, length in ranges)  # the walk does find long ranges
    for metric, length in ranges:
        assert length <= MAX_RAW_RANGE or metric.startswith("slo:"), (metric, length)


def test_every_series_and_alert_carries_the_slo_identity_and_service_labels(compiled):
    for rule in all_rules(compiled):
        labels = rule["labels"]
        if "record" in rule:
            assert {"slo_service", "slo_name", "tier"} <= set(labels), rule
        elif rule["alert"].endswith("DataMissing"):
            assert {"slo_severity", "severity", "tier"} <= set(labels) and rule["expr"].startswith("absent("), rule
        else:
            assert {"slo_severity", "severity", "long_window", "short_window", "burn_rate"} <= set(labels), rule
            assert "{slo_service=" in rule["expr"]  # identity comes from the recorded series


def test_group_by_labels_are_kept_by_every_aggregation(compiled):
    groups = yaml.safe_load((compiled / "prometheus" / "payments.rules.yml").read_text())["groups"]
    latency = next(g for g in groups if g["name"] == "slo_payments_api-latency")
    # A sum of tagged parts (`sum without (__slo_part__)`) keeps every other label.
    exprs = [r["expr"].replace(f"sum without ({names.PART})", "") for r in latency["rules"]]
    aggregations = [e for e in exprs if "sum" in e and "sum_over_time" not in e]
    assert aggregations and all("sum by (route)" in expr for expr in aggregations)
    assert all(expr.count("sum by (route)") == expr.count("sum") for expr in aggregations)


def test_one_alert_rule_per_tier_window_pair(compiled):
    alerts = [r for r in all_rules(compiled) if r.get("alert") == "PaymentsAvailabilityBudgetBurn"]
    assert [(a["labels"]["long_window"], a["labels"]["short_window"], a["labels"]["burn_rate"],
             a["labels"]["slo_severity"], a["labels"]["severity"]) for a in alerts] == [
        ("1h", "5m", "14.4", "page", "critical"), ("6h", "30m", "6", "page", "critical"),
        ("1d", "2h", "3", "ticket", "warning"), ("3d", "6h", "1", "ticket", "warning")]


def crd_validator() -> jsonschema.Draft7Validator:
    crd = yaml.safe_load(shared("contracts", "prometheus-operator", "monitoring.coreos.com_prometheusrules.yaml")
                         .read_text())
    schema = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")["schema"]["openAPIV3Schema"]
    # The schema itself is not checked: its patterns are Go regular expressions (`^(?i)...`).
    return jsonschema.Draft7Validator(schema)


def test_kubernetes_manifest_follows_the_prometheusrule_crd(compiled):
    validator = crd_validator()
    for path in sorted((compiled / "kubernetes").glob("*.yml")):
        manifest = yaml.safe_load(path.read_text())
        validator.validate(manifest)
        assert (manifest["apiVersion"], manifest["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
        rules = yaml.safe_load((compiled / "prometheus" / path.name.replace(".yml", ".rules.yml")).read_text())
        assert manifest["spec"]["groups"] == rules["groups"]


def test_the_crd_check_can_fail():
    with pytest.raises(jsonschema.ValidationError):
        crd_validator().validate({"spec": {"groups": [{"rules": []}]}})  # a group needs a name


def test_shared_examples_compile_unchanged_and_pass_promtool(tmp_path, slo, promtool):
    examples, out = shared("examples"), tmp_path / "output"
    result = slo("compile", "--slos", examples, "--out", out, "--settings", tmp_path / "none")
    assert (result.code, result.err) == (0, "")
    services = {p.name.removesuffix(".rules.yml") for p in rule_files(out)}
    assert services == {yaml.safe_load(p.read_text())["service"] for p in examples.glob("*.yaml")}
    assert slo("check", "--out", out, "--slos", examples, "--settings", tmp_path / "none").code == 0


@pytest.mark.parametrize("make", [lambda p: (p / "notes.txt").write_text("mine\n"), lambda p: p.rmdir() or p.write_text("x")],
                         ids=["folder-of-other-files", "a-file"])
def test_an_out_folder_the_compiler_did_not_write_is_never_replaced(tmp_path, slo, make):
    out = tmp_path / "precious"
    out.mkdir()
    make(out)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = slo("compile", "--slos", SLOS, "--out", out, "--settings", tmp_path / "none")
    assert result.code == 1 and len(result.lines) == 1 and "choose another --out" in result.err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
